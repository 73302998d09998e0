/**
 * Sides read before, kept while their source is unchanged, so a plug-in pays only for what
 * changed (issue 6, must-show 4):
 *  - the desktop collection, keyed by the file's identity, size and modification time and its
 *    -wal's, taken under our read lock when it was copied (snapshot.ts FileState). The daemon
 *    reads it at start and after each transaction, so at plug-in it is usually ready, digest
 *    included. A stale key only costs a new read; a replace still checks the desktop's sha256
 *    under its lock (replace.ts), so a cache can never make a transaction act on an old copy.
 *  - each phone's collection, keyed by the SHA-256 of the bytes downloaded (collection + -wal,
 *    hashed while they arrive): a phone that did not change since the last plug-in skips the
 *    check, the facts and the digest.
 * Entries are private copies in rollback-journal mode; readers hold a reference while they use
 * one (an entry replaced meanwhile is deleted when its last reader lets go).
 */
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileState, sameFileState, snapshotDesktopCollection, type FileState } from '../../apkg/desktop/snapshot.js';
import { markRollbackJournal, validateExtractedCollection } from '../../apkg/package/validate.js';
import type { DesktopTarget } from '../desktop/replace.js';
import { readSide, withSide, type SideRead } from './side.js';

export type DesktopSide = SideRead & { sha256: string; describe: string };

interface Entry<T extends SideRead> {
  key: string;
  /** The entry's private folder. */
  file: string;
  side: T;
  refs: number;
  superseded: boolean;
  /** How the copy was checked: SQLite's quick_check or its full integrity_check. */
  check: 'quick' | 'full';
}

/** A side in use: release() when done with its file. */
export interface Held<T extends SideRead> {
  side: T;
  release(): void;
}

function stateKey(s: FileState): string {
  return JSON.stringify(s);
}

export class SideCache {
  private readonly desktops = new Map<string, Entry<DesktopSide>>();
  private readonly phones = new Map<string, Entry<SideRead>>();

  /** `dir`: a private folder for the cached copies (emptied now: entries live as long as this object). */
  constructor(readonly dir: string) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  private hold<T extends SideRead>(e: Entry<T>): Held<T> {
    e.refs++;
    let released = false;
    return {
      side: e.side,
      release: () => {
        if (released) return;
        released = true;
        e.refs--;
        if (e.superseded && e.refs === 0) rmSync(e.file, { recursive: true, force: true });
      },
    };
  }

  private supersede<T extends SideRead>(map: Map<string, Entry<T>>, id: string, next: Entry<T>): void {
    const old = map.get(id);
    map.set(id, next);
    if (old && old !== next) {
      old.superseded = true;
      if (old.refs === 0) rmSync(old.file, { recursive: true, force: true });
    }
  }

  /**
   * The desktop collection's side: the cached one while the file is as it was, else a fresh copy
   * taken under our read lock (DESKTOP_ANKI_OPEN while Anki Desktop holds it).
   */
  async desktop(target: DesktopTarget): Promise<Held<DesktopSide>> {
    const cached = this.desktops.get(target.collectionPath);
    if (cached && !cached.superseded && sameFileState(fileState(target.collectionPath), JSON.parse(cached.key) as FileState)) return this.hold(cached);
    const outDir = path.join(this.dir, `desktop-${randomBytes(6).toString('hex')}`);
    const snap = snapshotDesktopCollection({ collectionPath: target.collectionPath, mediaDir: target.mediaDir, outDir, listMedia: false });
    try {
      // our private copy: rollback mode, so readers open it without copying it again
      await markRollbackJournal(snap.collectionPath);
      const side = withSide(readSide(snap.collectionPath), { sha256: snap.sha256, describe: `collection of profile "${target.profile}"` });
      const e: Entry<DesktopSide> = { key: stateKey(snap.source), file: outDir, side, refs: 0, superseded: false, check: 'full' };
      this.supersede(this.desktops, target.collectionPath, e);
      return this.hold(e);
    } catch (err) {
      rmSync(outDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Reads the desktop side ahead of a plug-in, digest included (errors are the caller's to ignore). */
  async warmDesktop(target: DesktopTarget): Promise<void> {
    const h = await this.desktop(target);
    try {
      void h.side.fingerprint;
    } finally {
      h.release();
    }
  }

  /**
   * The phone side cached for `phone` when the bytes downloaded now hash to `rawKey`; checked
   * fully first when a transaction needs that and the cached copy had only the quick check.
   */
  phone(phone: string, rawKey: string, check: 'quick' | 'full'): Held<SideRead> | null {
    const e = this.phones.get(phone);
    if (!e || e.superseded || e.key !== rawKey) return null;
    if (check === 'full' && e.check !== 'full') {
      validateExtractedCollection(e.side.collectionPath, 'the phone’s collection', 'full');
      e.check = 'full';
    }
    return this.hold(e);
  }

  /** Keeps `file` (moved into the cache) and its side as the phone's latest read. */
  putPhone(phone: string, rawKey: string, check: 'quick' | 'full', file: string, read: (file: string) => SideRead): Held<SideRead> {
    const dir = path.join(this.dir, `phone-${randomBytes(6).toString('hex')}`);
    mkdirSync(dir, { recursive: true });
    const kept = path.join(dir, 'collection.anki2');
    renameSync(file, kept);
    try {
      const e: Entry<SideRead> = { key: rawKey, file: dir, side: read(kept), refs: 0, superseded: false, check };
      this.supersede(this.phones, phone, e);
      return this.hold(e);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  dispose(): void {
    this.desktops.clear();
    this.phones.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
