import { defineErrors } from '../define.js';

/**
 * Errors of the PACKAGE room: the zip container of .apkg/.colpkg files (src/apkg/package/).
 * A package can come from anyone, so every way it can be broken or hostile has its own code.
 * Errors about the SQLite collection inside live in the COLLECTION room.
 */
export const PackageErrors = defineErrors('PACKAGE', {
  NOT_A_PACKAGE: {
    message: 'The file {path} is neither an Anki package (.apkg/.colpkg) nor an Anki collection file.',
    hint: 'Choose a file exported by Anki or AnkiDroid (.colpkg, .apkg) or a collection.anki2 file. Nothing was changed.',
    http: 422,
    exit: 65,
  },
  TRUNCATED: {
    message: 'The package {path} is incomplete: {reason}.',
    hint: 'The file was probably cut off while copying or downloading. Copy or export it again. Nothing was changed.',
    http: 422,
    exit: 65,
  },
  ZIP_CORRUPT: {
    message: 'The package {path} is damaged: {reason}.',
    hint: 'Export the package again from Anki or AnkiDroid. Nothing was changed.',
    http: 422,
    exit: 65,
  },
  ZIP_SLIP: {
    message: 'The package {path} contains an entry with an unsafe name ({entry}) that could write outside its folder.',
    hint: 'This file was not made by Anki and may be malicious; it was refused and nothing was written.',
    http: 422,
    exit: 65,
  },
  ZIP_BOMB: {
    message: 'The package {path} would unpack to far more data than it holds ({reason}).',
    hint: 'This looks like a decompression bomb and was refused; nothing was written. If the package is genuine, raise the package limits.',
    http: 422,
    exit: 65,
  },
  TOO_MANY_ENTRIES: {
    message: 'The package {path} has {count} entries, more than the limit of {limit}.',
    hint: 'This is not a package Anki would make; it was refused. If it is genuine, raise the package limits.',
    http: 422,
    exit: 65,
  },
  DUPLICATE_ENTRY: {
    message: 'The package {path} contains the entry {entry} more than once.',
    hint: 'Different programs would read different data from such a file, so it was refused. Export the package again.',
    http: 422,
    exit: 65,
  },
  UNSUPPORTED_ENTRY: {
    message: 'The package {path} stores the entry {entry} in a way ankibridge cannot read ({reason}).',
    hint: 'Anki only writes plain or deflated entries without encryption. Export the package again from Anki.',
    http: 422,
    exit: 65,
  },
  TOO_NEW: {
    message: 'The package {path} was made by a newer Anki (package version {version}).',
    hint: 'Update ankibridge, or export the package again with "Support older Anki versions" ticked.',
    http: 422,
    exit: 65,
  },
  META_INVALID: {
    message: 'The version information (meta) in the package {path} cannot be read: {reason}.',
    hint: 'The package is damaged; export it again. Nothing was changed.',
    http: 422,
    exit: 65,
  },
  MISSING_COLLECTION: {
    message: 'The package {path} does not contain a collection ({entry} is missing).',
    hint: 'The file is not a complete Anki package; export it again. Nothing was changed.',
    http: 422,
    exit: 65,
  },
  COMPRESSED_DATA_CORRUPT: {
    message: 'The compressed data of {entry} in the package {path} is damaged: {reason}.',
    hint: 'Export the package again. Nothing was changed.',
    http: 422,
    exit: 65,
  },
  MEDIA_MAP_INVALID: {
    message: 'The list of media files in the package {path} cannot be read: {reason}.',
    hint: 'The package is damaged; export it again. Nothing was changed.',
    http: 422,
    exit: 65,
  },
  MEDIA_NAME_INVALID: {
    message: 'The package {path} names a media file "{name}", which is not a safe, normalized file name.',
    hint: 'Anki never writes such names; the package was refused and nothing was written.',
    http: 422,
    exit: 65,
  },
  MEDIA_DUPLICATE_NAME: {
    message: 'The package {path} lists the media file "{name}" more than once.',
    hint: 'The package is damaged or was not made by Anki; it was refused. Export it again.',
    http: 422,
    exit: 65,
  },
  MEDIA_SHA1_INVALID: {
    message: 'The package {path} gives the media file "{name}" a checksum of {length} bytes instead of 20.',
    hint: 'The package is damaged or was not made by Anki; it was refused. Export it again.',
    http: 422,
    exit: 65,
  },
  MEDIA_ENTRY_MISSING: {
    message: 'The package {path} lists the media file "{name}" (entry {entry}), but the entry is not in the package.',
    hint: 'The package is incomplete; export it again. Nothing was changed.',
    http: 422,
    exit: 65,
  },
  MEDIA_MISMATCH: {
    message: 'The media file "{name}" in the package {path} does not match its recorded {what}.',
    hint: 'The package is damaged; export it again. The file was not written.',
    http: 422,
    exit: 65,
  },
  SOURCE_MEDIA_INVALID: {
    message: 'The media folder {path} cannot be packaged: {reason}.',
    hint: 'Check that the folder exists and is readable, then try again. No package was written.',
    http: 422,
    exit: 66,
  },
});
