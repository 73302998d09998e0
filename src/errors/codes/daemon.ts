import { defineErrors } from '../define.js';

/** Errors of the daemon process itself: lock, config, state store, jobs, scheduler, service files. */
export const DaemonErrors = defineErrors('DAEMON', {
  ALREADY_RUNNING: {
    message: 'An ankibridge daemon is already running (process {pid}, {url}).',
    hint: 'Use `ankibridge status` to talk to it, or `ankibridge shutdown` to stop it first.',
    http: 409,
    exit: 69,
  },
  NOT_RUNNING: {
    message: 'No ankibridge daemon is running for this user ({runtimeFile} is missing or stale).',
    hint: 'Start it with `ankibridge daemon` (or `ankibridge service install` to start it at login).',
    http: 503,
    exit: 69,
  },
  UNREACHABLE: {
    message: 'The ankibridge daemon at {url} did not answer: {reason}.',
    hint: 'Check that it is still running (`ankibridge doctor`), or restart it with `ankibridge daemon`.',
    http: 503,
    exit: 69,
  },
  CONFIG_INVALID: {
    message: 'The config file {path} is not valid: {reason}.',
    hint: 'Fix the file (or delete it to get the defaults). The daemon keeps using the last valid config.',
    http: 400,
    exit: 65,
  },
  CONFIG_UNREADABLE: {
    message: 'The config file {path} could not be read: {reason}.',
    hint: 'Check that the file exists and that you may read it.',
    http: 500,
    exit: 74,
  },
  STATE_DB_FAILED: {
    message: 'The state database {path} could not be opened or migrated: {reason}.',
    hint: 'Check free disk space and permissions; a backup of the file is kept next to it before each migration.',
    http: 500,
    exit: 74,
  },
  MIGRATION_CONFLICT: {
    message: 'Two migrations were registered as {owner} number {version}.',
    hint: 'This is a programming error: each room numbers its own migrations once.',
    http: 500,
    exit: 70,
  },
  JOB_KIND_UNKNOWN: {
    message: 'There is no handler for jobs of kind {kind}.',
    hint: 'Known kinds: {known}. The handler may come with a later version of ankibridge.',
    http: 400,
    exit: 64,
  },
  JOB_NOT_FOUND: {
    message: 'There is no job with id {id}.',
    hint: 'List the jobs with `GET /api/v1/jobs` or `ankibridge status`.',
    http: 404,
    exit: 66,
  },
  JOB_ALREADY_FINISHED: {
    message: 'Job {id} has already finished ({state}); it cannot be cancelled.',
    hint: 'Nothing to do: look at its result in the history.',
    http: 409,
    exit: 75,
  },
  JOB_FAILED: {
    message: 'Job {id} ({kind}) failed: {reason}.',
    hint: 'See the daemon log (`ankibridge logs`) for the steps it took.',
    http: 500,
    exit: 70,
  },
  JOB_INPUT_INVALID: {
    message: 'The input for a {kind} job is not valid: {reason}.',
    hint: 'Check the parameters against the OpenAPI document at /openapi.json.',
    http: 400,
    exit: 64,
  },
  JOB_INTERRUPTED: {
    message: 'The daemon stopped before this job finished.',
    hint: 'Nothing half-done is kept: the sync journal finishes or rolls back interrupted steps when the daemon starts.',
    http: 500,
    exit: 75,
  },
  QUEUE_FULL: {
    message: 'Too many jobs are waiting for collection {collection} ({limit}).',
    hint: 'Wait for the queued jobs to finish, or cancel some.',
    http: 429,
    exit: 75,
  },
  SHUTTING_DOWN: {
    message: 'The daemon is shutting down and accepts no new jobs.',
    hint: 'Start it again with `ankibridge daemon` and retry.',
    http: 503,
    exit: 75,
  },
  PAUSED: {
    message: 'Automatic sync is paused {until}.',
    hint: 'Resume with `ankibridge resume`, or start the job explicitly.',
    http: 409,
    exit: 75,
  },
  COLLECTION_BUSY: {
    message: 'The collection {collection} is in use: {reason}.',
    hint: 'Close Anki Desktop (or wait until it is closed) and try again; ankibridge never writes a collection Anki has open.',
    http: 409,
    exit: 69,
  },
  BACKUP_NOT_FOUND: {
    message: 'There is no backup with id {id}.',
    hint: 'List the backups with `ankibridge backups`.',
    http: 404,
    exit: 66,
  },
  PROVIDER_MISSING: {
    message: 'This daemon has no {provider} yet, so {what} is not available.',
    hint: 'The feature comes with the sync layer; update ankibridge.',
    http: 501,
    exit: 69,
  },
  LISTEN_FAILED: {
    message: 'The HTTP API could not listen on {host} port {port}: {reason}.',
    hint: 'Choose another port in the config (`api.port`, 0 picks a free one) or stop the program using it.',
    http: 500,
    exit: 69,
  },
  SERVICE_UNSUPPORTED: {
    message: 'Installing the autostart service is not supported on {platform}.',
    hint: 'Start `ankibridge daemon` from your session start-up programs instead.',
    http: 501,
    exit: 69,
  },
  SERVICE_COMMAND_FAILED: {
    message: 'The command `{command}` failed: {reason}.',
    hint: 'Run it yourself to see the full message; the unit file was written to {path}.',
    http: 500,
    exit: 69,
  },
  LOG_NOT_FOUND: {
    message: 'There is no daemon log at {path} yet.',
    hint: 'Start the daemon once (`ankibridge daemon`) so that it writes its log.',
    http: 404,
    exit: 66,
  },
});
