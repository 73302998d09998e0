/**
 * The incremental sync (doc §4.0): one local transaction around the whole exchange, committed
 * only after the server confirmed `finish`; on any error it is rolled back and the server is
 * told to abort, so both sides stay as they were.
 */
import type { CollectionDb } from '../../apkg/sqlite.js';
import { makeError } from '../../errors/define.js';
import { CloudErrors } from '../../errors/codes/cloud.js';
import { GeneralErrors } from '../../errors/codes/general.js';
import { LocalStore, type LocalMeta } from './local-store.js';
import * as P from './protocol.js';
import type { SyncMeta } from './protocol-types.js';
import type { SyncTransport } from './transport.js';

export interface NormalSyncStats {
  sentGraves: number;
  receivedGraves: number;
  receivedRevlog: number;
  receivedCards: number;
  receivedNotes: number;
  sentRevlog: number;
  sentCards: number;
  sentNotes: number;
  sentObjects: number;
  receivedObjects: number;
}

export type Progress = (p: { phase: string; done: number; total: number }) => void;

export async function normalSync(
  t: SyncTransport,
  db: CollectionDb,
  local: LocalMeta,
  remote: SyncMeta,
  opts: { signal?: AbortSignal; onProgress?: Progress } = {},
): Promise<NormalSyncStats> {
  const store = new LocalStore(db);
  const serverUsn = remote.usn;
  const localIsNewer = local.mod > remote.mod;
  const stats: NormalSyncStats = {
    sentGraves: 0, receivedGraves: 0, receivedRevlog: 0, receivedCards: 0, receivedNotes: 0,
    sentRevlog: 0, sentCards: 0, sentNotes: 0, sentObjects: 0, receivedObjects: 0,
  };
  const checkAbort = (): void => {
    if (opts.signal?.aborted) throw makeError(GeneralErrors.CANCELLED);
  };
  const progress = (phase: string, done = 0, total = 0): void => opts.onProgress?.({ phase, done, total });
  db.exec('BEGIN EXCLUSIVE');
  let sanityFailed = false;
  try {
    progress('start');
    const remoteGraves = await P.start(t, local.usn, localIsNewer);
    for (const g of store.takePendingGraves(serverUsn)) {
      checkAbort();
      await P.applyGraves(t, g);
      stats.sentGraves += g.cards.length + g.notes.length + g.decks.length;
    }
    store.applyRemoteGraves(remoteGraves, serverUsn);
    stats.receivedGraves = remoteGraves.cards.length + remoteGraves.notes.length + remoteGraves.decks.length;

    progress('changes');
    const mine = store.takeLocalChanges(serverUsn, localIsNewer);
    stats.sentObjects = mine.models.length + mine.decks[0].length + mine.decks[1].length + mine.tags.length;
    checkAbort();
    const theirs = await P.applyChanges(t, mine);
    stats.receivedObjects = theirs.models.length + theirs.decks[0].length + theirs.decks[1].length + theirs.tags.length;
    store.applyRemoteChanges(theirs, serverUsn);

    for (;;) {
      checkAbort();
      const c = await P.chunk(t);
      store.applyRemoteChunk(c);
      stats.receivedRevlog += c.revlog?.length ?? 0;
      stats.receivedCards += c.cards?.length ?? 0;
      stats.receivedNotes += c.notes?.length ?? 0;
      progress('download', stats.receivedRevlog + stats.receivedCards + stats.receivedNotes);
      if (c.done) break;
    }

    const pending = store.pendingRows();
    const total = pending.left.revlog + pending.left.cards + pending.left.notes;
    for (;;) {
      checkAbort();
      const c = store.takeLocalChunk(pending, serverUsn);
      await P.applyChunk(t, c.json);
      stats.sentRevlog += c.counts.revlog;
      stats.sentCards += c.counts.cards;
      stats.sentNotes += c.counts.notes;
      progress('upload', stats.sentRevlog + stats.sentCards + stats.sentNotes, total);
      if (c.done) break;
    }
    store.markSent(serverUsn);

    progress('sanity');
    const counts = store.sanityCounts();
    const res = await P.sanityCheck(t, counts);
    if (res.status !== 'ok') {
      sanityFailed = true;
      throw makeError(CloudErrors.SANITY_CHECK_FAILED, { client: JSON.stringify(res.c ?? counts), server: JSON.stringify(res.s) });
    }
    checkAbort();
    const ts = await P.finish(t);
    store.finalize(serverUsn, ts);
    db.exec('COMMIT');
    progress('done');
    return stats;
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    await P.abort(t);
    if (sanityFailed) {
      // As Anki does: the two sides disagree, so the next sync must be a full one (doc §4.8).
      store.forceFullSync();
    }
    throw e;
  }
}
