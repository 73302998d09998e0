/**
 * Getting the collection file that goes into a package: a consistent private snapshot (file and
 * -wal folded together, see snapshot.ts) in the schema the format needs — 18 for latest, 11 for
 * legacy — converted by the COLLECTION room's converters when it is not.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { openCollectionDb } from '../sqlite.js';
import { detectSchema } from '../collection/schema.js';
import { downgradeToSchema11, upgradeToSchema18 } from '../collection/convert.js';
import { snapshotCollection } from './snapshot.js';
import { renamePath } from './validate.js';

export interface SourceCollection {
  file: string;
  size: number;
  schema: number;
}

export async function prepareSourceCollection(src: string, wantSchema: 11 | 18, workDir: string): Promise<SourceCollection> {
  const snapshot = path.join(workDir, 'snapshot.anki2');
  await snapshotCollection(src, snapshot);
  let ver: number;
  try {
    const db = openCollectionDb(snapshot, { readonly: true });
    try {
      ver = detectSchema(db).ver;
    } finally {
      db.close();
    }
  } catch (e) {
    throw renamePath(e, snapshot, src);
  }
  if (ver === wantSchema) return { file: snapshot, size: (await stat(snapshot)).size, schema: ver };
  const converted = path.join(workDir, `schema${wantSchema}.anki2`);
  try {
    if (wantSchema === 11) downgradeToSchema11(snapshot, converted);
    else upgradeToSchema18(snapshot, converted);
  } catch (e) {
    throw renamePath(e, snapshot, src);
  }
  return { file: converted, size: (await stat(converted)).size, schema: wantSchema };
}
