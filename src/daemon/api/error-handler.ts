import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAnkibridgeError, makeError, type AnkibridgeError } from '../../errors/index.js';
import { ApiErrors } from '../../errors/codes/api.js';
import type { ApiContext } from './context.js';
import { pathOf } from './security.js';

/** Maps whatever went wrong to a catalogued error; only a real bug is a 5xx. */
export function toApiError(e: unknown, bodyLimit: number): AnkibridgeError {
  if (isAnkibridgeError(e)) return e;
  const err = e as FastifyError;
  if (err.validation) {
    const where = err.validationContext ?? 'request';
    return makeError(ApiErrors.BAD_REQUEST, { reason: `${where} ${err.validation.map((v) => `${v.instancePath || ''} ${v.message ?? ''}`.trim()).join('; ')}`.slice(0, 300) });
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return makeError(ApiErrors.BODY_TOO_LARGE, { limit: bodyLimit });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return makeError(ApiErrors.UNSUPPORTED_MEDIA_TYPE, { contentType: 'of this request' });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return makeError(ApiErrors.MALFORMED_JSON, { reason: 'the body is empty' });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return makeError(ApiErrors.MALFORMED_JSON, { reason: String(err.message).slice(0, 200) });
  }
  if (err instanceof SyntaxError && err.statusCode === 400) return makeError(ApiErrors.MALFORMED_JSON, { reason: err.message.slice(0, 200) });
  const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status === 413) return makeError(ApiErrors.BODY_TOO_LARGE, { limit: bodyLimit });
  if (status === 415) return makeError(ApiErrors.UNSUPPORTED_MEDIA_TYPE, { contentType: 'of this request' });
  if (status === 429) return makeError(ApiErrors.TOO_MANY_REQUESTS);
  if (status >= 400 && status < 500) return makeError(ApiErrors.BAD_REQUEST, { reason: String(err.message ?? 'bad request').slice(0, 200) });
  return makeError(ApiErrors.INTERNAL, { reason: 'an unexpected error' }, e);
}

export function errorBody(err: AnkibridgeError): { error: ReturnType<AnkibridgeError['toJSON']> } {
  return { error: err.toJSON() };
}

export function installErrorHandling(app: FastifyInstance, ctx: ApiContext, bodyLimit: number): void {
  app.setErrorHandler((e: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const err = toApiError(e, bodyLimit);
    if (err.httpStatus >= 500) {
      ctx.log.error({ code: err.code, method: req.method, path: pathOf(req.url), cause: (e as Error)?.message }, 'API error');
    }
    void reply.code(err.httpStatus).type('application/json; charset=utf-8').send(errorBody(err));
  });
  // Unknown paths pass the security hook first (scope 'read'), so probing without a token learns nothing.
  app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) => {
    const err = makeError(ApiErrors.NOT_FOUND, { method: req.method.slice(0, 10), path: pathOf(req.url) });
    void reply.code(404).type('application/json; charset=utf-8').send(errorBody(err));
  });
}
