/**
 * The backup store (DESIGN.md invariant 1): every collection about to be replaced or merged
 * into is saved here first. A backup is a folder `<root>/<id>/` with `collection.anki2`, the
 * media files (hard links where the file system allows, so a backup of a large media folder costs
 * no space; copies otherwise) and `manifest.json`. It is written under `<id>.partial`, verified
 * (the copy reopens, passes integrity_check and is summarised), and only then renamed into place
 * and listed, so a listed backup is always a good one.
 *
 * Retention keeps the newest `keepLast` ordinary backups; protected ones (taken before an
 * overwrite or a restore) are never evicted unless the caller passes allowProtected.
 */
import type { Database } from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openCollectionDb } from '../../apkg/sqlite.js';
import { summarizeCollection, type CollectionSummary } from '../../apkg/collection/summary.js';
import { copyFileDurable, isDiskFull } from '../../apkg/desktop/durable-copy.js';
import { fsyncDir, fsyncFile, hashFileSync } from '../../apkg/fs-durable.js';
import { listMediaFolder, type MediaFileInfo } from '../../apkg/desktop/media-folder.js';
import { makeError } from '../../errors/define.js';
import { BackupErrors } from '../../errors/codes/backup.js';
import { isAnkibridgeError } from '../../errors/index.js';

export type BackupReason = 'pre-overwrite' | 'pre-merge' | 'pre-restore' | 'manual';

export interface BackupRecord {
  id: string;
  createdAt: number;
  source: string;
  label: string;
  reason: BackupReason;
  protected: boolean;
  dir: string;
  collectionPath: string;
  mediaDir: string;
  collectionBytes: number;
  collectionSha256: string;
  media: { count: number; bytes: number };
  summary: CollectionSummary | null;
  originPath: string | null;
  verifiedAt: number;
}

export interface CreateBackupInput {
  collectionPath: string;
  /** The media folder to save with it (omit for a collection without media). */
  mediaDir?: string;
  source: string;
  label: string;
  reason: BackupReason;
  /** Default: protected unless the reason is 'manual'. */
  protected?: boolean;
}

export interface RetentionPolicy {
  /** Ordinary (unprotected) backups kept, newest first. Default 20. */
  keepLast?: number;
  /** Protected backups older than the newest `keepProtected` may go too. Only when the user says so. */
  allowProtected?: boolean;
  keepProtected?: number;
}

interface Row {
  id: string;
  created_at: number;
  source: string;
  label: string;
  reason: string;
  protected: number;
  dir: string;
  collection_bytes: number;
  collection_sha256: string;
  media_count: number;
  media_bytes: number;
  summary: string | null;
  origin_path: string | null;
  verified_at: number;
}

const MANIFEST = 'manifest.json';

export class BackupStore {
  constructor(
    private readonly db: Database,
    readonly root: string,
  ) {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    this.removeLeftovers();
  }

  /** A crash while writing a backup leaves `<id>.partial`: never listed, removed on the next start. */
  private removeLeftovers(): void {
    for (const name of readdirSync(this.root)) {
      if (name.endsWith('.partial')) rmSync(path.join(this.root, name), { recursive: true, force: true });
    }
  }

