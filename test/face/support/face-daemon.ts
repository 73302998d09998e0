// A real daemon (in this process, listening on a real loopback socket) with the real desktop
// backups plugin and the USB stand-in (usb-fixture.ts), over collections made by real Anki.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startDaemon, type RunningDaemon } from '../../../src/daemon/daemon.js';
import { daemonPaths } from '../../../src/daemon/paths.js';
import type { DaemonPlugin } from '../../../src/daemon/plugins.js';
import { desktopSyncPlugin } from '../../../src/sync/desktop/daemon-plugin.js';
import { isolatedHome, type IsolatedHome } from '../../daemon/support/isolated.js';
import { FixturePhone, fixturePlugin, makeCollections } from './usb-fixture.js';

export interface FaceDaemon {
  home: IsolatedHome;
  daemon: RunningDaemon;
  phone: FixturePhone;
  token: string;
  api<T = unknown>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T; headers: Headers }>;
  stop(): Promise<void>;
}

export async function startFaceDaemon(opts: { stepMs: number; config?: Record<string, unknown> }): Promise<FaceDaemon> {
  const home = isolatedHome({ api: { port: 0 }, ...(opts.config ?? {}) });
  home.apply();
  const files = await makeCollections(path.join(home.root, 'collections'));
  const phone = new FixturePhone(files);
  const paths = daemonPaths();
  const desktop = desktopSyncPlugin({ dataDir: paths.dataDir, stateDb: paths.stateDb });
  const fixture = fixturePlugin(phone, { dataDir: paths.dataDir, stateDb: paths.stateDb, stepMs: opts.stepMs });
  const daemon = await startDaemon({ plugins: [desktop as unknown as DaemonPlugin, fixture], shutdownGraceMs: 3000 });
  const token = readFileSync(paths.tokenFile, 'utf8').trim();
  const api = async <T>(method: string, url: string, body?: unknown) => {
    const res = await fetch(`${daemon.url}${url}`, {
      method,
      redirect: 'manual',
      headers: { authorization: `Bearer ${token}`, 'x-ankibridge-client': 'cli', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T, headers: res.headers };
  };
  return {
    home,
    daemon,
    phone,
    token,
    api,
    async stop() {
      await daemon.stop('test done');
      fixture.close();
      desktop.close();
    },
  };
}
