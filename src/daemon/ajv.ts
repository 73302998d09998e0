import { Ajv } from 'ajv';

/**
 * The daemon's two JSON-schema validators, shared (each Ajv instance costs memory): `strictAjv`
 * for JSON bodies, config and job params (no type coercion), `queryAjv` for URL query strings and
 * path parameters (text, so numbers are coerced).
 */
export const strictAjv = new Ajv({ useDefaults: true, allErrors: true, coerceTypes: false, removeAdditional: false, strict: false, allowUnionTypes: true });
export const queryAjv = new Ajv({ useDefaults: true, allErrors: false, coerceTypes: true, removeAdditional: false, strict: false });
