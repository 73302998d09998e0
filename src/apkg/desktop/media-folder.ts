/**
 * The desktop media folder as a flat list of files (Anki ignores subfolders, §5.3), and the
 * helpers that make it equal to a saved set without ever deleting a user's file: a file that
 * has to go is moved to `media.trash/` beside it, where Anki itself puts deleted media.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { fsyncDir, fsyncFile, hashFileSync } from '../fs-durable.js';

export interface MediaFileInfo {
  name: string;
  size: number;
  mtimeMs: number;
}

/** Regular files directly in `dir` (none if it does not exist), sorted by name. */
export function listMediaFolder(dir: string): MediaFileInfo[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: MediaFileInfo[] = [];
  for (const name of names) {
    // Our own temporary files (".name.tmp-…") are not media.
    if (name.startsWith('.') && name.includes('.tmp-')) continue;
    const st = statSync(path.join(dir, name), { throwIfNoEntry: false });
    if (st?.isFile()) out.push({ name, size: st.size, mtimeMs: Math.trunc(st.mtimeMs) });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}


/** Same bytes? Cheap when both names are the same inode (a hard-linked backup). */
export function sameFileContent(a: string, b: string): boolean {
  const sa = statSync(a, { throwIfNoEntry: false });
  const sb = statSync(b, { throwIfNoEntry: false });
  if (!sa?.isFile() || !sb?.isFile() || sa.size !== sb.size) return false;
  if (sa.ino === sb.ino && sa.dev === sb.dev) return true;
  return hashFileSync(a, 'sha1') === hashFileSync(b, 'sha1');
}


/** Moves a media file into `<profile>/media.trash/` (never deletes it); returns where it went. */
export function moveToMediaTrash(mediaDir: string, name: string): string {
  const trash = path.join(path.dirname(mediaDir), 'media.trash');
  mkdirSync(trash, { recursive: true });
  let target = path.join(trash, name);
  if (existsSync(target)) {
    const ext = path.extname(name);
    target = path.join(trash, `${path.basename(name, ext)}-${Date.now()}${ext}`);
  }
  renameSync(path.join(mediaDir, name), target);
  return target;
}

/**
 * Makes `mediaDir` hold exactly the saved files (a backup's media): a missing or different file
 * is copied back (temp + rename; a different one is first moved to media.trash), a file that is
 * not in the saved set is moved to media.trash. Nothing is deleted.
 */
export function makeMediaFolderEqual(mediaDir: string, savedDir: string, saved: readonly MediaFileInfo[]): { restored: string[]; trashed: string[] } {
  mkdirSync(mediaDir, { recursive: true });
  const wanted = new Set(saved.map((f) => f.name));
  const restored: string[] = [];
  const trashed: string[] = [];
  for (const f of saved) {
    const from = path.join(savedDir, f.name);
    const to = path.join(mediaDir, f.name);
    if (existsSync(to) && sameFileContent(from, to)) continue;
    // A different file of that name may be newer work of the user's: it goes to the trash, not away.
    if (existsSync(to)) trashed.push(path.basename(moveToMediaTrash(mediaDir, f.name)));
    const tmp = path.join(mediaDir, `.${f.name}.tmp-restore`);
    copyFileSync(from, tmp);
    fsyncFile(tmp);
    renameSync(tmp, to);
    restored.push(f.name);
  }
  for (const cur of listMediaFolder(mediaDir)) {
    if (!wanted.has(cur.name)) {
      moveToMediaTrash(mediaDir, cur.name);
      trashed.push(cur.name);
    }
  }
  fsyncDir(mediaDir);
  return { restored, trashed };
}
