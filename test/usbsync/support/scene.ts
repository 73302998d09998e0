// A desktop profile and a phone folder (AnkiDroid's legacy layout) made by the real Anki peer,
// with the desktop room's services and USB sync on one state database, over the folder transport.
import Database from 'better-sqlite3';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { openFolderTransport } from '../../../src/usb/folder-transport.js';
import { openDesktopServices } from '../../../src/sync/desktop/services.js';
import { usbSyncDeps, type Connection, type UsbSyncDeps } from '../../../src/sync/usb-sync/service.js';
import { recoverUsbSync } from '../../../src/sync/usb-sync/recovery.js';
import type { RecoveryResult } from '../../../src/sync/journal/recover.js';

export interface Scene {
  root: string;
  desktop: string;
  phone: string;
  phoneRoot: string;
  conn: Connection;
  deps: UsbSyncDeps;
  db: Database.Database;
  recovered: RecoveryResult[];
  close(): Promise<void>;
}

export function copyCollection(from: string, to: string): void {
  mkdirSync(path.dirname(to), { recursive: true });
  rmSync(`${to}-wal`, { force: true });
  copyFileSync(from, to);
}

export async function openScene(root: string, opts: { stateDb?: string } = {}): Promise<Scene> {
  const desktop = path.join(root, 'anki', 'User 1', 'collection.anki2');
  const phoneRoot = path.join(root, 'phone');
  const phone = path.join(phoneRoot, 'AnkiDroid', 'collection.anki2');
  mkdirSync(path.dirname(desktop), { recursive: true });
  mkdirSync(path.join(path.dirname(desktop), 'collection.media'), { recursive: true });
  mkdirSync(path.dirname(phone), { recursive: true });
  const db = new Database(opts.stateDb ?? path.join(root, 'state.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const desk = openDesktopServices(db, path.join(root, 'data'));
  const deps = usbSyncDeps(db, path.join(root, 'data'), desk, path.join(root, 'tmp'));
  mkdirSync(path.join(root, 'tmp'), { recursive: true });
  const recovered = [...desk.recovered, ...recoverUsbSync(deps)];
  const transport = openFolderTransport(phoneRoot, 'Lab phone');
  const conn: Connection = {
    target: { profile: 'User 1', collectionPath: desktop, mediaDir: path.join(path.dirname(desktop), 'collection.media') },
    phone: { serial: 'LAB0001', manufacturer: 'Google', model: 'Pixel 7', label: 'Pixel 7' },
    transport,
  };
  return {
    root, desktop, phone, phoneRoot, conn, deps, db, recovered,
    async close() {
      await transport.close();
      db.close();
    },
  };
}
