/**
 * Opening a zip package (.apkg/.colpkg) of any version. Reading rule as Anki's
 * (docs/anki-package-formats.md §2.1): `meta` decides the version (unknown → too new); without
 * `meta`, `collection.anki21` means version 2, else version 1. The dummy `collection.anki2` of
 * versions 2 and 3 is never read as data.
 */
import path from 'node:path';
import { Readable } from 'node:stream';
import { makeError } from '../../errors/define.js';
import { PackageErrors } from '../../errors/codes/package.js';
import { decodedEntry, decodedLimit, decodedSmallEntry, SMALL_ENTRY, verifiedMedia } from './entry-stream.js';
import { extractMediaFiles, type UnpackSource } from './extract-media.js';
import type { PackageLimits } from './limits.js';
import { type MediaEntryInfo, parseLegacyMediaMap, parseMediaEntries } from './media-map.js';
import { collectionEntryName, decodeMetaVersion, isKnownVersion, type KnownPackageVersion } from './meta.js';
import { packageKindFromName } from './package-kind.js';
import type { PrivateDir } from './private-dir.js';
import type { ExtractedMedia, ExtractMediaOptions, OpenedPackage, PackageFormat } from './types.js';
import { markRollbackJournal, validateExtractedCollection } from './validate.js';
import { writeFileAtomic } from './write-file.js';
import { ZipReader } from './zip-reader.js';

const FORMAT_OF: Record<KnownPackageVersion, PackageFormat> = { 1: 'legacy1', 2: 'legacy2', 3: 'latest' };

export async function openZipPackage(
  file: string,
  dir: PrivateDir,
  limits: PackageLimits,
  mediaTo?: ExtractMediaOptions & { to: string },
): Promise<OpenedPackage> {
  const zip = await ZipReader.open(file, limits);
  try {
    const version = await readVersion(zip, limits);
    const zstd = version === 3;
    const colName = collectionEntryName(version);
    const colEntry = zip.get(colName);
    if (!colEntry) throw makeError(PackageErrors.MISSING_COLLECTION, { path: file, entry: colName });

    const media = await readMediaList(zip, version, limits);

    const tooBig = (entry: MediaEntryInfo) => () => makeError(PackageErrors.MEDIA_MISMATCH, { path: file, name: entry.name, what: 'size' });
    const openMediaData = (entry: MediaEntryInfo): AsyncGenerator<Buffer> => {
      const zipEntry = zip.get(entry.index);
      if (!zipEntry) throw makeError(PackageErrors.MEDIA_ENTRY_MISSING, { path: file, name: entry.name, entry: entry.index });
      // Most media files are small: read and decode them in one go (no per-file streams).
      const data =
        zipEntry.compressedSize <= SMALL_ENTRY && entry.size <= SMALL_ENTRY && zipEntry.uncompressedSize <= SMALL_ENTRY
          ? decodedSmallEntry(zip, zipEntry, zstd, entry.size, tooBig(entry))
          : decodedEntry(zip, zipEntry, zstd, entry.size, tooBig(entry));
      return verifiedMedia(data, file, entry.name, entry.size, entry.sha1);
    };

    // Small entries are unpacked whole by a media job (possibly in a worker thread, reading
    // through the package's descriptor, which stays open until dispose()).
    const smallMediaJob = (entry: MediaEntryInfo): UnpackSource | undefined => {
      const zipEntry = zip.get(entry.index);
      if (!zipEntry || zipEntry.compressedSize > SMALL_ENTRY || entry.size > SMALL_ENTRY || zipEntry.uncompressedSize > SMALL_ENTRY) return undefined;
      return { fd: zip.fd, fileSize: zip.size, zipPath: file, entry: zip.location(zipEntry), zstd, name: entry.name, size: entry.size, sha1: entry.sha1 };
    };

    // With `media`: the media are written (under temporary names) while the collection is
    // unpacked and checked, and get their names only once it passed (extract-media.ts).
    let staged: Promise<ExtractedMedia> | undefined;
    let openGate = (): void => undefined;
    let failGate = (_e: unknown): void => undefined;
    if (mediaTo) {
      const gate = new Promise<void>((resolve, reject) => {
        openGate = resolve;
        failGate = reject;
      });
      gate.catch(() => undefined); // extractMediaFiles handles it; this only keeps it from being "unhandled"
      staged = extractMediaFiles(media, openMediaData, mediaTo.to, mediaTo, smallMediaJob, gate);
      staged.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
    }

    const collectionPath = path.join(dir.path, 'collection.anki2');
    try {
      const colLimit = zstd ? decodedLimit(colEntry, limits.maxCollectionBytes, limits) : limits.maxCollectionBytes;
      await writeFileAtomic(
        collectionPath,
        decodedEntry(zip, colEntry, zstd, colLimit, () =>
          makeError(PackageErrors.ZIP_BOMB, { path: file, reason: `the collection decompresses to more than ${colLimit} bytes` }),
        ),
        { durable: false },
      );
      await markRollbackJournal(collectionPath);
      validateExtractedCollection(collectionPath, `${file} (${colName})`);
    } catch (e) {
      failGate(e);
      // Nothing reads the package or writes media any more before it is closed.
      await staged?.catch(() => undefined);
      throw e;
    }
    openGate();
    const extracted = staged ? await staged : undefined;

    let disposed = false;
    const dispose = async (): Promise<void> => {
      if (disposed) return;
      disposed = true;
      await zip.close();
      await dir.remove();
    };
    return {
      extracted,
      format: FORMAT_OF[version],
      fileKind: packageKindFromName(file),
      version,
      collectionPath,
      media,
      openMedia: async (entry) => Readable.from(openMediaData(entry), { objectMode: false }),
      extractMedia: (toDir, opts) => extractMediaFiles(media, openMediaData, toDir, opts, smallMediaJob),
      dispose,
      [Symbol.asyncDispose]: dispose,
    };
  } catch (e) {
    await zip.close();
    throw e;
  }
}

