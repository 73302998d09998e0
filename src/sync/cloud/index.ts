export { CloudSync, compareMeta, isRetryableCloudError, type CloudSyncOptions, type CloudSyncResult, type RunOptions, type AnkiConnectSync } from './cloud-sync.js';
export type { FullSyncRequiredState, FullSyncDirection } from './full-sync-state.js';
export { defaultCredentialStore, FileStore, KeyringStore, FallbackStore, type CredentialStore, type SyncCredential } from './credentials.js';
export { ANKIWEB_ENDPOINT, isAnkiWeb, normalizeEndpoint } from './endpoint.js';
export { clientVersionString } from './client-version.js';
export type { BackupFn } from './full-sync.js';
export type { MediaSyncResult } from './media/media-sync.js';
export { backupStoreFn, ankiConnectSync } from './adapters.js';
