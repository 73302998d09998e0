/**
 * The apkg room's public API (contract: /tmp/apkg-api.md): reading and writing Anki packages
 * (package/), the SQLite collection inside them (sqlite.ts, collection/).
 */
export * from './package/index.js';
export { openCollectionDb, unicaseExtensionPath, type CollectionDb, type OpenCollectionOptions } from './sqlite.js';
export { detectSchema, validateCollection, SCHEMA_MIN, SCHEMA_MAX } from './collection/schema.js';
export { summarizeCollection, type CollectionSummary } from './collection/summary.js';
export { fingerprintCollection, sameContent, type Fingerprint } from './collection/fingerprint.js';
export { upgradeToSchema18, downgradeToSchema11 } from './collection/convert.js';
