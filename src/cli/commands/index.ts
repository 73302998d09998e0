import type { Command } from 'commander';
import type { CliIO } from '../output.js';
import { registerInspect } from './inspect.js';
import { registerExport } from './export.js';
import { registerImport } from './import.js';
import { registerBackups } from './backups.js';
import { registerRestore } from './restore.js';
import { registerDaemon } from './daemon.js';
import { registerStatus } from './status.js';
import { registerPause } from './pause.js';
import { registerResume } from './resume.js';
import { registerLogs } from './logs.js';
import { registerConfig } from './config.js';
import { registerService } from './service.js';
import { registerDoctor } from './doctor.js';
import { registerSync } from './sync.js';
import { registerShutdown } from './shutdown.js';
import { registerDashboard } from './dashboard.js';
import { registerPush } from './push.js';
import { registerPull } from './pull.js';
import { registerMerge } from './merge.js';
import { registerLogin } from './login.js';

/** A CLI verb: registers itself on the program and sets `ctx.exitCode` when it runs. */
export interface CliContext {
  io: CliIO;
  exitCode: number;
}
export type RegisterCommand = (program: Command, ctx: CliContext) => void;

// Each verb lives in its own file; add one line here per verb.
export const COMMANDS: RegisterCommand[] = [
  registerInspect,
  registerExport,
  registerImport,
  registerBackups,
  registerRestore,
  registerDaemon,
  registerStatus,
  registerPause,
  registerResume,
  registerLogs,
  registerConfig,
  registerService,
  registerDoctor,
  registerSync,
  registerShutdown,
  registerDashboard,
  registerPush,
  registerPull,
  registerMerge,
  registerLogin,
];
