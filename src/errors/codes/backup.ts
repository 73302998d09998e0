import { defineErrors } from '../define.js';

/** Errors of the backup store: taking, verifying, listing and restoring backups. */
export const BackupErrors = defineErrors('BACKUP', {
  DISK_FULL: {
    message: 'There is not enough space to back up {path} into {dir}.',
    hint: 'Free some disk space (or remove old backups with `ankibridge backups`) and try again. Nothing was replaced: the original is untouched.',
    http: 507,
    exit: 74,
  },
  WRITE_FAILED: {
    message: 'The backup of {path} could not be written: {reason}.',
    hint: 'Check that the backup folder {dir} exists and may be written. Nothing was replaced: the original is untouched.',
    http: 500,
    exit: 74,
  },
  VERIFY_FAILED: {
    message: 'The backup {id} did not pass verification: {reason}.',
    hint: 'The backup was not kept and nothing was replaced. Run the command again; if it keeps failing, check the disk.',
    http: 500,
    exit: 74,
  },
  NOT_FOUND: {
    message: 'There is no backup with the id {id}.',
    hint: 'Run `ankibridge backups` to list the backups and their ids.',
    http: 404,
    exit: 66,
  },
  DAMAGED: {
    message: 'The backup {id} is damaged or incomplete: {reason}.',
    hint: 'Pick another backup from `ankibridge backups`. Nothing was changed.',
    http: 422,
    exit: 65,
  },
});
