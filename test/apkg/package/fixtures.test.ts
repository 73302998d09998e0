// Every real package in test/fixtures/real (copied from the team fixture set) reads to the summary its PROVENANCE.md gives, or
// fails with the named error it predicts — and leaves nothing behind in the temp folder.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPackage, summarizeOpenedPackage } from '../../../src/apkg/index.js';
import { AnkibridgeError } from '../../../src/errors/index.js';

const FIXTURES = new URL('../../fixtures/real', import.meta.url).pathname;
const tmpParent = mkdtempSync(path.join(tmpdir(), 'pkg-fixtures-'));
afterAll(() => rmSync(tmpParent, { recursive: true, force: true }));

interface Expected {
  format: string;
  schema: number;
  notes: number;
  cards: number;
  revlog: number;
  decks: number;
  newestReview: number | null;
  media: string[];
  mediaBytes: number;
}
const ok = (format: string, schema: number, notes: number, cards: number, revlog: number, decks: number, newestReview: number | null, media: string[] = [], mediaBytes = 0): Expected => ({
  format, schema, notes, cards, revlog, decks, newestReview, media, mediaBytes,
});

// Figures from PROVENANCE.md (for packages with a dummy collection.anki2, the real collection's
// figures: the dummy has 1 note, which must never be what we read).
const EXPECTED: Record<string, Expected | string> = {
  'anki-pylib-diffmodeltemplates-1.apkg': ok('legacy1', 11, 1, 1, 0, 2, null, ['_IncrementalReadingExtension.dat', '_ViewSizeAdjustAddon.dat'], 387 + 7009),
  'anki-pylib-media.apkg': ok('legacy1', 11, 1, 1, 0, 1, null, ['foo.wav'], 4),
  'anki-pylib-update1.apkg': ok('legacy1', 11, 1, 1, 0, 1, null),
  'anki-pylib-update2.apkg': ok('legacy1', 11, 1, 1, 0, 1, null),
  'ankidroid-templates.apkg': ok('legacy1', 11, 48, 146, 102, 11, 1426640148150),
  'ankidroid-video.apkg': ok('legacy1', 11, 1, 1, 0, 2, null, ['_inline_replay_button.png', 'emu.mp4', 'penguin.mp4'], 2573284 + 1011785 + 1095),
  'orbit-testCollection.colpkg': ok('legacy1', 11, 5, 7, 1, 1, 1586379272213, ['paste-235d52a420e48250574495268d1eaadbcd40e188.jpg', 'paste-5146b5478bc75de1c703057f0a51a93a70ca922d.jpg'], 27766 + 31288),
  'srs-converter-empty-latest.apkg': ok('latest', 18, 0, 0, 0, 1, null),
  'srs-converter-empty-legacy-2.colpkg': ok('legacy2', 11, 0, 0, 0, 1, null),
  'srs-converter-mixed-legacy-2.apkg': ok('legacy2', 11, 8, 13, 26, 2, 1755521057006, ['paste-ab21b25dd3e4ba4af2a1d8bdfa4c47455e53abac.jpg'], 10701),
  'frequencyman-two_deck_collection.anki2': ok('collection-file', 18, 16, 16, 8, 3, 1701890503652),
  'ankidroid-schema16.anki2': ok('collection-file', 16, 0, 0, 0, 2, null),
  'ankidroid-path-traversal.zip': 'ANKIBRIDGE_ERR_PACKAGE_ZIP_SLIP',
  'ankidroid-initial_version_2_12_1_corrupt_regular.anki2': 'ANKIBRIDGE_ERR_COLLECTION_CORRUPT',
  'ankidroid-backend-initial_version_2_12_1_corrupt_diskfull.anki2': 'ANKIBRIDGE_ERR_COLLECTION_CORRUPT',
  'ankidroid-schema250.anki2': 'ANKIBRIDGE_ERR_COLLECTION_SCHEMA_TOO_NEW',
};

describe('fixtures', () => {
  it('covers every fixture file', () => {
    const files = readdirSync(FIXTURES).filter((f) => f !== 'PROVENANCE.md').sort();
    expect(files).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [file, expected] of Object.entries(EXPECTED)) {
    it(`${file} → ${typeof expected === 'string' ? expected : `${expected.format}, ${expected.notes} notes`}`, async () => {
      const tmp = mkdtempSync(path.join(tmpParent, 'case-'));
      const full = path.join(FIXTURES, file);
      if (typeof expected === 'string') {
        const err = await openPackage(full, { tmpDir: tmp }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(AnkibridgeError);
        expect((err as AnkibridgeError).code).toBe(expected);
        expect((err as AnkibridgeError).message).toContain(file);
      } else {
        const pkg = await openPackage(full, { tmpDir: tmp });
        try {
          const s = summarizeOpenedPackage(full, pkg);
          expect({
            format: s.format, schema: s.schema, notes: s.notes, cards: s.cards, revlog: s.revlog, decks: s.decks,
            newestReview: s.newestReview, media: pkg.media.map((m) => m.name).sort(), mediaBytes: s.media.bytes,
          }).toEqual(expected);
          const out = path.join(tmp, 'media-out');
          const { written } = await pkg.extractMedia(out);
          expect(written.sort()).toEqual(expected.media);
          if (file === 'anki-pylib-media.apkg') expect(await readFile(path.join(out, 'foo.wav'), 'utf8')).toBe('abc\n');
        } finally {
          await pkg.dispose();
        }
        rmSync(path.join(tmp, 'media-out'), { recursive: true, force: true });
      }
      // Nothing left in the temp folder after dispose or failure.
      expect(readdirSync(tmp)).toEqual([]);
    });
  }
});
