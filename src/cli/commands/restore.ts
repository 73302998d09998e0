/** `ankibridge restore <id>`: put a backup back as the desktop collection (the current one is backed up first). */
import path from 'node:path';
import { restoreDesktopBackup } from '../../sync/desktop/restore.js';
import { profileMediaDir, type DesktopTarget } from '../../sync/desktop/replace.js';
import { reportError } from '../output.js';
import { addDesktopOptions, openCliDesktop, printRecovered, resolveTarget, type DesktopOpts } from './desktop-common.js';
import type { RegisterCommand } from './index.js';

export const registerRestore: RegisterCommand = (program, ctx) => {
  addDesktopOptions(
    program
      .command('restore')
      .description('Restore a backup (see `ankibridge backups`) as the desktop collection, media included. The current collection is backed up first.')
      .argument('<id>', 'the backup id'),
  )
    .addHelpText('after', '\nExit codes: 0 restored; 65 damaged backup; 66 no such backup; 69 Anki Desktop has the collection open; 74 I/O or disk full.')
    .action(async (id: string, opts: DesktopOpts) => {
      const json = opts.json === true;
      try {
        using d = openCliDesktop();
        printRecovered(ctx.io, d);
        const rec = d.backups.get(id);
        // Back where it came from, unless --profile/--base say otherwise.
        const target: DesktopTarget =
          opts.profile !== undefined || opts.base !== undefined || rec.originPath === null
            ? resolveTarget(opts)
            : { profile: rec.label, collectionPath: rec.originPath, mediaDir: profileMediaDir(rec.originPath) };
        const r = await restoreDesktopBackup({ backupId: id, target, deps: d });
        if (json) ctx.io.out(JSON.stringify({ ok: true, profile: target.profile, collectionPath: target.collectionPath, ...r, backup: r.backup.id, recovered: d.recovered }, null, 2));
        else
          ctx.io.out(
            `Restored backup ${id} into "${target.profile}" (${path.dirname(target.collectionPath)}); ${r.media.restored} media files put back, ${r.media.trashed} moved to media.trash. ` +
              `The collection it replaced is backup ${r.backup.id}.`,
          );
        ctx.exitCode = 0;
      } catch (e) {
        ctx.exitCode = reportError(ctx.io, e, json);
      }
    });
};
