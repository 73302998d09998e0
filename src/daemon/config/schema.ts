/**
 * The config file's JSON schema. Every field has a default, so an empty file (or none) is a valid
 * config; unknown fields are refused so a typo does not silently do nothing.
 */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

export interface DaemonConfig {
  api: {
    /** TCP port on 127.0.0.1 and ::1; 0 picks a free port (the CLI finds it in the runtime file). */
    port: number;
    /** Extra host names (besides loopback names and addresses) that may appear in the Host header. */
    allowedHosts: string[];
  };
  cloud: {
    enabled: boolean;
    /** Minutes between scheduled syncs (used when `cron` is null). */
    intervalMinutes: number;
    /** A cron expression (croner syntax); takes precedence over `intervalMinutes`. */
    cron: string | null;
    /** The collection the scheduled sync works on. */
    collection: string;
    /** The sync server's URL (a self-hosted Anki sync server); null means AnkiWeb. */
    endpoint: string | null;
  };
  backoff: { initialSeconds: number; maxSeconds: number };
  jobs: { maxQueuePerCollection: number };
  log: { level: (typeof LOG_LEVELS)[number]; maxFileBytes: number; maxFiles: number };
  /** The tray icon and desktop notifications (src/tray). */
  face: {
    /** Show a tray icon when a display and a tray host are there. */
    tray: boolean;
    /** Decisions and errors are announced by default; "synced" toasts only when asked for. */
    notify: { decisions: boolean; errors: boolean; synced: boolean };
  };
}

export const CONFIG_SCHEMA = {
  $id: 'https://ankibridge.invalid/schemas/config.json',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    api: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 27701 },
        allowedHosts: {
          type: 'array',
          maxItems: 32,
          items: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.-]+$' },
          default: [],
        },
      },
    },
    cloud: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: false },
        intervalMinutes: { type: 'integer', minimum: 1, maximum: 10080, default: 60 },
        cron: { type: ['string', 'null'], minLength: 1, maxLength: 120, default: null },
        collection: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$', default: 'desktop' },
        endpoint: { type: ['string', 'null'], minLength: 1, maxLength: 2048, pattern: '^https?://', default: null },
      },
    },
    backoff: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        initialSeconds: { type: 'integer', minimum: 1, maximum: 86400, default: 60 },
        maxSeconds: { type: 'integer', minimum: 1, maximum: 604800, default: 21600 },
      },
    },
    jobs: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { maxQueuePerCollection: { type: 'integer', minimum: 1, maximum: 1000, default: 20 } },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        level: { type: 'string', enum: [...LOG_LEVELS], default: 'info' },
        maxFileBytes: { type: 'integer', minimum: 10240, maximum: 1073741824, default: 5242880 },
        maxFiles: { type: 'integer', minimum: 1, maximum: 50, default: 5 },
      },
    },
    face: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        tray: { type: 'boolean', default: true },
        notify: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            decisions: { type: 'boolean', default: true },
            errors: { type: 'boolean', default: true },
            synced: { type: 'boolean', default: false },
          },
        },
      },
    },
  },
} as const;
