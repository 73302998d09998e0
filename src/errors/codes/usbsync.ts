import { defineErrors } from '../define.js';

/** USB sync (src/sync/usb-sync): the pair state, the guard and the push/pull/merge transactions. */
export const UsbSyncErrors = defineErrors('USBSYNC', {
  GUARD_REFUSED: {
    message: 'Refused: {lost}.',
    hint: 'Choose "Sync both" to keep the work of both sides, or confirm the overwrite (--confirm) if you really want to throw that work away; the overwritten side is backed up first.',
    http: 409,
    exit: 73,
  },
  FIRST_MEETING: {
    message: 'This phone and the desktop profile "{profile}" have never been synced by ankibridge, and their collections differ: {detail}.',
    hint: 'Compare both sides, then choose a direction and confirm it (--confirm); the overwritten side is backed up first.',
    http: 409,
    exit: 73,
  },
  CANNOT_MERGE: {
    message: 'The two collections cannot be merged: {reason}.',
    hint: 'Choose one side: copy phone → desktop or desktop → phone, with confirmation (the other side is backed up first).',
    http: 409,
    exit: 73,
  },
  NO_BASE: {
    message: 'There is no common base for this phone and profile "{profile}" yet, so a merge cannot tell additions from deletions.',
    hint: 'Copy one side over the other once (with confirmation); later changes on both sides can then be merged.',
    http: 409,
    exit: 73,
  },
  PHONE_COLLECTION_NOT_FOUND: {
    message: 'No AnkiDroid collection was found on {device}: neither the live collection folder nor an exported collection package (.colpkg).',
    hint: 'In AnkiDroid, choose ⋮ → Export collection, save the .colpkg to Download, then plug the phone in again.',
    http: 404,
    exit: 66,
  },
  PHONE_READ_INCONSISTENT: {
    message: 'The collection on {device} kept changing while it was being read ({attempts} attempts).',
    hint: 'Close AnkiDroid on the phone (swipe it away from recent apps), then try again.',
    http: 503,
    exit: 75,
  },
  PAIR_NOT_FOUND: {
    message: 'ankibridge knows no phone "{phone}" paired with the desktop profile "{profile}".',
    hint: 'Plug the phone in (unlocked, USB set to File transfer) and try again.',
    http: 404,
    exit: 66,
  },
  NOTHING_TO_DO: {
    message: 'Nothing to do: {reason}.',
    hint: 'The desktop and the phone already hold the same collection.',
    http: 409,
    exit: 65,
  },
  TRANSACTION_FAILED: {
    message: 'The {kind} stopped while {step}: {reason}.',
    hint: 'Nothing was lost: the step was rolled back and both collections are as before (backups are listed by `ankibridge backups`). Try again.',
    http: 500,
    exit: 74,
  },
});
