import { Decompressor, compress } from 'zstd-napi';

/** zstd-compresses a request body (every v11 body is one zstd stream, doc §2.2). */
export function zstdCompress(data: Uint8Array): Buffer {
  return compress(data, { compressionLevel: 3 });
}

/**
 * Decompresses a response body. Verified against the real server: it streams frames without a
 * content size, which zstd-napi's one-shot decompressor handles; a truncated or corrupt stream
 * throws, which callers turn into a named BAD_RESPONSE.
 *
 * A fresh Decompressor per call: zstd-napi's shared one is left in a broken state by a
 * truncated stream ("Operation not authorized at current processing stage" on every later call),
 * so one bad answer would otherwise poison all later syncs in the process (found by the
 * misbehaving-server tests).
 */
export function zstdDecompress(data: Uint8Array): Buffer {
  return new Decompressor().decompress(data);
}
