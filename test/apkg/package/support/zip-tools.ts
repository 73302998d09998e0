// Test helpers: take real packages apart and put (mutated) packages together, with our own zip
// writer for well-formed archives and byte surgery for the malformed ones.
import { open } from 'node:fs/promises';
import yauzl from 'yauzl';
import { ZipWriter } from '../../../../src/apkg/package/zip-writer.js';

export interface RawEntry {
  name: string;
  data: Buffer;
  method: 0 | 8;
}

/** All entries of a (well-formed) zip, decompressed, in order. Names are taken as raw UTF-8/latin1. */
export async function unzipAll(file: string): Promise<RawEntry[]> {
  const zip = await new Promise<yauzl.ZipFile>((res, rej) =>
    yauzl.open(file, { lazyEntries: true, decodeStrings: false, autoClose: false }, (e, z) => (e || !z ? rej(e) : res(z))),
  );
  const out: RawEntry[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', resolve);
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (err, stream) => {
        if (err || !stream) return reject(err);
        const parts: Buffer[] = [];
        stream.on('data', (c: Buffer) => parts.push(c));
        stream.on('error', reject);
        stream.on('end', () => {
          out.push({ name: (entry.fileName as unknown as Buffer).toString('utf8'), data: Buffer.concat(parts), method: entry.compressionMethod === 8 ? 8 : 0 });
          zip.readEntry();
        });
      });
    });
    zip.readEntry();
  });
  zip.close();
  return out;
}

export async function zipAll(file: string, entries: readonly RawEntry[]): Promise<void> {
  const fh = await open(file, 'w+');
  try {
    const zip = new ZipWriter(fh);
    for (const e of entries) await zip.addEntry(e.name, e.data, { method: e.method });
    await zip.finish();
  } finally {
    await fh.close();
  }
}

export interface CentralRecord {
  /** Offset of the central directory header. */
  at: number;
  /** Offset of the entry's local header. */
  local: number;
  name: string;
}

/** Finds central directory headers by signature (good enough for archives we made or read). */
export function centralRecords(buf: Buffer): CentralRecord[] {
  const out: CentralRecord[] = [];
  for (let i = buf.length - 46; i >= 0; i--) {
    if (buf.readUInt32LE(i) !== 0x02014b50) continue;
    const nameLen = buf.readUInt16LE(i + 28);
    out.push({ at: i, local: buf.readUInt32LE(i + 42), name: buf.toString('utf8', i + 46, i + 46 + nameLen) });
  }
  return out.reverse();
}
