/**
 * `ankibridge import <package> [--force]`: replace the desktop collection with a .colpkg — refused
 * while Anki Desktop has it open, refused without --force when it would lose reviews or edits
 * made on this computer, always backed up first.
 */
import path from 'node:path';
import { makeError } from '../../errors/define.js';
import { DesktopErrors } from '../../errors/codes/desktop.js';
import { isAnkibridgeError } from '../../errors/index.js';
import { detectAnkiConnect } from '../../sync/anki-connect.js';
import { importIntoDesktop } from '../../sync/desktop/import.js';
import { reportError } from '../output.js';
import { addDesktopOptions, openCliDesktop, printRecovered, resolveTarget, type DesktopOpts } from './desktop-common.js';
import type { RegisterCommand } from './index.js';

export const registerImport: RegisterCommand = (program, ctx) => {
  addDesktopOptions(
    program
      .command('import')
      .description('Replace the desktop collection with a collection package (.colpkg), as Anki\'s "Import collection package" does. A backup is made first.')
      .argument('<package>', 'a .colpkg file (or a bare collection file)')
      .option('--force', 'replace even if the package lacks reviews or edits made on this computer (they are kept in the backup)'),
  )
    .addHelpText(
      'after',
      '\nExit codes: 0 replaced; 65 bad package; 66 not found; 69 Anki Desktop has the collection open; 73 would lose work (use --force); 74 I/O or disk full.',
    )
    .action(async (pkg: string, opts: DesktopOpts & { force?: boolean }) => {
      const json = opts.json === true;
      try {
        using d = openCliDesktop();
        printRecovered(ctx.io, d);
        const target = resolveTarget(opts);
        const r = await importIntoDesktop({ target, packagePath: path.resolve(pkg), force: opts.force === true, deps: d });
        if (json) ctx.io.out(JSON.stringify({ ok: true, profile: target.profile, ...r, backup: r.backup.id, recovered: d.recovered }, null, 2));
        else {
          ctx.io.out(
            `Replaced the collection of "${target.profile}" with ${pkg} (${r.media.written} media files added, ${r.media.skipped} already there). ` +
              `The previous collection is backup ${r.backup.id} (ankibridge restore ${r.backup.id}).`,
          );
          if (r.forced) ctx.io.out(`Forced: ${r.loss.sentence}. They are in backup ${r.backup.id}.`);
        }
        ctx.exitCode = 0;
      } catch (e) {
        ctx.exitCode = reportError(ctx.io, await explainAnkiOpen(e, ctx.io, json), json);
      }
    });
};

/** When Anki holds the file, say so plainly, and whether AnkiConnect shows Anki running. */
async function explainAnkiOpen(e: unknown, io: { err(t: string): void }, json: boolean): Promise<unknown> {
  if (!isAnkibridgeError(e) || e.code !== DesktopErrors.ANKI_OPEN.code) return e;
  const ac = await detectAnkiConnect({ key: process.env.ANKICONNECT_KEY });
  if (ac.running && !json) io.err('Anki Desktop is running (AnkiConnect answered on 127.0.0.1:8765): close it, then run this command again.');
  return makeError(DesktopErrors.ANKI_OPEN, { ...e.details, ankiConnect: ac.running }, e);
}
