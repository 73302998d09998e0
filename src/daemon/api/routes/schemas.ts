/** Small JSON schemas shared by several routes. */
export const COLLECTION_NAME = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' } as const;
export const JOB_ID_PARAMS = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' } },
} as const;
export const EMPTY_BODY = { type: 'object', additionalProperties: false, maxProperties: 0 } as const;
export const JOB_SUMMARY = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string' },
    collection: { type: 'string' },
    origin: { type: 'string' },
    state: { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'] },
    params: {},
    createdAt: { type: 'string', format: 'date-time' },
    startedAt: { type: ['string', 'null'] },
    finishedAt: { type: ['string', 'null'] },
    progress: { type: ['object', 'null'] },
    result: {},
    error: { type: ['object', 'null'] },
  },
} as const;
