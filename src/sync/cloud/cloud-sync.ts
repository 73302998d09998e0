/**
 * CloudSync: one sync of the desktop collection with AnkiWeb or a self-hosted Anki sync server,
 * shaped as a job the daemon's orchestrator runs (progress callback, AbortSignal).
 *
 *  - Runs only while Anki Desktop has the collection closed (injected isCollectionFree). When
 *    Anki is running with AnkiConnect, the sync is delegated to Anki itself through the injected
 *    `ankiConnect` (src/sync/anki-connect.ts, the desktop engineer's) — the integration point.
 *  - meta decides: nothing / normal sync / full sync required. A full sync is never done on its
 *    own: the job returns the typed FullSyncRequiredState and moves nothing until it is run again
 *    with an explicit `fullSync` direction; the side that is replaced is backed up first.
 *  - Then media, unless disabled.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { makeError } from '../../errors/define.js';
import { CloudErrors } from '../../errors/codes/cloud.js';
import { isAnkibridgeError } from '../../errors/ankibridge-error.js';
import { openCollectionDb, type CollectionDb } from '../../apkg/sqlite.js';
import { summarizeCollection } from '../../apkg/collection/summary.js';
import { isAnkiWeb, normalizeEndpoint } from './endpoint.js';
import type { CredentialStore } from './credentials.js';
import { MAX_PAYLOAD_UNCOMPRESSED, SyncTransport } from './transport.js';
import * as P from './protocol.js';
import { LocalStore, type LocalMeta } from './local-store.js';
import { normalSync, type NormalSyncStats, type Progress } from './normal-sync.js';
import { fullDownload, fullUpload, type BackupFn } from './full-sync.js';
import { describeFullSync, type FullSyncDirection, type FullSyncRequiredState } from './full-sync-state.js';
import { syncMedia, type MediaSyncResult } from './media/media-sync.js';
import type { SyncMeta, SyncRequired } from './protocol-types.js';

/** Largest clock difference the protocol tolerates (doc §4.1). */
const MAX_CLOCK_SKEW_SECS = 300;

/** What the desktop side offers when Anki Desktop is running (src/sync/anki-connect.ts). */
export interface AnkiConnectSync {
  isAvailable(): Promise<boolean>;
  /** asks Anki to sync and resolves when it has finished (confirmed by watching the collection) */
  sync(signal?: AbortSignal): Promise<void>;
}

export interface CloudSyncOptions {
  collectionPath: string;
  endpoint?: string;
  credentials: CredentialStore;
  isCollectionFree: () => boolean | Promise<boolean>;
  backup: BackupFn;
  ankiConnect?: AnkiConnectSync;
  media?: boolean;
  ioTimeoutMs?: number;
  /** called when the server redirected meta to a new base URL; persist it (doc §2.4) */
  onEndpointChanged?: (endpoint: string) => void | Promise<void>;
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: Progress;
  /** explicit confirmation of a full sync's direction; without it a full sync only reports its state */
  fullSync?: { direction: FullSyncDirection; confirmed: true };
}

export type CloudSyncResult =
  | { kind: 'noChanges'; media?: MediaSyncResult }
  | { kind: 'normal'; stats: NormalSyncStats; media?: MediaSyncResult }
  | { kind: 'full'; direction: FullSyncDirection; media?: MediaSyncResult }
  | FullSyncRequiredState
  | { kind: 'delegated'; via: 'anki-connect' };

/**
 * Errors worth retrying at the next scheduler tick (with backoff): the network, a busy or failing
 * server, a stall, another client syncing. Everything else needs a person (login, a choice of
 * direction, Check Database, the clock).
 */
export function isRetryableCloudError(e: unknown): boolean {
  if (!isAnkibridgeError(e)) return false;
  return [CloudErrors.TIMEOUT, CloudErrors.NETWORK, CloudErrors.SERVER_ERROR, CloudErrors.CONFLICT, CloudErrors.HTTP_STATUS, CloudErrors.BAD_RESPONSE].some(
    (x) => x.code === e.code,
  );
}

