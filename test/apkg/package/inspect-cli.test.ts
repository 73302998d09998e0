// `ankibridge inspect`: the summary as text and JSON, and a failure as its error code + exit code.
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import type { CliIO } from '../../../src/cli/output.js';

function capture(): CliIO & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out(t: string) {
      io.stdout += t.endsWith('\n') ? t : `${t}\n`;
    },
    err(t: string) {
      io.stderr += t.endsWith('\n') ? t : `${t}\n`;
    },
  };
  return io;
}

const F = new URL('../../fixtures/real/', import.meta.url).pathname;

describe('ankibridge inspect', () => {
  it('prints the summary of a legacy-2 package as JSON', async () => {
    const io = capture();
    const code = await main(['inspect', `${F}srs-converter-mixed-legacy-2.apkg`, '--json'], io);
    expect(code).toBe(0);
    const j = JSON.parse(io.stdout);
    expect(j).toMatchObject({
      ok: true, format: 'legacy2', fileKind: 'apkg', schema: 11, notes: 8, cards: 13, revlog: 26, decks: 2,
      newestReview: 1755521057006, media: { count: 1, bytes: 10701 },
    });
  });

  it('prints a readable summary', async () => {
    const io = capture();
    expect(await main(['inspect', `${F}ankidroid-templates.apkg`], io)).toBe(0);
    expect(io.stdout).toMatch(/format:\s+legacy package format 1/);
    expect(io.stdout).toMatch(/notes:\s+48\n/);
    expect(io.stdout).toMatch(/reviews:\s+102 \(newest 2015-03-18T/);
    expect(io.stderr).toBe('');
  });

  it('fails with the error code and a non-zero exit for a hostile or broken file', async () => {
    const io = capture();
    expect(await main(['inspect', `${F}ankidroid-path-traversal.zip`], io)).toBe(65);
    expect(io.stderr).toContain('ANKIBRIDGE_ERR_PACKAGE_ZIP_SLIP');
    const j = capture();
    expect(await main(['inspect', '--json', `${F}ankidroid-schema250.anki2`], j)).toBe(65);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, error: { code: 'ANKIBRIDGE_ERR_COLLECTION_SCHEMA_TOO_NEW' } });
    const nf = capture();
    expect(await main(['inspect', '/nonexistent/x.colpkg'], nf)).toBe(66);
    expect(nf.stderr).toContain('ANKIBRIDGE_ERR_GENERAL_FILE_NOT_FOUND');
  });
});
