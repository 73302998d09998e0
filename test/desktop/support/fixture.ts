/**
 * The shared scene of the desktop replace tests, made by real Anki: a base folder with two
 * profiles; a "phone" copy of the desktop collection that moved on (new notes, reviews, media,
 * and one media file with the desktop's name but other content) exported as a .colpkg; and
 * reviews made on the desktop after the copy, which the package therefore lacks.
 */
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AnkiPeer } from '../../peer/peer.js';
import { makeAnkiBase } from './anki-base.js';
import { saveProfile } from './files.js';

export interface DesktopScene {
  base: string;
  profileDir: string;
  collectionPath: string;
  mediaDir: string;
  /** A copy of the profile folder as it was before any test touched it. */
  pristine: string;
  phoneCollection: string;
  packagePath: string;
  desktopMedia: string[];
}

export async function makeDesktopScene(peer: AnkiPeer, root: string): Promise<DesktopScene> {
  const base = path.join(root, 'Anki2');
  const [desk] = await makeAnkiBase(
    peer,
    base,
    [
      { name: 'User 1', notes: 40, seed: 11, media: 4, reviewsPerCard: 2 },
      { name: 'Other', notes: 3, seed: 12 },
    ],
    'User 1',
  );
  const profileDir = path.dirname(desk!.collectionPath);
  const desktopMedia = readdirSync(desk!.mediaDir).sort();
  // the phone starts as a copy of the desktop and moves on
  const phoneDir = path.join(root, 'phone');
  mkdirSync(phoneDir, { recursive: true });
  const phoneCollection = path.join(phoneDir, 'collection.anki2');
  cpSync(desk!.collectionPath, phoneCollection);
  cpSync(desk!.mediaDir, path.join(phoneDir, 'collection.media'), { recursive: true });
  await peer.modify(
    phoneCollection,
    [
      { op: 'advanceClock', seconds: 1 },
      { op: 'addNotes', count: 5, tags: ['phone'] },
      { op: 'review', count: 6, ease: 3 },
      { op: 'addMedia', name: 'phone-only.png', base64: Buffer.from('phone picture').toString('base64') },
    ],
    { seed: 5 },
  );
  // a file the phone changed in place: same name as on the desktop, other content
  writeFileSync(path.join(phoneDir, 'collection.media', desktopMedia[0]!), 'the phone changed this file');
  // meanwhile the desktop gets reviews of its own
  await peer.modify(desk!.collectionPath, [{ op: 'advanceClock', seconds: 1 }, { op: 'review', count: 7, ease: 4 }], { seed: 6 });
  const packagePath = path.join(root, 'phone.colpkg');
  await peer.exportPackage({ path: phoneCollection, out: packagePath, kind: 'colpkg' });
  const pristine = path.join(root, 'pristine-profile');
  saveProfile(profileDir, pristine);
  return { base, profileDir, collectionPath: desk!.collectionPath, mediaDir: desk!.mediaDir, pristine, phoneCollection, packagePath, desktopMedia };
}