  create(input: CreateBackupInput): BackupRecord {
    const id = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\.(\d+)Z$/, '$1Z')}-${randomBytes(3).toString('hex')}`;
    const partial = path.join(this.root, `${id}.partial`);
    const final = path.join(this.root, id);
    const isProtected = input.protected ?? input.reason !== 'manual';
    let copied: { bytes: number; sha256: string };
    let media: MediaFileInfo[] = [];
    try {
      mkdirSync(path.join(partial, 'media'), { recursive: true, mode: 0o700 });
      copied = copyFileDurable(input.collectionPath, path.join(partial, 'collection.anki2'));
      if (input.mediaDir) media = saveMedia(input.mediaDir, path.join(partial, 'media'));
    } catch (e) {
      rmSync(partial, { recursive: true, force: true });
      if (isDiskFull(e)) throw makeError(BackupErrors.DISK_FULL, { path: input.collectionPath, dir: this.root }, e);
      throw makeError(BackupErrors.WRITE_FAILED, { path: input.collectionPath, dir: this.root, reason: (e as Error).message }, e);
    }
    let summary: CollectionSummary;
    try {
      summary = verifyCollectionFile(path.join(partial, 'collection.anki2'));
      summary.media = { count: media.length, bytes: media.reduce((n, m) => n + m.size, 0) };
    } catch (e) {
      rmSync(partial, { recursive: true, force: true });
      if (isDiskFull(e)) throw makeError(BackupErrors.DISK_FULL, { path: input.collectionPath, dir: this.root }, e);
      throw makeError(BackupErrors.VERIFY_FAILED, { id, reason: isAnkibridgeError(e) ? e.message : (e as Error).message }, e);
    }
    const record: BackupRecord = {
      id,
      createdAt: Date.now(),
      source: input.source,
      label: input.label,
      reason: input.reason,
      protected: isProtected,
      dir: final,
      collectionPath: path.join(final, 'collection.anki2'),
      mediaDir: path.join(final, 'media'),
      collectionBytes: copied.bytes,
      collectionSha256: copied.sha256,
      media: summary.media ?? { count: 0, bytes: 0 },
      summary,
      originPath: input.collectionPath,
      verifiedAt: Date.now(),
    };
    try {
      writeDurable(path.join(partial, MANIFEST), JSON.stringify({ ...record, dir: undefined, mediaFiles: media }, null, 2));
      renameSync(partial, final);
      fsyncDir(this.root);
    } catch (e) {
      rmSync(partial, { recursive: true, force: true });
      if (isDiskFull(e)) throw makeError(BackupErrors.DISK_FULL, { path: input.collectionPath, dir: this.root }, e);
      throw makeError(BackupErrors.WRITE_FAILED, { path: input.collectionPath, dir: this.root, reason: (e as Error).message }, e);
    }
    this.db
      .prepare(
        `INSERT INTO backups_entries (id, created_at, source, label, reason, protected, dir, collection_bytes, collection_sha256,
           media_count, media_bytes, summary, origin_path, verified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        record.createdAt,
        record.source,
        record.label,
        record.reason,
        isProtected ? 1 : 0,
        id,
        record.collectionBytes,
        record.collectionSha256,
        record.media.count,
        record.media.bytes,
        JSON.stringify(summary),
        record.originPath,
        record.verifiedAt,
      );
    return record;
  }

  list(): BackupRecord[] {
    return (this.db.prepare('SELECT * FROM backups_entries ORDER BY created_at DESC, id DESC').all() as Row[]).map((r) => this.toRecord(r));
  }

  get(id: string): BackupRecord {
    const row = this.db.prepare('SELECT * FROM backups_entries WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw makeError(BackupErrors.NOT_FOUND, { id });
    return this.toRecord(row);
  }

  /** The saved media files of a backup (from its manifest). */
  mediaFiles(id: string): MediaFileInfo[] {
    const rec = this.get(id);
    try {
      const manifest = JSON.parse(readText(path.join(rec.dir, MANIFEST))) as { mediaFiles?: MediaFileInfo[] };
      return manifest.mediaFiles ?? [];
    } catch (e) {
      throw makeError(BackupErrors.DAMAGED, { id, reason: `its manifest cannot be read: ${(e as Error).message}` }, e);
    }
  }

  /** Checks a stored backup again: the file is there, has its recorded digest, and passes integrity_check. */
  verify(id: string): BackupRecord {
    const rec = this.get(id);
    if (!existsSync(rec.collectionPath)) throw makeError(BackupErrors.DAMAGED, { id, reason: 'its collection file is missing' });
    const sha = hashFileSync(rec.collectionPath, 'sha256');
    if (sha !== rec.collectionSha256) throw makeError(BackupErrors.DAMAGED, { id, reason: 'its collection file has changed since it was taken' });
    try {
      verifyCollectionFile(rec.collectionPath);
    } catch (e) {
      throw makeError(BackupErrors.DAMAGED, { id, reason: (e as Error).message }, e);
    }
    for (const m of this.mediaFiles(id)) {
      if (!existsSync(path.join(rec.mediaDir, m.name))) throw makeError(BackupErrors.DAMAGED, { id, reason: `the media file ${m.name} is missing` });
    }
    return rec;
  }

  /** Applies the retention policy; returns the ids removed. */
  applyRetention(policy: RetentionPolicy = {}): string[] {
    const keepLast = policy.keepLast ?? 20;
    const keepProtected = policy.keepProtected ?? 20;
    const all = this.list();
    const removed: string[] = [];
    all.filter((b) => !b.protected).slice(keepLast).forEach((b) => removed.push(b.id));
    if (policy.allowProtected) all.filter((b) => b.protected).slice(keepProtected).forEach((b) => removed.push(b.id));
    for (const id of removed) this.remove(id, { allowProtected: policy.allowProtected === true });
    return removed;
  }

  remove(id: string, opts: { allowProtected?: boolean } = {}): void {
    const rec = this.get(id);
    if (rec.protected && !opts.allowProtected) return;
    // Row first: a crash between the two leaves an unlisted folder, never a listed backup without files.
    this.db.prepare('DELETE FROM backups_entries WHERE id = ?').run(id);
    rmSync(rec.dir, { recursive: true, force: true });
  }

  private toRecord(r: Row): BackupRecord {
    const dir = path.join(this.root, r.dir);
    return {
      id: r.id,
      createdAt: r.created_at,
      source: r.source,
      label: r.label,
      reason: r.reason as BackupReason,
      protected: r.protected === 1,
      dir,
      collectionPath: path.join(dir, 'collection.anki2'),
      mediaDir: path.join(dir, 'media'),
      collectionBytes: r.collection_bytes,
      collectionSha256: r.collection_sha256,
      media: { count: r.media_count, bytes: r.media_bytes },
      summary: r.summary === null ? null : (JSON.parse(r.summary) as CollectionSummary),
      originPath: r.origin_path,
      verifiedAt: r.verified_at,
    };
  }
}

/** Opens a copy read-only, runs integrity_check and summarises it; throws if anything is wrong. */
export function verifyCollectionFile(file: string): CollectionSummary {
  const db = openCollectionDb(file, { readonly: true });
  try {
    const check = db.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new Error(`integrity_check says: ${String(check)}`);
    return summarizeCollection(db);
  } finally {
    db.close();
  }
}

/** Hard links when possible (no space, and a later atomic overwrite in Anki's folder leaves ours intact), else copies. */
function saveMedia(from: string, to: string): MediaFileInfo[] {
  const files = listMediaFolder(from);
  for (const f of files) {
    const src = path.join(from, f.name);
    const dst = path.join(to, f.name);
    try {
      linkSync(src, dst);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw e;
      copyFileSync(src, dst);
    }
  }
  fsyncDir(to);
  return files;
}

function writeDurable(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
  fsyncFile(file);
}

function readText(file: string): string {
  return readFileSync(file, 'utf8');
}
