/**
 * Streaming zstd on top of zstd-napi's native contexts. We drive the contexts ourselves (rather
 * than using its Transform streams) for two reasons: the decoder must stop as soon as output
 * passes a limit (a zstd bomb turns 64 KB into gigabytes inside one call of a Transform), and
 * async generators give natural back-pressure, so memory stays at one output buffer.
 */
import { createRequire } from 'node:module';
import type * as ZstdBinding from 'zstd-napi/binding.js';

const require = createRequire(import.meta.url);
const binding = require('zstd-napi/binding') as typeof ZstdBinding;

const D_OUT = binding.dStreamOutSize();
const C_OUT = binding.cStreamOutSize();
/** Room to give ZstdEncoder.end() per call. */
export const ZSTD_END_ROOM = C_OUT;
const EMPTY = Buffer.alloc(0);

export class ZstdLimitError extends Error {}
export class ZstdDataError extends Error {}

/**
 * Decodes a zstd stream (one or more frames). Throws ZstdLimitError once more than `maxBytes`
 * come out, ZstdDataError when the data is not valid zstd or ends inside a frame.
 */
export async function* zstdDecode(source: AsyncIterable<Buffer>, maxBytes: number): AsyncGenerator<Buffer> {
  const dctx = new binding.DCtx();
  let produced = 0;
  let inFrame = false;
  let sawInput = false;
  // One output buffer, replaced only when part of it was handed out (tiny input chunks must not
  // cost a fresh 128 KB buffer per call).
  let dst = Buffer.allocUnsafe(D_OUT);
  const call = (src: Buffer): [number, number, number] => {
    try {
      return dctx.decompressStream(dst, src);
    } catch (e) {
      throw new ZstdDataError((e as Error).message);
    }
  };
  for await (const chunk of source) {
    let src: Buffer = chunk;
    if (src.length > 0) sawInput = true;
    while (src.length > 0) {
      const first = call(src);
      let [ret, out] = first;
      const used = first[2];
      src = src.subarray(used);
      inFrame = ret !== 0;
      for (;;) {
        if (out > 0) {
          produced += out;
          if (produced > maxBytes) throw new ZstdLimitError(`more than ${maxBytes} bytes`);
          const full = out === D_OUT;
          yield dst.subarray(0, out);
          dst = Buffer.allocUnsafe(D_OUT);
          // Output buffer was full: the decoder may hold more even with no input left; drain it.
          // Not after ret = 0: the frame is complete, and another call would wait for a new one.
          if (full && src.length === 0 && ret !== 0) {
            [ret, out] = call(EMPTY);
            inFrame = ret !== 0;
            continue;
          }
        } else if (used === 0) {
          throw new ZstdDataError('decoder made no progress');
        }
        break;
      }
    }
  }
  if (!sawInput) throw new ZstdDataError('empty zstd stream');
  if (inFrame) throw new ZstdDataError('stream ended inside a zstd frame');
}

/**
 * A zstd encoder whose native context is reused from one stream to the next (a context for
 * level 3 is several MB; making one per media file costs more than compressing a small file).
 * Each encode() writes one complete frame.
 */
export class ZstdEncoder {
  private readonly cctx = new binding.CCtx();
  private workers = 0;
  private scratch: Buffer = Buffer.alloc(0);

  constructor(private readonly level: number) {
    this.cctx.setParameter(binding.CParameter.compressionLevel, level);
  }

  /** One frame for a whole buffer (single-threaded); a fresh buffer. */
  compressWhole(data: Buffer): Buffer {
    return Buffer.from(this.compressToScratch(data));
  }

  /**
   * One frame for a whole buffer, in this encoder's scratch buffer: valid only until the next
   * call (for callers that copy it at once — no allocation per file).
   */
  compressToScratch(data: Buffer): Buffer {
    const bound = binding.compressBound(data.length);
    if (this.scratch.length < bound) this.scratch = Buffer.allocUnsafe(bound);
    return this.scratch.subarray(0, this.compressInto(this.scratch, data));
  }

  /** One frame for a whole buffer into `dst` (at least zstdCompressBound(data.length) long); returns its length. */
  compressInto(dst: Buffer, data: Buffer): number {
    this.cctx.reset(binding.ResetDirective.sessionOnly);
    this.setWorkers(0);
    return this.cctx.compress2(dst, data);
  }

