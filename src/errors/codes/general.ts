import { defineErrors } from '../define.js';

export const GeneralErrors = defineErrors('GENERAL', {
  INTERNAL: {
    message: 'Something went wrong inside ankibridge: {reason}.',
    hint: 'Nothing was changed. Please report this with the log file (ankibridge logs).',
    http: 500,
    exit: 70,
  },
  USAGE: {
    message: 'The command was not understood: {reason}.',
    hint: 'Run `ankibridge --help` to see the commands and their options.',
    http: 400,
    exit: 64,
  },
  FILE_NOT_FOUND: {
    message: 'The file {path} does not exist.',
    hint: 'Check the path and try again.',
    http: 404,
    exit: 66,
  },
  DISK_FULL: {
    message: 'The disk is full while writing {path}.',
    hint: 'Free some space and try again. Nothing was replaced: the original is untouched.',
    http: 507,
    exit: 74,
  },
  IO: {
    message: 'Could not {operation} {path}: {reason}.',
    hint: 'Check that the file or folder exists and that you may read and write it.',
    http: 500,
    exit: 74,
  },
  CANCELLED: {
    message: 'The job was cancelled.',
    hint: 'Nothing was changed by the cancelled job.',
    http: 409,
    exit: 75,
  },
});
