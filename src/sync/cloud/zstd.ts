import { compress, decompress } from 'zstd-napi';

/** zstd-compresses a request body (every v11 body is one zstd stream, doc §2.2). */
export function zstdCompress(data: Uint8Array): Buffer {
  return compress(data, { compressionLevel: 3 });
}

/**
 * Decompresses a response body. Verified against the real server: it streams frames without a
 * content size, which zstd-napi's one-shot decompressor handles; a truncated or corrupt stream
 * throws, which callers turn into a named BAD_RESPONSE.
 */
export function zstdDecompress(data: Uint8Array): Buffer {
  return decompress(data);
}