  /** Starts a frame to be fed with push() and finished with end() (single-threaded). */
  begin(): void {
    this.cctx.reset(binding.ResetDirective.sessionOnly);
    this.setWorkers(0);
  }

  /** Compresses (part of) `src` into `dst`; returns the bytes written and consumed. */
  push(dst: Buffer, src: Buffer): { written: number; consumed: number } {
    const [, written, consumed] = this.cctx.compressStream2(dst, src, binding.EndDirective.continue);
    return { written, consumed };
  }

  /** Flushes the frame's end into `dst` (at least ZSTD_END_ROOM bytes); `more`: call again. */
  end(dst: Buffer): { written: number; more: boolean } {
    const [remaining, written] = this.cctx.compressStream2(dst, EMPTY, binding.EndDirective.end);
    return { written, more: remaining !== 0 };
  }

  private setWorkers(workers: number): void {
    if (workers === this.workers) return;
    try {
      this.cctx.setParameter(binding.CParameter.nbWorkers, workers);
      this.workers = workers;
    } catch {
      // Built without multithreading: compress on this thread.
    }
  }

  async *encode(source: AsyncIterable<Buffer>, workers = 0): AsyncGenerator<Buffer> {
    this.cctx.reset(binding.ResetDirective.sessionOnly);
    this.setWorkers(workers);
    let ok = false;
    try {
      for await (const chunk of source) {
        let src: Buffer = chunk;
        while (src.length > 0) {
          const dst = Buffer.allocUnsafe(C_OUT);
          const [, out, used] = this.cctx.compressStream2(dst, src, binding.EndDirective.continue);
          src = src.subarray(used);
          if (out > 0) yield dst.subarray(0, out);
        }
      }
      for (;;) {
        const dst = Buffer.allocUnsafe(C_OUT);
        const [remaining, out] = this.cctx.compressStream2(dst, Buffer.alloc(0), binding.EndDirective.end);
        if (out > 0) yield dst.subarray(0, out);
        if (remaining === 0) break;
      }
      ok = true;
    } finally {
      // A frame abandoned half-way must not leak into the next one.
      if (!ok) this.cctx.reset(binding.ResetDirective.sessionOnly);
    }
  }
}

/** Compresses a whole buffer (one frame) with a reusable context; the result is a fresh buffer. */
export function zstdCompressWith(encoder: ZstdEncoder, data: Buffer): Buffer {
  return encoder.compressWhole(data);
}

/**
 * Decodes a whole buffer that must decode to exactly `size` bytes: the output buffer has room for
 * `size` bytes only, so a bomb fails inside zstd (ZstdLimitError) instead of filling memory.
 * `into` (at least size + 1 bytes) and `dctx` may be reused from call to call.
 */
export function zstdDecompressExact(data: Buffer, size: number, into?: Buffer, dctx?: InstanceType<typeof binding.DCtx>): Buffer {
  const ctx = dctx ?? new binding.DCtx();
  const out = into && into.length >= size + 1 ? into.subarray(0, size + 1) : Buffer.allocUnsafe(size + 1);
  let n: number;
  try {
    n = ctx.decompress(out, data);
  } catch (e) {
    const msg = (e as Error).message;
    if (/too small|dstSize/i.test(msg)) throw new ZstdLimitError(`more than ${size} bytes`);
    throw new ZstdDataError(msg);
  }
  if (n > size) throw new ZstdLimitError(`more than ${size} bytes`);
  return out.subarray(0, n);
}

/** A decoder context to reuse across zstdDecompressExact calls (one per thread). */
export function newZstdDecoder(): InstanceType<typeof binding.DCtx> {
  return new binding.DCtx();
}

/** Encodes a stream as one zstd frame (fresh context). */
export function zstdEncode(source: AsyncIterable<Buffer>, opts: { level: number; workers?: number }): AsyncGenerator<Buffer> {
  return new ZstdEncoder(opts.level).encode(source, opts.workers ?? 0);
}

/** Most bytes one frame of `size` input bytes can take. */
export function zstdCompressBound(size: number): number {
  return binding.compressBound(size);
}

/** One-shot helpers for small in-memory data (media map). */
export function zstdCompressSmall(data: Buffer, level = 3): Buffer {
  const cctx = new binding.CCtx();
  const dst = Buffer.allocUnsafe(binding.compressBound(data.length));
  const n = cctx.compress(dst, data, level);
  return dst.subarray(0, n);
}
