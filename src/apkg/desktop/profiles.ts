/**
 * The profiles of an Anki base folder, read from prefs21.db (table `profiles(name, data)`, each
 * `data` a Python pickle; row `_global` holds program-wide prefs such as the profile opened last).
 * Read-only; the pickles go through our own strict reader (pickle.ts), never Python.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { makeError } from '../../errors/define.js';
import { DesktopErrors } from '../../errors/codes/desktop.js';
import { findBaseFolder, type BaseFolderInputs, type BaseFolderSource } from './base-folder.js';
import { expectDict, unpickle, type PickleDict } from './pickle.js';

export interface DesktopProfile {
  name: string;
  folder: string;
  /** `<folder>/collection.anki2` */
  collectionPath: string;
  /** `<folder>/collection.media` */
  mediaDir: string;
  /** `<folder>/collection.media.db2` */
  mediaDbPath: string;
  hasCollection: boolean;
  /** The AnkiWeb / sync server user name, if the profile has logged in (never the key). */
  syncUser: string | null;
  /** A custom sync server URL set in the profile, if any. */
  customSyncUrl: string | null;
}

export interface AnkiBaseInfo {
  base: string;
  source: BaseFolderSource;
  profiles: DesktopProfile[];
  /** `last_loaded_profile_name` from `_global`, if it names an existing profile. */
  lastLoaded: string | null;
}

const GLOBAL_ROW = '_global';

/** Paths of a profile's files, the way Anki derives them (§5.3, §6.2). */
export function profilePaths(base: string, name: string): Pick<DesktopProfile, 'folder' | 'collectionPath' | 'mediaDir' | 'mediaDbPath'> {
  const folder = path.join(base, name);
  return {
    folder,
    collectionPath: path.join(folder, 'collection.anki2'),
    mediaDir: path.join(folder, 'collection.media'),
    mediaDbPath: path.join(folder, 'collection.media.db2'),
  };
}

/** A profile name is a folder name inside the base: one plain path component. */
function safeProfileName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);
}

function readRows(prefsPath: string): Array<{ name: string; data: Buffer }> {
  let db: Database.Database | undefined;
  try {
    db = new Database(prefsPath, { readonly: true, fileMustExist: true, timeout: 2000 });
    db.pragma('query_only = ON');
    const rows = db.prepare('SELECT name, data FROM profiles').all() as Array<{ name: unknown; data: unknown }>;
    return rows.map((r) => {
      if (typeof r.name !== 'string') throw new Error('a profile name is not text');
      const data = Buffer.isBuffer(r.data) ? r.data : typeof r.data === 'string' ? Buffer.from(r.data, 'latin1') : null;
      if (data === null) throw new Error(`the data of profile "${r.name}" is not a blob`);
      return { name: r.name, data };
    });
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('ANKIBRIDGE_ERR_')) throw e;
    throw makeError(DesktopErrors.PREFS_UNREADABLE, { path: prefsPath, reason: (e as Error).message }, e);
  } finally {
    db?.close();
  }
}

function str(d: PickleDict, key: string): string | null {
  const v = d[key];
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/** Reads prefs21.db of a base folder: the profiles (sorted, as Anki lists them) and the last one used. */
export function readAnkiBase(base: string, source: BaseFolderSource = 'configured'): AnkiBaseInfo {
  const prefsPath = path.join(base, 'prefs21.db');
  if (!existsSync(prefsPath)) {
    throw makeError(DesktopErrors.PREFS_UNREADABLE, { path: prefsPath, reason: 'the file does not exist' });
  }
  const rows = readRows(prefsPath);
  let lastLoaded: string | null = null;
  const profiles: DesktopProfile[] = [];
  for (const row of rows) {
    if (row.name === GLOBAL_ROW) {
      const meta = expectDict(unpickle(row.data), 'the _global preferences');
      lastLoaded = str(meta, 'last_loaded_profile_name');
      continue;
    }
    if (!safeProfileName(row.name)) {
      throw makeError(DesktopErrors.PREFS_UNREADABLE, { path: prefsPath, reason: `the profile name ${JSON.stringify(row.name)} is not a folder name` });
    }
    let prefs: PickleDict;
    try {
      prefs = expectDict(unpickle(row.data), `the preferences of profile "${row.name}"`);
    } catch (e) {
      // One damaged profile row must not hide the others: list it without its extras.
      void e;
      prefs = Object.create(null) as PickleDict;
    }
    const p = profilePaths(base, row.name);
    profiles.push({
      name: row.name,
      ...p,
      hasCollection: existsSync(p.collectionPath),
      syncUser: str(prefs, 'syncUser'),
      customSyncUrl: str(prefs, 'customSyncUrl'),
    });
  }
  profiles.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (lastLoaded !== null && !profiles.some((p) => p.name === lastLoaded)) lastLoaded = null;
  return { base, source, profiles, lastLoaded };
}

/** The full pickled preferences of one profile (for code that needs e.g. the sync key). */
export function readProfilePrefs(base: string, name: string): PickleDict {
  const rows = readRows(path.join(base, 'prefs21.db'));
  const row = rows.find((r) => r.name.toLowerCase() === name.toLowerCase() && r.name !== GLOBAL_ROW);
  if (!row) throw makeError(DesktopErrors.PROFILE_NOT_FOUND, { profile: name, base, profiles: rows.map((r) => r.name).filter((n) => n !== GLOBAL_ROW).join(', ') });
  return expectDict(unpickle(row.data), `the preferences of profile "${row.name}"`);
}

export interface ProfileSelection extends BaseFolderInputs {
  /** --profile; case-insensitive like Anki's `COLLATE NOCASE`. Default: the profile opened last. */
  profile?: string | undefined;
}

/** Finds the base folder and picks the profile: the one asked for, else the last used, else the first. */
export function resolveDesktopProfile(sel: ProfileSelection = {}): { info: AnkiBaseInfo; profile: DesktopProfile } {
  const found = findBaseFolder(sel);
  const info = readAnkiBase(found.path, found.source);
  if (info.profiles.length === 0) throw makeError(DesktopErrors.NO_PROFILE, { base: info.base });
  let profile: DesktopProfile | undefined;
  if (sel.profile !== undefined) {
    const wanted = sel.profile.toLowerCase();
    profile = info.profiles.find((p) => p.name.toLowerCase() === wanted);
    if (!profile) {
      throw makeError(DesktopErrors.PROFILE_NOT_FOUND, { profile: sel.profile, base: info.base, profiles: info.profiles.map((p) => p.name).join(', ') });
    }
  } else {
    profile = info.profiles.find((p) => p.name === info.lastLoaded) ?? info.profiles[0];
  }
  return { info, profile: profile as DesktopProfile };
}

/** Like resolveDesktopProfile, and the collection file must exist. */
export function resolveDesktopCollection(sel: ProfileSelection = {}): { info: AnkiBaseInfo; profile: DesktopProfile } {
  const r = resolveDesktopProfile(sel);
  if (!existsSync(r.profile.collectionPath)) {
    throw makeError(DesktopErrors.COLLECTION_NOT_FOUND, { profile: r.profile.name, path: r.profile.collectionPath });
  }
  return r;
}
