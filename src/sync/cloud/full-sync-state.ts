/**
 * The typed "full sync required" state (issue 9): what each side holds and which directions are
 * possible. The daemon shows it (API, tray, CLI) and nothing moves until someone chooses a
 * direction explicitly.
 */
import type { CollectionSummary } from '../../apkg/collection/summary.js';
import type { SyncMeta } from './protocol-types.js';

export type FullSyncDirection = 'upload' | 'download';

export interface FullSyncRequiredState {
  kind: 'fullSyncRequired';
  /** why a normal sync is impossible */
  reason: 'schema-differs' | 'never-synced';
  endpoint: string;
  /** upload replaces the server copy; refused when the local side has no cards but the server has (doc §4.1) */
  uploadOk: boolean;
  /** download replaces the local copy; refused when the server has no cards but the local side has */
  downloadOk: boolean;
  local: {
    path: string;
    mod: number;
    scm: number;
    lastSync: number;
    empty: boolean;
    summary?: CollectionSummary;
  };
  server: {
    mod: number;
    scm: number;
    usn: number;
    empty: boolean;
    mediaUsn: number;
  };
  /** what a person would lose with each choice, in words, for the prompt */
  consequences: Record<FullSyncDirection, string>;
}

export function describeFullSync(
  endpoint: string,
  local: FullSyncRequiredState['local'],
  remote: SyncMeta,
): FullSyncRequiredState {
  const uploadOk = !local.empty || remote.empty;
  const downloadOk = !remote.empty || local.empty;
  const s = local.summary;
  const localWords = s ? `${s.notes} notes, ${s.cards} cards, ${s.revlog} reviews` : local.empty ? 'no cards' : 'cards';
  return {
    kind: 'fullSyncRequired',
    reason: local.lastSync === 0 ? 'never-synced' : 'schema-differs',
    endpoint,
    uploadOk,
    downloadOk,
    local,
    server: { mod: remote.mod, scm: remote.scm, usn: remote.usn, empty: remote.empty, mediaUsn: remote.media_usn },
    consequences: {
      upload: remote.empty
        ? `The server collection is empty; the local collection (${localWords}) is uploaded.`
        : `The server collection (last changed ${new Date(remote.mod).toISOString()}) is replaced by the local one (${localWords}); the server copy is backed up first.`,
      download: `The local collection (${localWords}) is replaced by the server copy${remote.empty ? ' (which has no cards)' : ''}; the local copy is backed up first.`,
    },
  };
}
