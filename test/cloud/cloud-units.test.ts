// Fast checks of the cloud client's small parts: endpoint rules, lossless JSON, the credential
// stores (0600 file; keyring fallback on failure or timeout), the guard before any network use.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { normalizeEndpoint, ANKIWEB_ENDPOINT, CloudSync, FileStore, FallbackStore, clientVersionString, type CredentialStore } from '../../src/sync/cloud/index.js';
import { parseJsonLossless, stringifyJsonLossless } from '../../src/apkg/collection/json.js';
import { compareMeta } from '../../src/sync/cloud/cloud-sync.js';
import { PbMessage, PbWriter, f32ToJson } from '../../src/sync/cloud/protobuf.js';
import { fieldChecksum, stripHtmlPreservingMediaFilenames } from '../../src/sync/cloud/note-text.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cloud-units-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cloud client parts', () => {
  it('normalises endpoints to a base URL with a trailing slash, AnkiWeb by default', () => {
    expect(normalizeEndpoint(undefined)).toBe(ANKIWEB_ENDPOINT);
    expect(normalizeEndpoint('http://host:8080')).toBe('http://host:8080/');
    expect(normalizeEndpoint('https://example.com/anki')).toBe('https://example.com/anki/');
    expect(() => normalizeEndpoint('ftp://x/')).toThrow(expect.objectContaining({ code: 'ANKIBRIDGE_ERR_CLOUD_BAD_ENDPOINT' }));
    expect(() => normalizeEndpoint('not a url')).toThrow(expect.objectContaining({ code: 'ANKIBRIDGE_ERR_CLOUD_BAD_ENDPOINT' }));
  });

  it('says honestly who it is', () => {
    expect(clientVersionString()).toMatch(/^ankibridge,\d+\.\d+\.\d+,(linux|darwin|win32)$/);
  });

  it('keeps 64-bit integers exact through JSON', () => {
    const text = '{"id":3717210970873211597,"small":12,"s":"3717210970873211597","neg":-4249445912001789582,"f":1.5}';
    const v = parseJsonLossless(text) as Record<string, unknown>;
    expect(v.id).toBe(3717210970873211597n);
    expect(v.small).toBe(12);
    expect(v.s).toBe('3717210970873211597');
    expect(stringifyJsonLossless(v)).toBe(text);
  });

  it('protobuf writer and reader agree; floats print like serde f32', () => {
    const b = new PbWriter().int(1, 3717210970873211597n, true).str(2, 'x').floats(3, [1.3, 0.9]).bool(4, true).uints(5, [1, 300]).finish();
    const m = PbMessage.decode(b);
    expect(m.int(1)).toBe(3717210970873211597n);
    expect(m.str(2)).toBe('x');
    expect(m.floats(3).map(f32ToJson)).toEqual([1.3, 0.9]);
    expect(m.bool(4)).toBe(true);
    expect(m.uints(5)).toEqual([1, 300]);
    expect(() => PbMessage.decode(Buffer.from([0x0a, 0x05, 1]))).toThrow();
  });

  it('derives sort field and checksum text the way Anki does', () => {
    expect(stripHtmlPreservingMediaFilenames('a <b>bold</b> &amp; <img src="x.jpg"> end')).toBe('a bold &  x.jpg  end');
    expect(fieldChecksum('hello')).toBe(0xaaf4c61d); // sha1("hello") starts aaf4c61d
  });

  it('file store: the key only, mode 0600, removable', async () => {
    const f = new FileStore(path.join(dir, 'sub', 'keys.json'));
    await f.set({ endpoint: 'http://h/', user: 'u', hkey: 'k1' });
    expect(statSync(f.file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(f.file, 'utf8'))).toEqual({ 'http://h/': { user: 'u', hkey: 'k1' } });
    expect(await f.get('http://h/')).toEqual({ endpoint: 'http://h/', user: 'u', hkey: 'k1' });
    await f.delete('http://h/');
    expect(await f.get('http://h/')).toBeUndefined();
  });

  it('falls back to the file when the keyring fails or hangs, and never keeps two copies', async () => {
    const hanging: CredentialStore = {
      where: 'hanging keyring',
      get: () => new Promise(() => undefined),
      set: () => Promise.reject(new Error('locked')),
      delete: () => Promise.resolve(),
    };
    const timed: CredentialStore = {
      ...hanging,
      get: () => Promise.race([new Promise<undefined>(() => undefined), new Promise<undefined>((_, rej) => setTimeout(() => rej(new Error('timeout')), 50))]),
    };
    const file = new FileStore(path.join(dir, 'fb.json'));
    const store = new FallbackStore(timed, file);
    await store.set({ endpoint: 'http://h/', user: 'u', hkey: 'k2' });
    expect(store.where).toBe(file.file);
    expect(await store.get('http://h/')).toMatchObject({ hkey: 'k2' });
  });

  it('keeps a keyring read until a login or logout (any process) touches the stamp, so a daemon does not ask the keyring every sync', async () => {
    let reads = 0;
    const saved = new Map<string, { user: string; hkey: string }>();
    const keyring: CredentialStore = {
      where: 'counting keyring',
      get: async (endpoint) => (reads++, saved.has(endpoint) ? { endpoint, ...saved.get(endpoint)! } : undefined),
      set: async (c) => void saved.set(c.endpoint, { user: c.user, hkey: c.hkey }),
      delete: async (endpoint) => void saved.delete(endpoint),
    };
    const stamp = path.join(dir, 'cache', 'sync-key.stamp');
    const daemonSide = new FallbackStore(keyring, new FileStore(path.join(dir, 'cache', 'keys.json')), stamp);
    const cliSide = new FallbackStore(keyring, new FileStore(path.join(dir, 'cache', 'keys.json')), stamp);
    await cliSide.set({ endpoint: 'http://h/', user: 'u', hkey: 'k1' });
    expect(await daemonSide.get('http://h/')).toMatchObject({ hkey: 'k1' });
    expect(await daemonSide.get('http://h/')).toMatchObject({ hkey: 'k1' });
    expect(reads).toBe(1);
    await new Promise((r) => setTimeout(r, 20)); // a later mtime
    await cliSide.set({ endpoint: 'http://h/', user: 'u', hkey: 'k2' });
    expect(await daemonSide.get('http://h/')).toMatchObject({ hkey: 'k2' });
    expect(reads).toBe(2);
    await new Promise((r) => setTimeout(r, 20));
    await cliSide.forget('http://h/');
    expect(await daemonSide.get('http://h/')).toBeUndefined();
    expect(reads).toBe(3);
  });

  it('the real keyring store answers or fails within its timeout (no D-Bus session here is fine)', async () => {
    const { KeyringStore } = await import('../../src/sync/cloud/credentials.js');
    const t0 = Date.now();
    await new KeyringStore(1500).get('http://nowhere.invalid/').catch(() => undefined);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('decides like Anki from meta', () => {
    const local = { mod: 5, scm: 1, usn: 3, ls: 5, crt: 0, empty: false };
    const remote = { mod: 5, scm: 1, usn: 3, ts: 0, msg: '', cont: true, hostNum: 0, empty: false, media_usn: 0 };
    expect(compareMeta(local, remote)).toEqual({ kind: 'noChanges' });
    expect(compareMeta({ ...local, mod: 9 }, remote)).toEqual({ kind: 'normal', localIsNewer: true });
    expect(compareMeta({ ...local, mod: 9, scm: 2 }, { ...remote, empty: true })).toEqual({ kind: 'full', uploadOk: true, downloadOk: false });
    expect(compareMeta({ ...local, mod: 9, scm: 2, empty: true }, remote)).toEqual({ kind: 'full', uploadOk: false, downloadOk: true });
  });

  it('never touches a collection Anki Desktop has open; delegates to AnkiConnect when it can', async () => {
    const credentials = new FileStore(path.join(dir, 'busy.json'));
    const base = { collectionPath: path.join(dir, 'nope.anki2'), endpoint: 'http://127.0.0.1:9/', credentials, backup: async () => undefined };
    await expect(new CloudSync({ ...base, isCollectionFree: () => false }).run()).rejects.toMatchObject({ code: 'ANKIBRIDGE_ERR_CLOUD_COLLECTION_BUSY' });
    let asked = 0;
    const viaAnki = new CloudSync({ ...base, isCollectionFree: () => false, ankiConnect: { isAvailable: async () => true, sync: async () => void asked++ } });
    expect(await viaAnki.run()).toEqual({ kind: 'delegated', via: 'anki-connect' });
    expect(asked).toBe(1);
    await expect(new CloudSync({ ...base, isCollectionFree: () => true }).run()).rejects.toMatchObject({ code: 'ANKIBRIDGE_ERR_CLOUD_NOT_LOGGED_IN' });
  });
});
