import type { ApiContext } from '../context.js';
import type { RouteSpec } from '../route-table.js';
import { CONFIG_SCHEMA } from '../../config/schema.js';

export function configRoutes(ctx: ApiContext): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/api/v1/config',
      scope: 'read',
      tag: 'config',
      summary: 'The config in force (defaults filled in), the file it comes from, and the last refused change if any.',
      success: { status: 200, description: 'Config.', schema: { type: 'object', properties: { config: CONFIG_SCHEMA, path: { type: 'string' } } } },
      handler: async () => ({
        config: ctx.config.get(),
        path: ctx.config.path,
        lastError: ctx.config.lastError ? { code: ctx.config.lastError.code, message: ctx.config.lastError.message } : null,
      }),
    },
    {
      method: 'PATCH',
      url: '/api/v1/config',
      scope: 'write',
      tag: 'config',
      summary: 'Changes the config with a JSON merge patch (RFC 7396; null restores a default). Validated before anything is written.',
      body: { type: 'object', maxProperties: 20 },
      success: { status: 200, description: 'The new config.', schema: { type: 'object', properties: { config: CONFIG_SCHEMA } } },
      handler: async (req) => ({ config: ctx.config.patch(req.body) }),
    },
  ];
}
