/**
 * The client media database Anki keeps beside the collection (`<name>.media.db2`): which files
 * the last media sync knew (sha1, mtime) and which changed since (`dirty`), plus the server usn
 * reached (`meta.lastUsn`). Using Anki's own file (same tables, observed in a real one) means
 * Anki Desktop and ankibridge share one view of what was synced.
 */
import Database from 'better-sqlite3';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { hashFileSync } from '../../../apkg/fs-durable.js';

export interface MediaRow {
  fname: string;
  csum: string | null;
  mtime: number;
  dirty: number;
}

export function mediaPaths(collectionPath: string): { dir: string; db: string } {
  const base = collectionPath.replace(/\.anki2$/, '');
  return { dir: `${base}.media`, db: `${base}.media.db2` };
}


/** Names Anki would never create or sync; skipped when scanning. */
function ignoredName(name: string): boolean {
  return name.startsWith('.') || name === 'thumbs.db' || name === 'Thumbs.db' || name === 'desktop.ini';
}

export class MediaDb {
  readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS media (fname text NOT NULL PRIMARY KEY, csum text, mtime int NOT NULL, dirty int NOT NULL) without rowid;
      CREATE INDEX IF NOT EXISTS idx_media_dirty ON media (dirty) WHERE dirty = 1;
      CREATE TABLE IF NOT EXISTS meta (dirMod int, lastUsn int);
    `);
    if (!this.db.prepare('SELECT 1 FROM meta').get()) this.db.prepare('INSERT INTO meta (dirMod, lastUsn) VALUES (0, 0)').run();
  }

  close(): void {
    this.db.close();
  }

  lastUsn(): number {
    return (this.db.prepare('SELECT lastUsn FROM meta').get() as { lastUsn: number }).lastUsn;
  }

  setLastUsn(usn: number): void {
    this.db.prepare('UPDATE meta SET lastUsn = ?').run(usn);
  }

  get(fname: string): MediaRow | undefined {
    return this.db.prepare('SELECT * FROM media WHERE fname = ?').get(fname) as MediaRow | undefined;
  }

  put(row: MediaRow): void {
    this.db.prepare('INSERT OR REPLACE INTO media (fname, csum, mtime, dirty) VALUES (?, ?, ?, ?)').run(row.fname, row.csum, row.mtime, row.dirty);
  }

  remove(fname: string): void {
    this.db.prepare('DELETE FROM media WHERE fname = ?').run(fname);
  }

  dirty(limit: number): MediaRow[] {
    return this.db.prepare('SELECT * FROM media WHERE dirty = 1 ORDER BY fname LIMIT ?').all(limit) as MediaRow[];
  }

  markClean(fname: string): void {
    this.db.prepare('UPDATE media SET dirty = 0 WHERE fname = ?').run(fname);
  }

  nonDeletedCount(): number {
    return (this.db.prepare('SELECT count() AS n FROM media WHERE csum IS NOT NULL').get() as { n: number }).n;
  }

  /** Media sanity failed: forget everything, the next sync compares all files again (doc §6.5). */
  forceResync(): void {
    this.db.exec('DELETE FROM media; UPDATE meta SET lastUsn = 0, dirMod = 0');
  }

  /**
   * Brings the DB in line with the folder: new or changed files become dirty with their sha1,
   * files that disappeared become dirty deletions (csum NULL). Unchanged mtime = unchanged file.
   */
  scan(dir: string): { added: number; removed: number } {
    let added = 0;
    let removed = 0;
    const seen = new Set<string>();
    const names = existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : [];
    const tx = this.db.transaction(() => {
      for (const ent of names) {
        if (!ent.isFile() || ignoredName(ent.name)) continue;
        const name = ent.name.normalize('NFC');
        if (name !== ent.name) continue; // not normalised: Anki would rename it; we leave it alone
        seen.add(name);
        const full = path.join(dir, name);
        const mtime = Math.floor(statSync(full).mtimeMs / 1000);
        const row = this.get(name);
        if (row && row.csum !== null && row.mtime === mtime) continue;
        const csum = hashFileSync(full, 'sha1');
        if (row && row.csum === csum) {
          this.put({ ...row, mtime });
          continue;
        }
        this.put({ fname: name, csum, mtime, dirty: 1 });
        added++;
      }
      for (const row of this.db.prepare('SELECT * FROM media WHERE csum IS NOT NULL').all() as MediaRow[]) {
        if (seen.has(row.fname)) continue;
        this.put({ fname: row.fname, csum: null, mtime: 0, dirty: 1 });
        removed++;
      }
    });
    tx();
    return { added, removed };
  }
}
