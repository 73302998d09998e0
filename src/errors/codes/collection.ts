import { defineErrors } from '../define.js';

/**
 * Errors of the SQLite side of src/apkg: opening, validating, fingerprinting and converting an
 * Anki collection file. A collection may come from anyone (a phone, a downloaded package), so
 * every way it can be wrong has its own code; in every case nothing was changed.
 */
export const CollectionErrors = defineErrors('COLLECTION', {
  NOT_SQLITE: {
    message: 'The file {path} is not an Anki collection: it is not an SQLite database.',
    hint: 'Pick the collection file itself (collection.anki2) or a package (.apkg/.colpkg). Nothing was changed.',
    http: 422,
    exit: 65,
  },
  CORRUPT: {
    message: 'The collection {path} is damaged: {reason}.',
    hint: 'Nothing was changed. Use a backup of this collection, or run Tools > Check Database in Anki on the device it came from and export it again.',
    http: 422,
    exit: 65,
  },
  SCHEMA_TOO_NEW: {
    message: 'The collection {path} has schema version {ver}, newer than this ankibridge understands (up to {max}).',
    hint: 'Update ankibridge. If the file came from a phone, check that AnkiDroid and Anki Desktop are both current. Nothing was changed.',
    http: 422,
    exit: 65,
  },
  SCHEMA_TOO_OLD: {
    message: 'The collection {path} has schema version {ver}, older than any Anki 2.x collection (11).',
    hint: 'Open it once in a current Anki Desktop, which upgrades it, then try again. Nothing was changed.',
    http: 422,
    exit: 65,
  },
  SCHEMA_UNSUPPORTED: {
    message: 'The collection {path} has schema version {ver}, an intermediate version that no released Anki wrote.',
    hint: 'Open it in a current Anki Desktop and export it again. Nothing was changed.',
    http: 422,
    exit: 65,
  },
  MISSING_TABLE: {
    message: 'The collection {path} (schema {ver}) lacks the table {table} that Anki needs.',
    hint: 'The file is not a complete Anki collection. Export it again from Anki or AnkiDroid. Nothing was changed.',
    http: 422,
    exit: 65,
  },
  UNSAFE_SCHEMA: {
    message: 'The collection {path} contains a {kind} named {name}; Anki collections never do, and ankibridge refuses to run code stored in a file.',
    hint: 'The file was altered outside Anki. Use an export made by Anki or AnkiDroid itself. Nothing was changed.',
    http: 422,
    exit: 65,
  },
  UNICASE_NOT_BUILT: {
    message: 'The SQLite extension for Anki\'s "unicase" collation was not found at {path}.',
    hint: 'Run `npm run prepare` (it needs a C compiler, e.g. `apt-get install build-essential`) and try again.',
    http: 500,
    exit: 69,
  },
  OUTPUT_IS_SOURCE: {
    message: 'Refusing to convert {path} onto itself.',
    hint: 'Give a different output file: the source collection is never modified.',
    http: 400,
    exit: 64,
  },
  CONVERT_FAILED: {
    message: 'Could not convert the collection {path} to schema {to}: {reason}.',
    hint: 'Nothing was written. The collection may hold data this version of ankibridge does not know; please report it.',
    http: 422,
    exit: 65,
  },
});
