// Fuzzing the reader with ≥1000 packages mutated from real ones (fixtures and packages real Anki
// exports): bit flips, truncations, renamed, dropped, duplicated and inflated entries, lying
// sizes. Seeded and reproducible (FUZZ_SEED=<n> to vary; a failure names its case). For every
// case: no crash, no hang (per-case timeout), nothing written outside the case's temp folder,
// and every failure is an AnkibridgeError with a catalogued code.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer } from '../../peer/peer.js';
import { openPackage, summarizeOpenedPackage } from '../../../src/apkg/index.js';
import { AnkibridgeError, findError } from '../../../src/errors/index.js';
import { centralRecords, unzipAll, zipAll, type RawEntry } from './support/zip-tools.js';
import { seededRandom as rng } from '../../support/seeded-random.js';

const CASES = 1000;
const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const CASE_TIMEOUT_MS = 10_000;
/** Every n-th case is also extracted by a media worker thread (a worker costs ~0.3 s to start under tsx). */
const WORKER_EVERY = 25;
const F = new URL('../../fixtures/real/', import.meta.url).pathname;
// Small limits so that "inflated" entries of a few MB count as bombs without costing time.
const LIMITS = { maxCollectionBytes: 4 << 20, maxMediaFileBytes: 2 << 20, maxTotalBytes: 8 << 20, ratioFloorBytes: 512 << 10, maxRatio: 200, maxEntries: 64 };

const root = mkdtempSync(path.join(tmpdir(), 'pkg-fuzz-'));
// Everything our code puts in "the OS temp folder" during this file goes here, so we can see it.
const globalTmp = path.join(root, 'os-tmp');
mkdirSync(globalTmp);
const savedTmpdir = process.env.TMPDIR;

interface Seed {
  name: string;
  bytes: Buffer;
  entries: RawEntry[];
}
const seeds: Seed[] = [];

beforeAll(async () => {
  const files = ['anki-pylib-media.apkg', 'srs-converter-mixed-legacy-2.apkg', 'srs-converter-empty-latest.apkg', 'orbit-testCollection.colpkg', 'anki-pylib-diffmodeltemplates-1.apkg'];
  for (const f of files) seeds.push({ name: f, bytes: readFileSync(F + f), entries: await unzipAll(F + f) });
  // Latest-format packages with media, as real Anki writes them.
  await using peer = await AnkiPeer.start();
  const col = path.join(root, 'peer', 'collection.anki2');
  await peer.createCollection({ path: col, notes: 6, seed: 3, reviewsPerCard: 2, media: { count: 3, bytesEach: 700 } });
  for (const [kind, legacy] of [['colpkg', false], ['apkg', false], ['colpkg', true]] as const) {
    const out = path.join(root, 'peer', `anki-${legacy ? 'legacy' : 'latest'}.${kind}`);
    await peer.exportPackage({ path: col, out, kind, legacy, withMedia: true, withScheduling: true });
    seeds.push({ name: path.basename(out), bytes: readFileSync(out), entries: await unzipAll(out) });
  }
  process.env.TMPDIR = globalTmp;
});
afterAll(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
  rmSync(root, { recursive: true, force: true });
});


const NAMES = ['meta', 'collection.anki2', 'collection.anki21', 'collection.anki21b', 'media', '0', '1', '2', '99', '../x', '/abs', 'a\\b', 'C:x', 'dir/', 'é', ''];

async function mutate(seed: Seed, r: () => number, file: string): Promise<string> {
  const int = (n: number): number => Math.floor(r() * n);
  const pick = <T,>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const kind = int(9);
  const bytes = Buffer.from(seed.bytes);
  const flip = (lo: number, hi: number, count: number): void => {
    for (let i = 0; i < count; i++) {
      const at = lo + int(Math.max(1, hi - lo));
      if (at < bytes.length) bytes.writeUInt8(bytes.readUInt8(at) ^ (1 << int(8)), at);
    }
  };
  const entries = seed.entries.map((e) => ({ ...e }));
  const e = int(entries.length);
  switch (kind) {
    case 0:
      flip(0, bytes.length, 1 + int(16));
      writeFileSync(file, bytes);
      return 'bit flips';
    case 1: {
      // Flips where the structure is: central directory and local headers.
      const recs = centralRecords(seed.bytes);
      for (let i = 0; i < 1 + int(4); i++) {
        const rec = pick(recs);
        if (!rec) break;
        if (r() < 0.5) flip(rec.at, rec.at + 46, 1);
        else flip(rec.local, rec.local + 30, 1);
      }
      writeFileSync(file, bytes);
      return 'header bit flips';
    }
    case 2:
      writeFileSync(file, bytes.subarray(0, int(bytes.length)));
      return 'truncation';
    case 3:
      entries[e]!.name = pick(NAMES);
      await zipAll(file, entries);
      return `rename ${seed.entries[e]?.name} → ${entries[e]!.name}`;
    case 4: {
      const size = (1 + int(4)) << 20;
      entries[e] = { ...entries[e]!, data: Buffer.alloc(size, int(3)), method: 8 };
      await zipAll(file, entries);
      return `inflate ${entries[e]!.name} to ${size}`;
    }
    case 5: {
      const recs = centralRecords(seed.bytes);
      const rec = pick(recs);
      if (rec) {
        const field = pick([20, 24]);
        const value = pick([0, 1, 0xffffffff, int(2 ** 32), seed.bytes.readUInt32LE(rec.at + field) + pick([-1, 1, 1000])]) >>> 0;
        bytes.writeUInt32LE(value, rec.at + field);
        if (r() < 0.5) bytes.writeUInt32LE(value, rec.local + field - 2);
      }
      writeFileSync(file, bytes);
      return 'lying declared size';
    }
    case 6:
      if (r() < 0.5) entries.splice(e, 1);
      else entries.push({ ...entries[e]! });
      await zipAll(file, entries);
      return 'drop or duplicate entry';
    case 7: {
      const other = int(entries.length);
      const tmp = entries[e]!.data;
      entries[e]!.data = entries[other]!.data;
      entries[other]!.data = tmp;
      await zipAll(file, entries);
      return 'swap entry data';
    }
    default: {
      // Damage one entry's content but keep the zip well-formed (valid CRCs).
      const data = Buffer.from(entries[e]!.data);
      for (let i = 0; i < 1 + int(8); i++) if (data.length) { const at = int(data.length); data.writeUInt8(data.readUInt8(at) ^ (1 << int(8)), at); }
      entries[e]!.data = r() < 0.2 ? data.subarray(0, int(data.length)) : data;
      await zipAll(file, entries);
      return `damage content of ${entries[e]!.name}`;
    }
  }
}

