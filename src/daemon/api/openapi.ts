import { allErrors } from '../../errors/index.js';
import { openApiPath, type RouteSpec } from './route-table.js';

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'hint', 'details'],
      properties: {
        code: { type: 'string', description: 'A stable code from docs/errors.md.' },
        message: { type: 'string' },
        hint: { type: 'string' },
        details: { type: 'object' },
      },
    },
  },
};

/** The OpenAPI 3.1 document, built from the same route table the server runs. */
export function buildOpenApi(routes: RouteSpec[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const apiCodes = allErrors().filter((e) => e.room === 'api' || e.room === 'daemon').map((e) => e.code);
  for (const r of routes) {
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method.toLowerCase()}${openApiPath(r.url).replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      security: r.scope === 'none' ? [] : [{ bearer: [r.scope] }, { session: [] }],
      parameters: [
        ...paramsOf(r.params, 'path'),
        ...paramsOf(r.querystring, 'query'),
      ],
      responses: {
        [String(r.success.status)]: {
          description: r.success.description,
          content: { [r.success.mediaType ?? 'application/json']: { schema: r.success.schema ?? {} } },
        },
        '4XX': { description: 'A catalogued error.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        '5XX': { description: 'A catalogued error.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
    if (r.body) op['requestBody'] = { required: false, content: { 'application/json': { schema: r.body } } };
    (paths[openApiPath(r.url)] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ankibridge local API',
      version,
      description:
        'Loopback only. Send `Authorization: Bearer <token>` (token file `api-token`, read-only token `api-token-read`). ' +
        'Requests whose Host is not a loopback name, and browser requests from other origins, are refused. ' +
        'Every error body is `{ "error": { code, message, hint, details } }` with a code from docs/errors.md.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Scopes: read (api-token-read) or write (api-token).' },
        session: { type: 'apiKey', in: 'cookie', name: 'ankibridge_session', description: 'The dashboard session (plus X-CSRF-Token on writes).' },
      },
      schemas: { Error: { ...ERROR_SCHEMA, 'x-codes': apiCodes } },
    },
    paths,
  };
}

function paramsOf(schema: Record<string, unknown> | undefined, where: 'path' | 'query'): unknown[] {
  const props = (schema?.['properties'] ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((schema?.['required'] ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => ({ name, in: where, required: where === 'path' || required.has(name), schema: s }));
}
