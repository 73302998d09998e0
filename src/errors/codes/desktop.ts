import { defineErrors } from '../define.js';

/**
 * Errors about the desktop Anki profile: finding it, reading prefs21.db, knowing whether Anki
 * Desktop has the collection open, and replacing the collection. In every case the desktop
 * collection was left as it was.
 */
export const DesktopErrors = defineErrors('DESKTOP', {
  BASE_NOT_FOUND: {
    message: 'No Anki Desktop folder was found (looked in: {searched}).',
    hint: 'Start Anki Desktop once so that it creates its folder, or pass --base <folder> (or set ANKI_BASE) to the folder that holds prefs21.db.',
    http: 404,
    exit: 66,
  },
  PREFS_UNREADABLE: {
    message: 'The Anki preferences file {path} could not be read: {reason}.',
    hint: 'Check that the folder is an Anki base folder (it holds prefs21.db). Nothing was changed.',
    http: 422,
    exit: 65,
  },
  PICKLE_INVALID: {
    message: 'A stored Anki preference could not be decoded: {reason}.',
    hint: 'The file prefs21.db may be damaged or from an unknown Anki version; start Anki once to rewrite it. Nothing was changed.',
    http: 422,
    exit: 65,
  },
  PROFILE_NOT_FOUND: {
    message: 'There is no Anki profile named "{profile}" in {base} (profiles: {profiles}).',
    hint: 'Pass one of the listed names with --profile, or leave it out to use the profile Anki opened last.',
    http: 404,
    exit: 66,
  },
  NO_PROFILE: {
    message: 'The Anki folder {base} has no profile yet.',
    hint: 'Start Anki Desktop once so that it creates a profile, then try again.',
    http: 404,
    exit: 66,
  },
  COLLECTION_NOT_FOUND: {
    message: 'The profile "{profile}" has no collection file at {path}.',
    hint: 'Open the profile in Anki Desktop once so that it creates its collection, then try again.',
    http: 404,
    exit: 66,
  },
  ANKI_OPEN: {
    message: 'Anki Desktop has the collection {path} open, so it cannot be {operation}.',
    hint: 'Close Anki Desktop (or switch it to another profile) and try again. Nothing was changed.',
    http: 409,
    exit: 69,
  },
  LOCK_LOST: {
    message: 'The collection {path} was changed by another program (Anki Desktop?) while ankibridge was {operation} it.',
    hint: 'Close Anki Desktop and run the command again, so that ankibridge compares against the newest state. The collection was left as it was.',
    http: 409,
    exit: 75,
  },
  WOULD_LOSE_WORK: {
    message: 'Importing {package} would lose work made on this computer: {lost}.',
    hint: 'Sync both sides instead, or run the command again with --force to replace the desktop collection anyway (a backup is made first).',
    http: 409,
    exit: 73,
  },
  NOT_A_COLLECTION_PACKAGE: {
    message: 'The file {path} is a deck package (.apkg), which is merged into a collection, not a whole collection to replace it with.',
    hint: 'Export "Anki collection package (.colpkg)" on the other side, or import this deck package in Anki Desktop (File > Import). Nothing was changed.',
    http: 422,
    exit: 65,
  },
  ANKICONNECT_FAILED: {
    message: 'AnkiConnect at {url} did not do "{action}": {reason}.',
    hint: 'Check that Anki Desktop is running with the AnkiConnect add-on, and that the key (if you set one) is right.',
    http: 502,
    exit: 69,
  },
  REPLACE_FAILED: {
    message: 'Replacing the desktop collection {path} failed while {step}: {reason}.',
    hint: 'The collection was left as it was before (the journal rolled the change back). Check free disk space and try again.',
    http: 500,
    exit: 74,
  },
});
