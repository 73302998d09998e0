import type { ErrorSpec } from './ankibridge-error.js';
import { GeneralErrors } from './codes/general.js';
import { UsbErrors } from './codes/usb.js';
import { DaemonErrors } from './codes/daemon.js';
import { ApiErrors } from './codes/api.js';
import { PackageErrors } from './codes/package.js';
import { DesktopErrors } from './codes/desktop.js';
import { BackupErrors } from './codes/backup.js';
import { CloudErrors } from './codes/cloud.js';
import { CollectionErrors } from './codes/collection.js';
import { MergeErrors } from './codes/merge.js';
import { DecisionErrors } from './codes/decision.js';
import { UsbSyncErrors } from './codes/usbsync.js';

/**
 * The whole catalogue: every error the program can show. Each room declares its own group in
 * src/errors/codes/<room>.ts and it is listed here; docs/errors.md is generated from this list
 * (npm run docs:errors) and a test checks that both agree.
 */
export const ERROR_GROUPS: ReadonlyArray<{ readonly room: string; readonly errors: Readonly<Record<string, ErrorSpec & { code: string }>> }> = [
  { room: 'general', errors: GeneralErrors },
  { room: 'usb', errors: UsbErrors },
  { room: 'daemon', errors: DaemonErrors },
  { room: 'api', errors: ApiErrors },
  { room: 'package', errors: PackageErrors },
  { room: 'desktop', errors: DesktopErrors },
  { room: 'backup', errors: BackupErrors },
  { room: 'cloud', errors: CloudErrors },
  { room: 'collection', errors: CollectionErrors },
  { room: 'merge', errors: MergeErrors },
  { room: 'decision', errors: DecisionErrors },
  { room: 'usbsync', errors: UsbSyncErrors },
];

export function allErrors(): Array<ErrorSpec & { code: string; room: string }> {
  return ERROR_GROUPS.flatMap((g) => Object.values(g.errors).map((e) => ({ ...e, room: g.room })));
}

export function findError(code: string): (ErrorSpec & { code: string; room: string }) | undefined {
  return allErrors().find((e) => e.code === code);
}
