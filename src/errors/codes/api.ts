import { defineErrors } from '../define.js';

/** Errors the local HTTP API answers with before or around a handler (auth, origin, validation). */
export const ApiErrors = defineErrors('API', {
  UNAUTHENTICATED: {
    message: 'This request has no valid API token.',
    hint: 'Send `Authorization: Bearer <token>`; the token is in the file {tokenFile}.',
    http: 401,
    exit: 77,
  },
  FORBIDDEN_SCOPE: {
    message: 'This token may only {scope}; {method} {path} needs the write scope.',
    hint: 'Use the read-write token, not the read-only one.',
    http: 403,
    exit: 77,
  },
  HOST_REFUSED: {
    message: 'Requests addressed to host {host} are refused; only loopback names are served.',
    hint: 'Use http://127.0.0.1:<port> or http://localhost:<port>. This protects against DNS rebinding.',
    http: 403,
    exit: 77,
  },
  ORIGIN_REFUSED: {
    message: 'Requests from web pages at {origin} are refused.',
    hint: 'Only the dashboard served by the daemon itself may call the API from a browser.',
    http: 403,
    exit: 77,
  },
  CSRF_REFUSED: {
    message: 'A browser write request came without the session\'s CSRF token.',
    hint: 'Reload the dashboard page and try again.',
    http: 403,
    exit: 77,
  },
  NOT_FOUND: {
    message: 'There is no API endpoint {method} {path}.',
    hint: 'See the list of endpoints in /openapi.json.',
    http: 404,
    exit: 66,
  },
  METHOD_NOT_ALLOWED: {
    message: 'The endpoint {path} does not accept {method}.',
    hint: 'See the list of endpoints in /openapi.json.',
    http: 405,
    exit: 64,
  },
  BAD_REQUEST: {
    message: 'The request is not valid: {reason}.',
    hint: 'Check the request against the OpenAPI document at /openapi.json.',
    http: 400,
    exit: 64,
  },
  MALFORMED_JSON: {
    message: 'The request body is not valid JSON: {reason}.',
    hint: 'Send a JSON object with `Content-Type: application/json`.',
    http: 400,
    exit: 65,
  },
  UNSUPPORTED_MEDIA_TYPE: {
    message: 'The request body type {contentType} is not accepted.',
    hint: 'Send JSON with `Content-Type: application/json`.',
    http: 415,
    exit: 65,
  },
  BODY_TOO_LARGE: {
    message: 'The request body is larger than {limit} bytes.',
    hint: 'API requests are small JSON objects; send less.',
    http: 413,
    exit: 65,
  },
  TOO_MANY_REQUESTS: {
    message: 'Too many requests at once.',
    hint: 'Wait a moment and try again.',
    http: 429,
    exit: 75,
  },
  EVENT_ID_INVALID: {
    message: 'The Last-Event-ID {value} is not an event id of this daemon.',
    hint: 'Reconnect without Last-Event-ID to get the current state.',
    http: 400,
    exit: 64,
  },
  INTERNAL: {
    message: 'The API could not answer: {reason}.',
    hint: 'Nothing was changed. The daemon keeps running; see `ankibridge logs`.',
    http: 500,
    exit: 70,
  },
});
