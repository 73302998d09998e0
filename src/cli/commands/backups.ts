/** `ankibridge backups [--json] [--prune]`: the backup store, newest first, with each backup's summary. */
import { Option } from 'commander';
import type { BackupRecord } from '../../sync/backup/store.js';
import { reportError } from '../output.js';
import { openCliDesktop, printRecovered } from './desktop-common.js';
import type { RegisterCommand } from './index.js';

export const registerBackups: RegisterCommand = (program, ctx) => {
  program
    .command('backups')
    .description('List the backups ankibridge made before replacing a collection (newest first).')
    .option('--json', 'print the list as JSON')
    .option('--prune', 'apply the retention policy: keep the newest --keep ordinary backups (protected ones stay)')
    .addOption(new Option('--keep <n>', 'ordinary backups to keep with --prune').default(20).argParser((v) => Number.parseInt(v, 10)))
    .option('--allow-protected', 'with --prune, also remove protected backups (taken before an overwrite) beyond the newest --keep')
    .action((opts: { json?: boolean; prune?: boolean; keep: number; allowProtected?: boolean }) => {
      const json = opts.json === true;
      try {
        using d = openCliDesktop();
        printRecovered(ctx.io, d);
        const removed = opts.prune
          ? d.backups.applyRetention({ keepLast: opts.keep, allowProtected: opts.allowProtected === true, keepProtected: opts.keep })
          : [];
        const list = d.backups.list();
        if (json) ctx.io.out(JSON.stringify({ ok: true, root: d.backups.root, backups: list, removed, recovered: d.recovered }, null, 2));
        else {
          if (removed.length > 0) ctx.io.out(`Removed ${removed.length} old backup(s): ${removed.join(', ')}`);
          ctx.io.out(list.length === 0 ? `No backups yet (${d.backups.root}).` : list.map(line).join('\n'));
        }
        ctx.exitCode = 0;
      } catch (e) {
        ctx.exitCode = reportError(ctx.io, e, json);
      }
    });
};

function line(b: BackupRecord): string {
  const s = b.summary;
  const what = s ? `${s.notes} notes, ${s.cards} cards, ${s.revlog} reviews, ${b.media.count} media` : 'no summary';
  return `${b.id}  ${new Date(b.createdAt).toISOString().replace('T', ' ').slice(0, 19)}  ${b.source}:${b.label}  ${b.reason}${b.protected ? ' (protected)' : ''}  ${what}`;
}
