/**
 * The small zip files media sync moves (doc §6.3, §6.4): all entries Stored, numbered "0",
 * "1", …, plus "_meta" (an object {zipName: fileName} in downloads, an array of
 * [fileName, zipName|null] pairs in uploads).
 */
import yazl from 'yazl';
import yauzl from 'yauzl';

export async function buildUploadZip(files: { name: string; data: Buffer | null }[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const meta: [string, string | null][] = [];
  let i = 0;
  for (const f of files) {
    if (f.data) {
      const inZip = String(i++);
      zip.addBuffer(f.data, inZip, { compress: false });
      meta.push([f.name, inZip]);
    } else meta.push([f.name, null]);
  }
  zip.addBuffer(Buffer.from(JSON.stringify(meta)), '_meta', { compress: false });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Reads a download zip into memory (bounded: a batch is ≤25 files, about 2.5 MiB). */
export function readZipEntries(buf: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('no zip'));
      const out = new Map<string, Buffer>();
      zip.on('error', reject);
      zip.on('end', () => resolve(out));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (out.has(entry.fileName)) return reject(new Error(`entry ${entry.fileName} appears twice`));
        zip.openReadStream(entry, (e2, stream) => {
          if (e2 || !stream) return reject(e2 ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () => {
            out.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}