async function readVersion(zip: ZipReader, limits: PackageLimits): Promise<KnownPackageVersion> {
  const metaEntry = zip.get('meta');
  if (!metaEntry) return zip.get('collection.anki21') ? 2 : 1;
  const bytes = await zip.readSmall(metaEntry, Math.min(limits.maxSmallEntryBytes, 1 << 20));
  let version: number;
  try {
    version = decodeMetaVersion(bytes);
  } catch (e) {
    throw makeError(PackageErrors.META_INVALID, { path: zip.path, reason: (e as Error).message }, e);
  }
  if (!isKnownVersion(version)) throw makeError(PackageErrors.TOO_NEW, { path: zip.path, version });
  return version;
}

async function readMediaList(zip: ZipReader, version: KnownPackageVersion, limits: PackageLimits): Promise<MediaEntryInfo[]> {
  const mapEntry = zip.get('media');
  // Old AnkiDroid colpkgs have no media entry: no media, as Anki reads them.
  if (!mapEntry) return [];
  let media: MediaEntryInfo[];
  if (version === 3) {
    const parts: Buffer[] = [];
    for await (const chunk of decodedEntry(zip, mapEntry, true, limits.maxSmallEntryBytes, () =>
      makeError(PackageErrors.ZIP_BOMB, { path: zip.path, reason: `the media list decompresses to more than ${limits.maxSmallEntryBytes} bytes` }),
    )) {
      parts.push(chunk);
    }
    media = parseMediaEntries(zip.path, Buffer.concat(parts));
  } else {
    const legacy = parseLegacyMediaMap(zip.path, await zip.readSmall(mapEntry, limits.maxSmallEntryBytes));
    media = legacy.map((m) => ({ ...m, size: zip.get(m.index)?.uncompressedSize ?? 0 }));
  }
  let total = 0;
  for (const m of media) {
    const entry = zip.get(m.index);
    if (!entry) throw makeError(PackageErrors.MEDIA_ENTRY_MISSING, { path: zip.path, name: m.name, entry: m.index });
    if (m.size > limits.maxMediaFileBytes) {
      throw makeError(PackageErrors.ZIP_BOMB, { path: zip.path, reason: `media file ${m.name} declares ${m.size} bytes, more than ${limits.maxMediaFileBytes}` });
    }
    if (version === 3 && m.size > decodedLimit(entry, m.size, limits)) {
      throw makeError(PackageErrors.ZIP_BOMB, { path: zip.path, reason: `media file ${m.name} would expand ${Math.round(m.size / Math.max(1, entry.uncompressedSize))} times` });
    }
    total += m.size;
    if (total > limits.maxTotalBytes) {
      throw makeError(PackageErrors.ZIP_BOMB, { path: zip.path, reason: `media files declare more than ${limits.maxTotalBytes} bytes in total` });
    }
  }
  return media;
}
