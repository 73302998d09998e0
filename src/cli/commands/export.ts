/** `ankibridge export [file] [--legacy]`: the desktop collection as a .colpkg (Anki must be closed). */
import path from 'node:path';
import { exportDesktopCollection } from '../../sync/desktop/export.js';
import { reportError } from '../output.js';
import { addDesktopOptions, openCliDesktop, printRecovered, resolveTarget, type DesktopOpts } from './desktop-common.js';
import type { RegisterCommand } from './index.js';

export const registerExport: RegisterCommand = (program, ctx) => {
  addDesktopOptions(
    program
      .command('export')
      .description('Write the desktop collection (with its media) as a .colpkg that Anki and AnkiDroid can import. Anki Desktop must be closed.')
      .argument('[file]', 'where to write it (default: ./<profile>-<date>.colpkg)')
      .option('--legacy', 'write the older format (collection.anki21) that AnkiDroid 2.20 and older read'),
  )
    .addHelpText('after', '\nExit codes: 0 written; 66 no Anki folder/profile/collection; 69 Anki Desktop has the collection open; 74 I/O or disk full.')
    .action(async (file: string | undefined, opts: DesktopOpts & { legacy?: boolean }) => {
      const json = opts.json === true;
      try {
        using d = openCliDesktop();
        printRecovered(ctx.io, d);
        const target = resolveTarget(opts);
        const out = path.resolve(file ?? `${target.profile}-${new Date().toISOString().slice(0, 10)}.colpkg`);
        const r = await exportDesktopCollection({ target, out, legacy: opts.legacy === true });
        if (json) ctx.io.out(JSON.stringify({ ok: true, profile: target.profile, ...r, recovered: d.recovered }, null, 2));
        else
          ctx.io.out(
            `Exported "${target.profile}" to ${r.out} (${r.format === 'legacy2' ? 'legacy format' : 'latest format'}, ${r.bytes} bytes): ` +
              `${r.summary.notes} notes, ${r.summary.cards} cards, ${r.summary.revlog} reviews, ${r.media} media files.`,
          );
        ctx.exitCode = 0;
      } catch (e) {
        ctx.exitCode = reportError(ctx.io, e, json);
      }
    });
};