async function runCase(file: string, caseDir: string, mediaWorkers = 0): Promise<'opened' | string> {
  const tmp = path.join(caseDir, 'tmp');
  mkdirSync(tmp);
  const pkg = await openPackage(file, { tmpDir: tmp, limits: LIMITS });
  try {
    summarizeOpenedPackage(file, pkg);
    await pkg.extractMedia(path.join(caseDir, 'media'), { skipExistingSameContent: true, durable: false, mediaWorkers });
  } finally {
    await pkg.dispose();
  }
  return 'opened';
}

describe('fuzz', () => {
  it(`${CASES} mutated packages: no crash, no hang, nothing outside the temp folder, only catalogued errors`, async () => {
    const r = rng(SEED);
    const outcomes = new Map<string, number>();
    const fdsBefore = readdirSync('/proc/self/fd').length;
    for (let i = 0; i < CASES; i++) {
      const seed = seeds[i % seeds.length]!;
      const caseDir = path.join(root, `c${i}`);
      mkdirSync(caseDir);
      const file = path.join(caseDir, 'in.apkg');
      const what = await mutate(seed, r, file);
      const label = `case ${i} (FUZZ_SEED=${SEED}, ${seed.name}, ${what})`;
      const run = async (dir: string, mediaWorkers: number): Promise<string> => {
        let timer: NodeJS.Timeout | undefined;
        return Promise.race([
          runCase(file, dir, mediaWorkers).catch((e: unknown) => {
            if (!(e instanceof AnkibridgeError)) throw new Error(`${label}: not an AnkibridgeError: ${(e as Error)?.stack ?? String(e)}`);
            if (!findError(e.code)) throw new Error(`${label}: uncatalogued code ${e.code}`);
            return e.code;
          }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`${label}: hung for ${CASE_TIMEOUT_MS} ms`)), CASE_TIMEOUT_MS);
          }),
        ]).finally(() => clearTimeout(timer));
      };
      const outcome = await run(caseDir, 0);
      // Every few cases, the media also go through a worker thread: the same outcome, nothing left over.
      if (i % WORKER_EVERY === 0) {
        const workerDir = path.join(caseDir, 'via-worker');
        mkdirSync(workerDir);
        expect(await run(workerDir, 1), `${label}, media in a worker`).toBe(outcome);
        expect(readdirSync(path.join(workerDir, 'tmp')), label).toEqual([]);
        const wm = readdirSync(workerDir).includes('media') ? readdirSync(path.join(workerDir, 'media')) : [];
        expect(wm.filter((f) => f.includes('.tmp-')), label).toEqual([]);
        rmSync(workerDir, { recursive: true, force: true });
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      // Nothing outside the case's own folders: the temp folder is empty again, nothing appeared
      // beside the input, and media (if any) are only whole files.
      expect(readdirSync(path.join(caseDir, 'tmp')), label).toEqual([]);
      expect(readdirSync(caseDir).filter((f) => !['in.apkg', 'tmp', 'media'].includes(f)), label).toEqual([]);
      const media = readdirSync(caseDir).includes('media') ? readdirSync(path.join(caseDir, 'media')) : [];
      expect(media.filter((f) => f.includes('.tmp-')), label).toEqual([]);
      expect(readdirSync(globalTmp), label).toEqual([]);
      rmSync(caseDir, { recursive: true, force: true });
    }
    // No leaked file descriptors (zip files, SQLite connections).
    expect(readdirSync('/proc/self/fd').length).toBeLessThanOrEqual(fdsBefore + 2);
    console.log(`fuzz outcomes (seed ${SEED}):`, Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])));
    // The mutations reach many different checks, and some packages still open.
    expect(outcomes.get('opened') ?? 0).toBeGreaterThan(20);
    expect(outcomes.size).toBeGreaterThan(8);
  });
});
