import { defineErrors } from '../define.js';

/**
 * Errors of the Anki sync protocol client (src/sync/cloud). Every one of them leaves the local
 * collection as it was: a normal sync runs in one transaction that is rolled back, a full
 * download is written beside the collection and only renamed over it once verified.
 */
export const CloudErrors = defineErrors('CLOUD', {
  AUTH_FAILED: {
    message: 'The sync server refused the login or the saved key for {user}.',
    hint: 'Check the user name and password and log in again (ankibridge login).',
    http: 401,
    exit: 77,
  },
  NOT_LOGGED_IN: {
    message: 'No sync key is saved for {endpoint}.',
    hint: 'Log in first (ankibridge login); only the key is kept, never the password.',
    http: 401,
    exit: 77,
  },
  TIMEOUT: {
    message: 'The sync server did not answer {step} within {seconds} seconds.',
    hint: 'Check the network and the server; nothing was changed and the next sync will try again.',
    http: 504,
    exit: 75,
  },
  NETWORK: {
    message: 'Could not reach the sync server for {step}: {reason}.',
    hint: 'Check the network connection and the server address; nothing was changed.',
    http: 502,
    exit: 69,
  },
  HTTP_STATUS: {
    message: 'The sync server answered {step} with HTTP status {status}.',
    hint: 'Nothing was changed. If this keeps happening, check the server (or AnkiWeb status) and try again later.',
    http: 502,
    exit: 69,
  },
  SERVER_ERROR: {
    message: 'The sync server failed while handling {step} (HTTP {status}).',
    hint: 'Nothing was changed. Try again later; the next scheduled sync retries by itself.',
    http: 502,
    exit: 69,
  },
  DATABASE_CHECK_REQUIRED: {
    message: 'The sync server rejected {step} (HTTP 400): the server or the collection found an inconsistency.',
    hint: 'Run Check Database in Anki Desktop, then sync again. The local collection was rolled back.',
    http: 502,
    exit: 65,
  },
  CONFLICT: {
    message: 'Another client is syncing with this account right now ({step}, HTTP 409).',
    hint: 'Only one copy of Anki can sync to an account at once. Wait a minute and try again.',
    http: 409,
    exit: 75,
  },
  CLIENT_TOO_OLD: {
    message: 'The sync server says this client is too old (HTTP 501).',
    hint: 'Update ankibridge.',
    http: 502,
    exit: 69,
  },
  UNEXPECTED_REDIRECT: {
    message: 'The sync server redirected {step} to {location}, which the protocol does not allow there.',
    hint: 'Check the sync server address; only the first request of a sync may be redirected.',
    http: 502,
    exit: 69,
  },
  BAD_RESPONSE: {
    message: 'The sync server sent an answer to {step} that is not valid: {reason}.',
    hint: 'Nothing was changed. The server may be misconfigured or a proxy may be altering the data.',
    http: 502,
    exit: 65,
  },
  SERVER_MESSAGE: {
    message: 'The sync server stopped the sync and said: "{serverMessage}".',
    hint: 'Follow the server message; nothing was changed.',
    http: 502,
    exit: 69,
  },
  CLOCK_INCORRECT: {
    message: 'This computer clock differs from the sync server by {seconds} seconds.',
    hint: 'Set the correct date, time and time zone, then sync again.',
    http: 409,
    exit: 65,
  },
  FULL_SYNC_REQUIRED: {
    message: 'A full sync is required: {reason}. One side must overwrite the other.',
    hint: 'Choose a direction explicitly (upload replaces the server copy, download replaces the local copy); the side that is replaced is backed up first.',
    http: 409,
    exit: 73,
  },
  DIRECTION_NOT_ALLOWED: {
    message: 'A full {direction} is not allowed here: {reason}.',
    hint: 'Choose the other direction, or cancel.',
    http: 409,
    exit: 73,
  },
  SANITY_CHECK_FAILED: {
    message: 'After syncing, the local and server collections do not match (local {client}, server {server}).',
    hint: 'The local changes were rolled back and the next sync will need a full sync; choose which side to keep.',
    http: 409,
    exit: 65,
  },
  RESYNC_REQUIRED: {
    message: 'The sync cannot apply a change to note type {notetype}: its fields or templates differ.',
    hint: 'A full sync is needed; nothing was changed locally.',
    http: 409,
    exit: 65,
  },
  MEDIA_SANITY_FAILED: {
    message: 'The media on this computer and on the server disagree ({local} files here).',
    hint: 'The media state was reset; the next sync compares all files again.',
    http: 409,
    exit: 65,
  },
  COLLECTION_BUSY: {
    message: 'The collection {path} is open in Anki Desktop.',
    hint: 'Close Anki Desktop (or let it sync through AnkiConnect); ankibridge never writes a collection Anki has open.',
    http: 409,
    exit: 75,
  },
  UPLOAD_TOO_LARGE: {
    message: 'The collection is too large to upload to AnkiWeb ({size} bytes, limit {limit}).',
    hint: 'Remove unused note types or media from the collection, or use a self-hosted server.',
    http: 413,
    exit: 65,
  },
  UPLOAD_REJECTED: {
    message: 'The sync server did not accept the uploaded collection and said: "{serverMessage}".',
    hint: 'Run Check Database in Anki Desktop, then try again. The server copy is unchanged.',
    http: 502,
    exit: 65,
  },
  DOWNLOAD_CORRUPT: {
    message: 'The collection downloaded from the sync server is not valid: {reason}.',
    hint: 'Nothing was replaced; the local collection is unchanged. Try again later.',
    http: 502,
    exit: 65,
  },
  LOCAL_COLLECTION_INVALID: {
    message: 'The local collection {path} cannot be synced: {reason}.',
    hint: 'Run Check Database in Anki Desktop, then sync again.',
    http: 409,
    exit: 65,
  },
  BAD_ENDPOINT: {
    message: 'The sync server address {endpoint} is not a valid http(s) URL.',
    hint: 'Use an address like https://sync.ankiweb.net/ or http://host:8080/.',
    http: 400,
    exit: 64,
  },
  CREDENTIAL_STORE: {
    message: 'Could not {operation} the sync key in the credential store: {reason}.',
    hint: 'Check that the OS keyring is unlocked, or that the ankibridge config folder is writable.',
    http: 500,
    exit: 74,
  },
  KEYRING_LOCKED: {
    message: 'The OS keyring is locked, so the sync key for {endpoint} cannot be read.',
    hint: 'Unlock the keyring (log in to the desktop session, or unlock it in your passwords app) and try again; or run ankibridge login again, which keeps the key in a 0600 file while the keyring stays locked.',
    http: 503,
    exit: 75,
  },
  KEYRING_TIMEOUT: {
    message: 'The OS keyring did not answer within {seconds} seconds when asked to {operation} the sync key (it may be waiting for an unlock prompt).',
    hint: 'Answer or dismiss the keyring prompt, or unlock the keyring, and try again; ankibridge login keeps the key in a 0600 file while the keyring does not answer.',
    http: 504,
    exit: 75,
  },
});
