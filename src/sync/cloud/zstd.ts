/**
 * zstd for request and response bodies (every v11 body is one zstd stream, doc §2.2).
 *
 * One compression and one decompression context for the process, reused call after call:
 * zstd-napi reports each native context's memory to V8 as external memory, so a fresh context per
 * request (a normal sync makes a dozen) made V8 run a full mark-compact every sync or two — most
 * of the client's CPU in the cloud bench. Both calls are synchronous, so nothing can interleave.
 *
 * Verified against the real server: it streams frames without a content size; the caller knows
 * the size from `anki-original-size` and passes it, so the output buffer has room for exactly
 * that many bytes (plus one, to notice more). A truncated or corrupt stream throws (the caller
 * names it BAD_RESPONSE) and the context is reset before its next use: a context left mid-frame
 * would otherwise fail every later call ("Operation not authorized at current processing stage",
 * found by the misbehaving-server tests).
 */
import { createRequire } from 'node:module';
import type * as ZstdBinding from 'zstd-napi/binding.js';

const require = createRequire(import.meta.url);
const binding = require('zstd-napi/binding') as typeof ZstdBinding;

/** Anki's client sends at zstd's default level. */
const LEVEL = 3;
/** Scratch space kept between calls; larger bodies (a full upload) get their own buffer. */
const SCRATCH_MAX = 1 << 20;

/** The body decompresses to more than it announced. */
export class ZstdTooLarge extends Error {
  constructor(readonly expected: number) {
    super(`it holds more than the ${expected} bytes the server announced`);
  }
}

let cctx: ZstdBinding.CCtx | undefined;
let dctx: ZstdBinding.DCtx | undefined;
let scratch = Buffer.alloc(0);

/** One frame for the whole body; a fresh buffer (the socket may still hold it after we return). */
export function zstdCompress(data: Uint8Array): Buffer {
  if (!cctx) {
    cctx = new binding.CCtx();
    cctx.setParameter(binding.CParameter.compressionLevel, LEVEL);
  }
  cctx.reset(binding.ResetDirective.sessionOnly);
  const bound = binding.compressBound(data.length);
  if (bound > SCRATCH_MAX) {
    const out = Buffer.allocUnsafe(bound);
    return out.subarray(0, cctx.compress2(out, data));
  }
  if (scratch.length < bound) scratch = Buffer.allocUnsafe(Math.max(bound, 64 * 1024));
  const n = cctx.compress2(scratch, data);
  return Buffer.from(scratch.subarray(0, n));
}

/**
 * Decompresses a whole body that should hold `expected` bytes. Returns what it holds (the caller
 * compares the length with `expected`); never more than `expected + 1` bytes are produced.
 */
export function zstdDecompress(data: Uint8Array, expected: number): Buffer {
  if (data.length === 0) return Buffer.alloc(0);
  dctx ??= new binding.DCtx();
  const out = Buffer.allocUnsafe(expected + 1);
  try {
    dctx.reset(binding.ResetDirective.sessionOnly);
    return out.subarray(0, dctx.decompress(out, data));
  } catch (e) {
    dctx = undefined; // a fresh context next time, whatever state this one is in
    if (/too small|dstSize/i.test((e as Error).message)) throw new ZstdTooLarge(expected);
    throw e;
  }
}
