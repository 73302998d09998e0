import { makeError } from '../../errors/define.js';
import { CloudErrors } from '../../errors/codes/cloud.js';

/** AnkiWeb's sync base (protocol doc §2.1). */
export const ANKIWEB_ENDPOINT = 'https://sync.ankiweb.net/';

/**
 * Normalises a sync server address to a base URL ending in "/". Anki joins "./" onto the
 * configured address, which drops a last path segment without a slash (doc §2.4); we keep the
 * whole path instead and only add the slash, which is what users of a reverse proxy mean.
 */
export function normalizeEndpoint(endpoint: string | undefined): string {
  const raw = (endpoint ?? '').trim() || ANKIWEB_ENDPOINT;
  let url: URL;
  try {
    url = new URL(raw);
  } catch (e) {
    throw makeError(CloudErrors.BAD_ENDPOINT, { endpoint: raw }, e);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw makeError(CloudErrors.BAD_ENDPOINT, { endpoint: raw });
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.toString();
}

/** AnkiWeb applies upload size limits the self-hosted server does not (doc §8). */
export function isAnkiWeb(endpoint: string): boolean {
  return endpoint.includes('ankiweb');
}
