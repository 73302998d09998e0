/**
 * Where the sync key (hkey) is kept. Never the password: login exchanges it for the key at once
 * (doc §3.1) and forgets it. The OS credential store comes first (@napi-rs/keyring: Keychain,
 * Windows Credential Manager, and on Linux the freedesktop Secret Service over D-Bus — the only
 * backend built into its Linux binary). A locked keyring can block on an unlock prompt, so every
 * call races a timeout; when the store is missing, locked or slow, a 0600 file in ankibridge's
 * own config folder is used instead.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeError } from '../../errors/define.js';
import { CloudErrors } from '../../errors/codes/cloud.js';

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

interface KeyringEntry {
  getPassword(signal?: AbortSignal): Promise<string | undefined>;
  setPassword(p: string, signal?: AbortSignal): Promise<void>;
  deleteCredential(signal?: AbortSignal): Promise<boolean>;
}

async function withTimeout<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctl = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      fn(ctl.signal),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          ctl.abort();
          reject(new Error(`the credential store did not answer within ${ms} ms (locked keyring?)`));
        }, ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** The OS credential store; the account name is the endpoint, the secret is JSON {user, hkey}. */
export class KeyringStore implements CredentialStore {
  readonly where = 'the OS credential store';
  constructor(private readonly timeoutMs = 3000) {}

  private async entry(endpoint: string): Promise<KeyringEntry> {
    const { AsyncEntry } = await import('@napi-rs/keyring');
    // On Linux the target names the Secret Service collection: pin the "default" alias
    // (the login keyring) instead of whatever collection happens to be first.
    return (process.platform === 'linux' ? AsyncEntry.withTarget('default', SERVICE, endpoint) : new AsyncEntry(SERVICE, endpoint)) as unknown as KeyringEntry;
  }

  async get(endpoint: string): Promise<SyncCredential | undefined> {
    const e = await this.entry(endpoint);
    const raw = await withTimeout(this.timeoutMs, (s) => e.getPassword(s));
    if (!raw) return undefined;
    const o = JSON.parse(raw) as { user?: string; hkey?: string };
    return o.hkey ? { endpoint, user: o.user ?? '', hkey: o.hkey } : undefined;
  }

  async set(c: SyncCredential): Promise<void> {
    const e = await this.entry(c.endpoint);
    await withTimeout(this.timeoutMs, (s) => e.setPassword(JSON.stringify({ user: c.user, hkey: c.hkey }), s));
  }

  async delete(endpoint: string): Promise<void> {
    const e = await this.entry(endpoint);
    await withTimeout(this.timeoutMs, (s) => e.deleteCredential(s)).catch(() => false);
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
 * file (and then only there); reads look in both.
 */
export class FallbackStore implements CredentialStore {
  private lastWhere: string;
  constructor(
    private readonly primary: CredentialStore,
    private readonly fallback: CredentialStore,
  ) {
    this.lastWhere = primary.where;
  }
  get where(): string {
    return this.lastWhere;
  }

  async get(endpoint: string): Promise<SyncCredential | undefined> {
    try {
      const c = await this.primary.get(endpoint);
      if (c) return c;
    } catch {
      // store missing, locked or slow: fall through to the file
    }
    return this.fallback.get(endpoint);
  }

  async set(c: SyncCredential): Promise<void> {
    try {
      await this.primary.set(c);
      this.lastWhere = this.primary.where;
      await this.fallback.delete(c.endpoint); // never two copies
    } catch {
      await this.fallback.set(c);
      this.lastWhere = this.fallback.where;
    }
  }

  async delete(endpoint: string): Promise<void> {
    await this.primary.delete(endpoint).catch(() => undefined);
    await this.fallback.delete(endpoint);
  }
}

export function defaultCredentialStore(configDir: string): CredentialStore {
  return new FallbackStore(new KeyringStore(), new FileStore(path.join(configDir, 'sync-keys.json')));
}
