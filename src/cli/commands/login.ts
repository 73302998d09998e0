/**
 * `ankibridge login` / `ankibridge logout`: exchange a user name and password for the sync
 * server's host key and keep only the key (OS keyring, else a 0600 file), or forget it. Works
 * without the daemon: the daemon reads the key at every sync.
 */
import { makeError } from '../../errors/index.js';
import { GeneralErrors } from '../../errors/codes/general.js';
import { readConfigFile } from '../../daemon/config/store.js';
import { daemonPaths } from '../../daemon/paths.js';
import { CloudSync, defaultCredentialStore, isAnkiWeb, normalizeEndpoint } from '../../sync/cloud/index.js';
import { askHidden, askLine, readStdinSecret, stdinIsTerminal } from '../prompt.js';
import { runVerb } from '../daemon-verb.js';
import type { RegisterCommand } from './index.js';

const EXIT_CODES =
  'Exit codes: 0 ok; 64 usage (e.g. no terminal to ask and no --password-stdin); 65 bad config file;\n' +
  '69 the server could not be reached or failed; 74 the key could not be stored anywhere;\n' +
  '75 cancelled, or the server is busy (try again); 77 the server refused the user name or password.';

/** --endpoint, else cloud.endpoint in the config, else AnkiWeb. */
function resolveEndpoint(option: string | undefined): string {
  if (option) return normalizeEndpoint(option);
  const { config } = readConfigFile(daemonPaths().configFile);
  return normalizeEndpoint(config.cloud.endpoint ?? undefined);
}

function serverName(endpoint: string): string {
  return isAnkiWeb(endpoint) ? 'AnkiWeb' : endpoint;
}

export const registerLogin: RegisterCommand = (program, ctx) => {
  program
    .command('login')
    .description('Logs in to AnkiWeb or your sync server and keeps only the sync key it gives (never the password).')
    .option('--endpoint <url>', 'the sync server (default: cloud.endpoint in the config, else AnkiWeb)')
    .option('-u, --username <name>', 'the AnkiWeb e-mail or sync server user name (asked for when missing)')
    .option('--password-stdin', 'read the password from standard input (for scripts) instead of asking at the terminal')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
The password is asked for without echo at the terminal, or read from standard input with
--password-stdin (one trailing newline is dropped). It is sent once to the server, which answers
with a sync key; only that key is kept: in the OS keyring (Secret Service on Linux, Keychain,
Credential Manager), or — when there is none, or it is locked or does not answer within 3 s —
in sync-keys.json in the ankibridge config folder, readable by you only (mode 0600). The output
says which. The running daemon uses the new key at its next sync.

Examples:
  ankibridge login                                   # asks for user name and password
  ankibridge login --endpoint http://nas.local:8080/ -u alice
  printf '%s\\n' "$PW" | ankibridge login -u alice --password-stdin --json

${EXIT_CODES}`,
    )
    .action(async (opts: { endpoint?: string; username?: string; passwordStdin?: boolean; json?: boolean }) =>
      runVerb(ctx, opts.json === true, async () => {
        const endpoint = resolveEndpoint(opts.endpoint);
        const canAsk = stdinIsTerminal() && !opts.passwordStdin;
        let user = opts.username?.trim() ?? '';
        if (!user) {
          if (!canAsk) throw makeError(GeneralErrors.USAGE, { reason: 'no user name: pass --username (standard input is not a terminal to ask at)' });
          user = await askLine(`${isAnkiWeb(endpoint) ? 'AnkiWeb e-mail' : 'User name'} for ${serverName(endpoint)}: `);
          if (!user) throw makeError(GeneralErrors.USAGE, { reason: 'the user name is empty' });
        }
        let password: string;
        if (opts.passwordStdin) password = await readStdinSecret();
        else if (canAsk) password = await askHidden(`Password for ${user} (not shown, not stored): `);
        else throw makeError(GeneralErrors.USAGE, { reason: 'standard input is not a terminal to ask for the password at: pipe it in with --password-stdin' });
        if (!password) throw makeError(GeneralErrors.USAGE, { reason: 'the password is empty' });

        const credentials = defaultCredentialStore(daemonPaths().configDir);
        const r = await CloudSync.login({ endpoint, user, password, credentials });
        const inFile = credentials.fallbackReason !== undefined;
        return {
          data: { endpoint: r.endpoint, user: r.user, storedIn: r.where, ...(inFile ? { fileMode: '0600', keyringProblem: credentials.fallbackReason } : {}) },
          human: [
            `Logged in to ${serverName(r.endpoint)} as ${r.user}.`,
            inFile
              ? `The sync key is stored in ${r.where} (readable by you only, mode 0600), because the OS keyring could not take it: ${credentials.fallbackReason}`
              : `The sync key is stored in ${r.where}.`,
            'The password was not stored.',
          ],
        };
      }),
    );

  program
    .command('logout')
    .description('Forgets the sync key for AnkiWeb or your sync server (from the OS keyring and the key file).')
    .option('--endpoint <url>', 'the sync server (default: cloud.endpoint in the config, else AnkiWeb)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `\nScheduled syncs stop with CLOUD_NOT_LOGGED_IN until you log in again.\n\n${EXIT_CODES}`)
    .action(async (opts: { endpoint?: string; json?: boolean }) =>
      runVerb(ctx, opts.json === true, async () => {
        const endpoint = resolveEndpoint(opts.endpoint);
        const credentials = defaultCredentialStore(daemonPaths().configDir);
        const { failed } = await credentials.forget(endpoint);
        return {
          data: { endpoint, ...(failed ? { keyringProblem: failed } : {}) },
          human: failed
            ? [`Forgot the sync key for ${serverName(endpoint)} in the key file; the OS keyring could not be reached (${failed}), so a key kept there stays until it can.`]
            : [`Forgot the sync key for ${serverName(endpoint)}.`],
        };
      }),
    );
};
