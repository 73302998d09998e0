/**
 * Where the sync key (hkey) is kept. Never the password: login exchanges it for the key at once
 * (doc §3.1) and forgets it. The OS credential store comes first (@napi-rs/keyring: Keychain,
 * Windows Credential Manager, and on Linux the freedesktop Secret Service over D-Bus — the only
 * backend built into its Linux binary; the key goes into the collection behind the "default"
 * alias, the login keyring). A locked keyring can block on an unlock prompt, so every call races
 * a timeout; when the store is missing, locked or slow, a 0600 file in ankibridge's own config
 * folder is used instead.
 *
 * Every keyring operation runs in a short-lived child process (keyring-child.ts), killed when it
 * does not answer in time. Checked against a real Secret Service (gnome-keyring-daemon with Xvfb
 * and its real gcr-prompter, test/cloud/login-keyring.test.ts): on a locked keyring both a read
 * and a write open the unlock prompt and wait for it forever, inside native code nothing can
 * cancel — in-process, that call held a libuv thread for good and even blocked process exit
 * (Node joins its thread pool on exit). With no prompter to show, a read of a locked keyring
 * comes back empty instead, told apart from "no key" by a search, which answers IsLocked.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeError } from '../../errors/define.js';
import { CloudErrors } from '../../errors/codes/cloud.js';
import { isAnkibridgeError } from '../../errors/ankibridge-error.js';

export interface SyncCredential {
  endpoint: string;
  user: string;
  hkey: string;
}

export interface CredentialStore {
  get(endpoint: string): Promise<SyncCredential | undefined>;
  set(cred: SyncCredential): Promise<void>;
  delete(endpoint: string): Promise<void>;
  /** where the key lives, for status output */
  readonly where: string;
}

const SERVICE = 'ankibridge-sync';
/** The Secret Service collection alias the key goes to (the login keyring). */
const LINUX_TARGET = 'default';

type KeyringOp = { op: 'get' | 'delete'; account: string } | { op: 'set'; account: string; secret: string } | { op: 'find'; account: '' };

/** keyring-child.js beside this module (or the .ts source when running from src under tsx). */
function childCommand(): string[] {
  const self = fileURLToPath(import.meta.url);
  const ts = self.endsWith('.ts');
  const child = path.join(path.dirname(self), `keyring-child.${ts ? 'ts' : 'js'}`);
  return ts ? ['--import', 'tsx', child] : [child];
}

/** Runs one keyring operation in a child process; kills it when it does not answer in time. */
function inChild(timeoutMs: number, operation: string, req: KeyringOp): Promise<unknown> {
  const seconds = Math.round(timeoutMs / 100) / 10;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, childCommand(), { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    let out = '';
    let err = '';
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(
      () =>
        settle(() => {
          child.kill('SIGKILL');
          reject(makeError(CloudErrors.KEYRING_TIMEOUT, { seconds, operation }));
        }),
      timeoutMs,
    );
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.once('error', (e) => settle(() => reject(makeError(CloudErrors.CREDENTIAL_STORE, { operation, reason: e.message }, e))));
    child.once('close', () =>
      settle(() => {
        let answer: { ok: boolean; value?: unknown; message?: string };
        try {
          answer = JSON.parse(out.trim().split('\n').pop() ?? '') as typeof answer;
        } catch {
          reject(makeError(CloudErrors.CREDENTIAL_STORE, { operation, reason: `the keyring helper failed: ${err.trim().split('\n').pop() ?? 'no answer'}` }));
          return;
        }
        if (answer.ok) resolve(answer.value);
        else reject(makeError(CloudErrors.CREDENTIAL_STORE, { operation, reason: answer.message ?? 'unknown error' }));
      }),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(JSON.stringify({ service: SERVICE, ...(process.platform === 'linux' ? { target: LINUX_TARGET } : {}), ...req }));
  });
}

/** The OS credential store; the account name is the endpoint, the secret is JSON {user, hkey}. */
export class KeyringStore implements CredentialStore {
  readonly where =
    process.platform === 'linux' ? 'the OS keyring (Secret Service, login keyring)' : process.platform === 'darwin' ? 'the macOS Keychain' : 'the Windows Credential Manager';
  constructor(private readonly timeoutMs = 3000) {}

  async get(endpoint: string): Promise<SyncCredential | undefined> {
    const raw = (await inChild(this.timeoutMs, 'read', { op: 'get', account: endpoint })) as string | null;
    if (!raw) {
      if (process.platform === 'linux' && (await this.isLocked())) throw makeError(CloudErrors.KEYRING_LOCKED, { endpoint });
      return undefined;
    }
    const o = JSON.parse(raw) as { user?: string; hkey?: string };
    return o.hkey ? { endpoint, user: o.user ?? '', hkey: o.hkey } : undefined;
  }

  /** A read of a locked Secret Service collection (no prompter to show) comes back empty; a search says IsLocked. */
  private async isLocked(): Promise<boolean> {
    try {
      await inChild(this.timeoutMs, 'read', { op: 'find', account: '' });
      return false;
    } catch (e) {
      return /IsLocked|is locked/i.test((e as Error).message);
    }
  }

  async set(c: SyncCredential): Promise<void> {
    await inChild(this.timeoutMs, 'save', { op: 'set', account: c.endpoint, secret: JSON.stringify({ user: c.user, hkey: c.hkey }) });
  }

