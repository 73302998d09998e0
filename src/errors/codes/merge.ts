import { defineErrors } from '../define.js';

/**
 * Errors of the three-way merge (src/apkg/merge). In every case nothing was written: the merged
 * file only appears, atomically, when the whole merge succeeded.
 */
export const MergeErrors = defineErrors('MERGE', {
  SCHEMA_CHANGED: {
    message:
      'The {side} collection had a structural change since the two last agreed (its schema stamp changed from {baseScm} to {sideScm}), so the changes cannot be merged.',
    hint:
      'A note type gained or lost a field or card type, a note type or deck option preset was deleted, or the collection was replaced. Anki itself needs a one-way sync here: choose which side to keep (desktop → phone or phone → desktop). The other side is backed up first.',
    http: 409,
    exit: 73,
  },
  NOT_SAME_COLLECTION: {
    message: 'The {side} collection is not a copy of the base collection (created {sideCrt}, the base {baseCrt}).',
    hint: 'The phone and the desktop hold different collections. Choose which side to keep, or pair the phone again. Nothing was changed.',
    http: 409,
    exit: 65,
  },
  UNSUPPORTED_SCHEMA: {
    message: 'The {side} collection has schema version {ver}; the merge works on version 18 and converts 11.',
    hint: 'Open the collection once in a current Anki or AnkiDroid (which upgrades it) and try again. Nothing was changed.',
    http: 422,
    exit: 65,
  },
  UNSAFE_INPUT: {
    message: 'The {side} collection contains a {kind} named {name}, which Anki never creates.',
    hint: 'The file was not written by Anki. Use a backup or export the collection again. Nothing was changed.',
    http: 422,
    exit: 65,
  },
  RESULT_INVALID: {
    message: 'The merged collection failed its integrity check: {reason}.',
    hint: 'Nothing was replaced. Please report this with the log file (ankibridge logs); meanwhile choose a side to keep.',
    http: 500,
    exit: 70,
  },
});
