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
  for await (const chunk of source) {
    let src: Buffer = chunk;
    if (src.length > 0) sawInput = true;
    while (src.length > 0) {
      const dst = Buffer.allocUnsafe(D_OUT);
      let ret: number, out: number, used: number;
      try {
        [ret, out, used] = dctx.decompressStream(dst, src);
      } catch (e) {
        throw new ZstdDataError((e as Error).message);
      }
      src = src.subarray(used);
      inFrame = ret !== 0;
      if (out > 0) {
        produced += out;
        if (produced > maxBytes) throw new ZstdLimitError(`more than ${maxBytes} bytes`);
        yield dst.subarray(0, out);
      }
      // Output buffer full: the decoder may hold more even with no input left; drain it.
      while (src.length === 0 && out === D_OUT) {
        const more = Buffer.allocUnsafe(D_OUT);
        try {
          [ret, out] = dctx.decompressStream(more, Buffer.alloc(0));
        } catch (e) {
          throw new ZstdDataError((e as Error).message);
        }
        inFrame = ret !== 0;
        if (out > 0) {
          produced += out;
          if (produced > maxBytes) throw new ZstdLimitError(`more than ${maxBytes} bytes`);
          yield more.subarray(0, out);
        }
      }
      if (used === 0 && out === 0) throw new ZstdDataError('decoder made no progress');
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

  constructor(private readonly level: number) {
    this.cctx.setParameter(binding.CParameter.compressionLevel, level);
  }

  async *encode(source: AsyncIterable<Buffer>, workers = 0): AsyncGenerator<Buffer> {
    this.cctx.reset(binding.ResetDirective.sessionOnly);
    if (workers !== this.workers) {
      try {
        this.cctx.setParameter(binding.CParameter.nbWorkers, workers);
        this.workers = workers;
      } catch {
        // Built without multithreading: compress on this thread.
      }
    }
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

/** Encodes a stream as one zstd frame (fresh context). */
export function zstdEncode(source: AsyncIterable<Buffer>, opts: { level: number; workers?: number }): AsyncGenerator<Buffer> {
  return new ZstdEncoder(opts.level).encode(source, opts.workers ?? 0);
}

/** One-shot helpers for small in-memory data (media map). */
export function zstdCompressSmall(data: Buffer, level = 3): Buffer {
  const cctx = new binding.CCtx();
  const dst = Buffer.allocUnsafe(binding.compressBound(data.length));
  const n = cctx.compress(dst, data, level);
  return dst.subarray(0, n);
}