  async delete(endpoint: string): Promise<void> {
    try {
      await inChild(this.timeoutMs, 'remove', { op: 'delete', account: endpoint });
    } catch (e) {
      // nothing there is not a failure
      if (/no (matching )?entry|not found/i.test((e as Error).message)) return;
      throw e;
    }
  }
}

/** A 0600 JSON file {endpoint: {user, hkey}} — the fallback where no credential store works. */
export class FileStore implements CredentialStore {
  constructor(readonly file: string) {}
  get where(): string {
    return this.file;
  }

  private read(): Record<string, { user: string; hkey: string }> {
    if (!existsSync(this.file)) return {};
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, { user: string; hkey: string }>;
    } catch (e) {
      throw makeError(CloudErrors.CREDENTIAL_STORE, { operation: 'read', reason: (e as Error).message }, e);
    }
  }

  private write(all: Record<string, { user: string; hkey: string }>): void {
    try {
      mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.tmp-${process.pid}`;
      writeFileSync(tmp, JSON.stringify(all, null, 2), { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, this.file);
    } catch (e) {
      throw makeError(CloudErrors.CREDENTIAL_STORE, { operation: 'save', reason: (e as Error).message }, e);
    }
  }

  async get(endpoint: string): Promise<SyncCredential | undefined> {
    const c = this.read()[endpoint];
    return c ? { endpoint, ...c } : undefined;
  }

  async set(c: SyncCredential): Promise<void> {
    const all = this.read();
    all[c.endpoint] = { user: c.user, hkey: c.hkey };
    this.write(all);
  }

  async delete(endpoint: string): Promise<void> {
    const all = this.read();
    delete all[endpoint];
    if (Object.keys(all).length) this.write(all);
    else rmSync(this.file, { force: true });
  }
}

/**
 * Keyring first, file as fallback: a key is written to the keyring when it works, else to the
 * file (and then only there). Reads look in the file first — it holds a key only when the keyring
 * failed at the last login, and then it is the newer one — then in the keyring. When neither has
 * the key and the keyring is locked or did not answer, that is the error (not "not logged in").
 */
/** Keyring reads kept per process: `${stampFile}\0${endpoint}` → the stamp's mtime then and the result. */
const keyringReads = new Map<string, { stamp: number; cred: SyncCredential | undefined }>();

export class FallbackStore implements CredentialStore {
  private lastWhere: string;
  /** Why the last set() went to the file, if it did. */
  fallbackReason: string | undefined;
  /**
   * @param stampFile touched by every set/forget; a keyring read is kept in this process until
   *   it changes (login and logout run in other processes), so a daemon does not start a keyring
   *   helper for every scheduled sync. A key the server refuses is forgotten (CloudSync), which
   *   touches the stamp too.
   */
  constructor(
    private readonly primary: CredentialStore,
    private readonly fallback: CredentialStore,
    private readonly stampFile?: string,
  ) {
    this.lastWhere = primary.where;
  }

  private stamp(): number {
    if (!this.stampFile) return NaN;
    try {
      return statSync(this.stampFile).mtimeMs;
    } catch {
      return -1;
    }
  }

  private touch(): void {
    if (!this.stampFile) return;
    for (const k of [...keyringReads.keys()]) if (k.startsWith(`${this.stampFile}\0`)) keyringReads.delete(k);
    try {
      mkdirSync(path.dirname(this.stampFile), { recursive: true, mode: 0o700 });
      writeFileSync(this.stampFile, `${Date.now()}\n`, { mode: 0o600 });
    } catch {
      // without a stamp the cache is only dropped here, in this process
    }
  }
  get where(): string {
    return this.lastWhere;
  }

  async get(endpoint: string): Promise<SyncCredential | undefined> {
    const inFile = await this.fallback.get(endpoint);
    if (inFile) return inFile;
    const key = `${this.stampFile ?? ''}\0${endpoint}`;
    const stamp = this.stamp();
    const cached = keyringReads.get(key);
    if (cached && cached.stamp === stamp) return cached.cred;
    try {
      const cred = await this.primary.get(endpoint);
      if (this.stampFile) keyringReads.set(key, { stamp, cred });
      return cred;
    } catch (e) {
      // locked or not answering: say so; any other failure (no keyring at all) means no key
      if (isAnkibridgeError(e) && (e.code === CloudErrors.KEYRING_LOCKED.code || e.code === CloudErrors.KEYRING_TIMEOUT.code)) throw e;
      return undefined;
    }
  }

  async set(c: SyncCredential): Promise<void> {
    this.touch();
    try {
      await this.primary.set(c);
      this.lastWhere = this.primary.where;
      this.fallbackReason = undefined;
      await this.fallback.delete(c.endpoint); // never two copies
    } catch (e) {
      await this.fallback.set(c);
      this.lastWhere = this.fallback.where;
      this.fallbackReason = (e as Error).message;
    }
  }

  async delete(endpoint: string): Promise<void> {
    await this.forget(endpoint);
  }

  /** Removes the key from both places; says where it could not (a locked keyring). */
  async forget(endpoint: string): Promise<{ failed?: string }> {
    this.touch();
    await this.fallback.delete(endpoint);
    try {
      await this.primary.delete(endpoint);
      return {};
    } catch (e) {
      return { failed: (e as Error).message };
    }
  }
}

export function defaultCredentialStore(configDir: string): FallbackStore {
  return new FallbackStore(new KeyringStore(), new FileStore(path.join(configDir, 'sync-keys.json')), path.join(configDir, 'sync-key.stamp'));
}
