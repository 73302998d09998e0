import envPaths from 'env-paths';
import { join } from 'node:path';

/**
 * Every folder the daemon uses, by the platform's conventions (env-paths honours XDG_CONFIG_HOME,
 * XDG_DATA_HOME and XDG_STATE_HOME on Linux), so a user or a test gets an isolated instance by
 * setting those variables.
 */
export interface DaemonPaths {
  configDir: string;
  configFile: string;
  dataDir: string;
  stateDb: string;
  /** Files that describe the running process: lock, address, tokens. Under the data folder so
   * that XDG_DATA_HOME alone isolates an instance. */
  runtimeDir: string;
  lockFile: string;
  runtimeFile: string;
  tokenFile: string;
  readTokenFile: string;
  logDir: string;
  logFile: string;
}

export const APP_NAME = 'ankibridge';

export function daemonPaths(): DaemonPaths {
  const p = envPaths(APP_NAME, { suffix: '' });
  const runtimeDir = join(p.data, 'runtime');
  return {
    configDir: p.config,
    configFile: join(p.config, 'config.json'),
    dataDir: p.data,
    stateDb: join(p.data, 'state.sqlite'),
    runtimeDir,
    lockFile: join(runtimeDir, 'daemon.lock'),
    runtimeFile: join(runtimeDir, 'daemon.json'),
    tokenFile: join(p.config, 'api-token'),
    readTokenFile: join(p.config, 'api-token-read'),
    logDir: p.log,
    logFile: join(p.log, 'daemon.log'),
  };
}
