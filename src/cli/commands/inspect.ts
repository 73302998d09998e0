/**
 * `ankibridge inspect <file> [--json]`: what is in a package or collection file — its format,
 * schema, counts, newest review and media — without changing anything. A file that cannot be
 * read prints its error code and exits non-zero.
 */
import path from 'node:path';
import { openPackage, summarizeOpenedPackage, type PackageSummary } from '../../apkg/index.js';
import { reportError } from '../output.js';
import type { RegisterCommand } from './index.js';

export const registerInspect: RegisterCommand = (program, ctx) => {
  program
    .command('inspect')
    .description('Show what an Anki package (.colpkg/.apkg) or collection file contains.')
    .argument('<file>', 'a .colpkg, .apkg or collection.anki2 file')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const json = opts.json === true;
      try {
        const pkg = await openPackage(path.resolve(file));
        let summary: PackageSummary;
        try {
          summary = summarizeOpenedPackage(file, pkg);
        } finally {
          await pkg.dispose();
        }
        ctx.io.out(json ? JSON.stringify({ ok: true, ...summary }, null, 2) : renderSummary(summary));
        ctx.exitCode = 0;
      } catch (e) {
        ctx.exitCode = reportError(ctx.io, e, json);
      }
    });
};

const FORMAT_NAMES: Record<PackageSummary['format'], string> = {
  latest: 'latest package format (Anki 2.1.50+, zstd)',
  legacy2: 'legacy package format 2 ("support older Anki versions")',
  legacy1: 'legacy package format 1 (Anki 2.0 / old AnkiDroid)',
  'collection-file': 'collection file',
};

export function renderSummary(s: PackageSummary): string {
  const kind = s.fileKind === 'colpkg' ? 'collection package' : s.fileKind === 'apkg' ? 'deck package' : 'bare collection';
  const rows: Array<[string, string]> = [
    ['file', s.file],
    ['format', `${FORMAT_NAMES[s.format]}, ${kind}`],
    ['schema', String(s.schema)],
    ['notes', String(s.notes)],
    ['cards', String(s.cards)],
    ['reviews', s.newestReview === null ? `${s.revlog}` : `${s.revlog} (newest ${new Date(s.newestReview).toISOString()})`],
    ['decks', String(s.decks)],
    ['note types', String(s.noteTypes)],
    ['media', `${s.media.count} files, ${formatBytes(s.media.bytes)}`],
    ['modified', new Date(s.modified).toISOString()],
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`).join('\n');
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