/** meta compared with the local collection (doc §4.1, verified: empty server has mod 0). */
export function compareMeta(local: LocalMeta, remote: SyncMeta): SyncRequired {
  if (remote.mod === local.mod) return { kind: 'noChanges' };
  if (remote.scm !== local.scm) return { kind: 'full', uploadOk: !local.empty || remote.empty, downloadOk: !remote.empty || local.empty };
  return { kind: 'normal', localIsNewer: local.mod > remote.mod };
}

export class CloudSync {
  endpoint: string;

  constructor(private readonly opts: CloudSyncOptions) {
    this.endpoint = normalizeEndpoint(opts.endpoint);
  }

  /** Exchanges user + password for the host key and keeps only the key. */
  static async login(a: { endpoint?: string; user: string; password: string; credentials: CredentialStore; signal?: AbortSignal; ioTimeoutMs?: number }): Promise<{ endpoint: string; user: string; where: string }> {
    const endpoint = normalizeEndpoint(a.endpoint);
    const t = new SyncTransport({ endpoint, ...(a.signal ? { signal: a.signal } : {}), ...(a.ioTimeoutMs ? { ioTimeoutMs: a.ioTimeoutMs } : {}) });
    try {
      const hkey = await P.hostKey(t, a.user, a.password);
      await a.credentials.set({ endpoint, user: a.user, hkey });
      return { endpoint, user: a.user, where: a.credentials.where };
    } finally {
      t.dispose();
    }
  }

  async logout(): Promise<void> {
    await this.opts.credentials.delete(this.endpoint);
  }

  private async transport(signal?: AbortSignal): Promise<{ t: SyncTransport; user: string }> {
    const cred = await this.opts.credentials.get(this.endpoint);
    if (!cred) throw makeError(CloudErrors.NOT_LOGGED_IN, { endpoint: this.endpoint });
    const t = new SyncTransport({
      endpoint: this.endpoint,
      hkey: cred.hkey,
      ...(signal ? { signal } : {}),
      ...(this.opts.ioTimeoutMs ? { ioTimeoutMs: this.opts.ioTimeoutMs } : {}),
    });
    return { t, user: cred.user };
  }

  /**
   * The local collection, opened once for the whole job (read-write; as Anki does, with an
   * exclusive lock from its first read, so Anki Desktop opened meanwhile cannot touch it), or
   * undefined when the profile has no collection yet (a new computer: an empty side, which may
   * only download).
   */
  private openLocal(): { db?: CollectionDb; meta: LocalMeta } {
    if (!existsSync(this.opts.collectionPath)) return { meta: { mod: 0, scm: 0, usn: 0, ls: 0, crt: 0, empty: true } };
    const db = openCollectionDb(this.opts.collectionPath);
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      return { db, meta: new LocalStore(db).meta() };
    } catch (e) {
      db.close();
      throw e;
    }
  }

  /** Runs one sync job. Never throws for "full sync required": that is a result. */
  async run(run: RunOptions = {}): Promise<CloudSyncResult> {
    const progress = (phase: string, done = 0, total = 0): void => run.onProgress?.({ phase, done, total });
    if (!(await this.opts.isCollectionFree())) {
      if (this.opts.ankiConnect && (await this.opts.ankiConnect.isAvailable())) {
        progress('delegating to Anki');
        await this.opts.ankiConnect.sync(run.signal);
        return { kind: 'delegated', via: 'anki-connect' };
      }
      throw makeError(CloudErrors.COLLECTION_BUSY, { path: this.opts.collectionPath });
    }
    // Anki refuses to sync a collection AnkiWeb would refuse to take (doc §4.0, §8)
    if (isAnkiWeb(this.endpoint) && existsSync(this.opts.collectionPath)) {
      const size = statSync(this.opts.collectionPath).size;
      if (size > MAX_PAYLOAD_UNCOMPRESSED) throw makeError(CloudErrors.UPLOAD_TOO_LARGE, { size, limit: MAX_PAYLOAD_UNCOMPRESSED });
    }
    const { t, user } = await this.transport(run.signal);
    try {
      progress('meta');
      const m = await P.meta(t);
      if (m.newEndpoint) {
        await this.movedTo(m.newEndpoint, user, t.hkey);
      }
      const remote = m.meta;
      if (!remote.cont) throw makeError(CloudErrors.SERVER_MESSAGE, { serverMessage: remote.msg || 'the server refused the sync' });
      const skew = remote.ts - Math.floor(Date.now() / 1000);
      if (Math.abs(skew) > MAX_CLOCK_SKEW_SECS) throw makeError(CloudErrors.CLOCK_INCORRECT, { seconds: skew });

      const opened = this.openLocal();
      const local = opened.meta;
      let db = opened.db;
      let result: CloudSyncResult;
      try {
        const decision = compareMeta(local, remote);
        if (decision.kind === 'noChanges') {
          result = { kind: 'noChanges' };
        } else if (decision.kind === 'normal' && db) {
          const stats = await normalSync(t, db, local, remote, {
            ...(run.signal ? { signal: run.signal } : {}),
            ...(run.onProgress ? { onProgress: run.onProgress } : {}),
          });
          result = { kind: 'normal', stats };
        } else {
          const summary = db ? summarizeCollection(db) : undefined;
          const state = describeFullSync(
            this.endpoint,
            { path: this.opts.collectionPath, mod: local.mod, scm: local.scm, lastSync: local.ls, empty: local.empty, ...(summary ? { summary } : {}) },
            remote,
          );
          const choice = run.fullSync;
          if (!choice || choice.confirmed !== true) return state; // the guard: nothing moved
          if (choice.direction === 'upload' && !state.uploadOk) {
            throw makeError(CloudErrors.DIRECTION_NOT_ALLOWED, { direction: 'upload', reason: 'the local collection has no cards and the server has' });
          }
          if (choice.direction === 'download' && !state.downloadOk) {
            throw makeError(CloudErrors.DIRECTION_NOT_ALLOWED, { direction: 'download', reason: 'the server collection has no cards and the local one has' });
          }
          // the full sync copies or replaces the file itself: our connection (and its lock) goes first
          db?.close();
          db = undefined;
          progress(`full ${choice.direction}`);
          if (choice.direction === 'upload') await fullUpload(t, this.opts.collectionPath, { backup: this.opts.backup, serverEmpty: remote.empty });
          else {
            mkdirSync(path.dirname(this.opts.collectionPath), { recursive: true });
            await fullDownload(t, this.opts.collectionPath, { backup: this.opts.backup });
          }
          result = { kind: 'full', direction: choice.direction };
        }
      } finally {
        db?.close();
      }
      if (this.opts.media !== false) {
        progress('media');
        // after a full sync the server media usn from meta still holds: full syncs do not touch media (doc §5.3)
        (result as { media?: MediaSyncResult }).media = await syncMedia(t, this.opts.collectionPath, {
          serverUsn: remote.media_usn,
          ...(run.signal ? { signal: run.signal } : {}),
          ...(run.onProgress ? { onProgress: run.onProgress } : {}),
        });
      }
      return result;
    } catch (e) {
      if (isAnkibridgeError(e) && e.code === CloudErrors.AUTH_FAILED.code) {
        // as Anki does: a refused key is forgotten, the user logs in again
        await this.opts.credentials.delete(this.endpoint).catch(() => undefined);
      }
      throw e;
    } finally {
      t.dispose();
    }
  }

  private async movedTo(endpoint: string, user: string, hkey: string): Promise<void> {
    await this.opts.credentials.set({ endpoint, user, hkey });
    this.endpoint = endpoint;
    await this.opts.onEndpointChanged?.(endpoint);
  }
}
