/**
 * An MTP initiator session over an MtpPipe: one transaction at a time (command → optional data
 * phase → response), data phases streamed in both directions, typed errors, and recovery
 * (class Cancel request, device status, clear halt) after a timeout or stall so that the next
 * transaction starts clean.
 */
import { makeError } from '../../errors/define.js';
import { UsbErrors } from '../../errors/codes/usb.js';
import { isAnkibridgeError, type AnkibridgeError } from '../../errors/ankibridge-error.js';
import { ALL, ClassRequest, ContainerType, EventCode, Format, Op, OP_NAMES, Rc, RC_NAMES, ROOT_PARENT, ObjectProp, hex } from './codes.js';
import { ContainerFormatError, decodeHeader, decodeParams, encodeCommand, encodeDataHeader, HEADER_SIZE, UNKNOWN_LENGTH } from './container.js';
import {
  encodeObjectInfo, encodePtpString, parseDeviceInfo, parseObjectInfo, parseStorageInfo, parseUint32Array,
  type DeviceInfo, type ObjectInfo, type StorageInfo,
} from './datasets.js';
import { PipeError, type MtpPipe } from './pipe.js';

export type DataSink = (chunk: Buffer) => void | Promise<void>;

export interface DataSource {
  readonly size: number;
  readonly chunks: AsyncIterable<Uint8Array>;
  /** Random access to the same bytes: when given, each transfer buffer is filled by one read, with no copy. */
  readonly openReader?: () => Promise<{ readAt(position: number, into: Buffer, offset: number, length: number): Promise<number>; close(): Promise<void> }>;
}

export interface GetOptions {
  /**
   * The sink is done with each chunk when it returns or its promise resolves, so the session
   * reuses a ring of transfer buffers instead of allocating one per transfer (fresh memory
   * means page faults and zeroing, which software emulation makes expensive).
   */
  readonly transient?: boolean;
}

export interface MtpEvent {
  readonly code: number;
  readonly name: string;
  readonly params: readonly number[];
}

export interface SessionOptions {
  /** Command and response phases. */
  readonly timeoutMs?: number;
  /** Each USB transfer of a data phase. */
  readonly dataTimeoutMs?: number;
  /** Bytes per IN transfer (a multiple of the packet size). */
  readonly inChunk?: number;
  /** IN transfers kept in flight during a data phase. */
  readonly inDepth?: number;
  /**
   * Bytes per OUT transfer, aligned from the container start. 512 KiB because QEMU's usb-mtp
   * (the lab phone) keeps only 512 KiB per transfer and aborts on larger ones; phones do not care.
   */
  readonly outChunk?: number;
  /** OUT transfers kept in flight during a data phase. */
  readonly outDepth?: number;
}

interface Response {
  readonly code: number;
  readonly params: readonly number[];
}

const EVENT_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(EventCode).map(([k, v]) => [v, k]));

export class MtpSession {
  private tid = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private dead: AnkibridgeError | null = null;
  private closed = false;
  private readonly eventListeners = new Set<(e: MtpEvent) => void>();
  private stopEvents: (() => Promise<void>) | null = null;
  private readonly timeoutMs: number;
  private readonly dataTimeoutMs: number;
  private readonly inChunk: number;
  private readonly inDepth: number;
  private readonly outChunk: number;
  private readonly outDepth: number;
  deviceInfo!: DeviceInfo;

  private constructor(readonly pipe: MtpPipe, opts: SessionOptions) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.dataTimeoutMs = opts.dataTimeoutMs ?? 30_000;
    const mps = pipe.maxPacketSize;
    // Measured in the lab (100 MB, TCG, loaded host): 2 MiB x 4 read fastest (4 MiB x 2 and
    // 1 MiB x 8 were 30-50 % slower). Linux caps what usbfs may have in flight at 16 MiB by
    // default (usbfs_memory_mb), so chunk x depth stays well under it.
    this.inChunk = Math.max(mps, Math.floor((opts.inChunk ?? 2 << 20) / mps) * mps);
    this.inDepth = Math.max(1, opts.inDepth ?? 4);
    this.outChunk = opts.outChunk ?? 512 * 1024;
    this.outDepth = Math.max(1, opts.outDepth ?? 3);
  }

  /** Opens session 1 (closing a stale one left by a crashed program) and reads DeviceInfo. */
  static async open(pipe: MtpPipe, opts: SessionOptions = {}): Promise<MtpSession> {
    const s = new MtpSession(pipe, opts);
    try {
      let r = await s.transaction(Op.OpenSession, [1], { allowRc: [Rc.SessionAlreadyOpen] });
      if (r.code === Rc.SessionAlreadyOpen) {
        await s.transaction(Op.CloseSession, [], { allowRc: [Rc.SessionNotOpen] });
        r = await s.transaction(Op.OpenSession, [1]);
      }
      const info = await s.transactIn(Op.GetDeviceInfo, []);
      s.deviceInfo = parseDeviceInfo(info);
    } catch (e) {
      await pipe.close().catch(() => undefined);
      throw s.mapError(e, 'opening the MTP session');
    }
    s.stopEvents = pipe.listenInterrupt((d) => s.onInterrupt(d), () => undefined);
    return s;
  }

  get label(): string {
    return this.pipe.label;
  }

  supports(op: number): boolean {
    return this.deviceInfo.operations.has(op);
  }

  onEvent(listener: (e: MtpEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  private onInterrupt(d: Buffer): void {
    try {
      const h = decodeHeader(d);
      if (h.type !== ContainerType.EVENT) return;
      const ev: MtpEvent = { code: h.code, name: EVENT_NAMES[h.code] ?? hex(h.code), params: decodeParams(d, h) };
      for (const l of this.eventListeners) l(ev);
    } catch {
      /* a malformed event is ignored: events are hints, listings are re-read anyway */
    }
  }

  async storageIds(): Promise<number[]> {
    return parseUint32Array(await this.transactIn(Op.GetStorageIDs, []));
  }

  async storageInfo(id: number): Promise<StorageInfo> {
    return parseStorageInfo(id, await this.transactIn(Op.GetStorageInfo, [id]));
  }

  /** Handles of the objects directly in `parent` (ROOT_PARENT = the storage root). */
  async objectHandles(storageId: number, parent: number = ROOT_PARENT): Promise<number[]> {
    return parseUint32Array(await this.transactIn(Op.GetObjectHandles, [storageId, 0, parent]));
  }

  async objectInfo(handle: number): Promise<ObjectInfo> {
    return parseObjectInfo(handle, await this.transactIn(Op.GetObjectInfo, [handle]));
  }

  /** Streams the whole object into `sink`; returns the byte count. */
  async getObject(handle: number, sink: DataSink, opts: GetOptions = {}): Promise<number> {
    let n = 0;
    await this.transaction(Op.GetObject, [handle], { sink: async (c) => { n += c.length; await sink(c); }, transient: opts.transient ?? false });
    return n;
  }

  /**
   * Reads `length` bytes from `offset`. GetPartialObject64 (Android) when the device has it,
   * else GetPartialObject (32-bit offsets).
   */
  async getPartialObject(handle: number, offset: number, length: number, sink: DataSink, opts: GetOptions = {}): Promise<number> {
    let n = 0;
    const counting: DataSink = async (c) => { n += c.length; await sink(c); };
    const transient = opts.transient ?? false;
    if (this.supports(Op.GetPartialObject64)) {
      await this.transaction(Op.GetPartialObject64, [handle, offset % 2 ** 32, Math.floor(offset / 2 ** 32), length], { sink: counting, transient });
    } else if (this.supports(Op.GetPartialObject) && offset + length <= 0xffffffff) {
      await this.transaction(Op.GetPartialObject, [handle, offset, length], { sink: counting, transient });
    } else {
      throw makeError(UsbErrors.PROTOCOL, { device: this.label, operation: 'GetPartialObject', response: 'not supported by the device' });
    }
    return n;
  }

  /** SendObjectInfo + SendObject. Returns the new object's handle. */
  async sendObject(storageId: number, parent: number, name: string, source: DataSource): Promise<number> {
    const r = await this.transaction(Op.SendObjectInfo, [storageId, parent], { dataOut: bufferSource(encodeObjectInfo(name, source.size)) });
    const handle = r.params[2];
    if (handle === undefined) throw makeError(UsbErrors.PROTOCOL, { device: this.label, operation: 'SendObjectInfo', response: 'no object handle in the response' });
    await this.transaction(Op.SendObject, [], { dataOut: source, responseTimeoutMs: Math.max(this.timeoutMs, 60_000) });
    return handle;
  }

  /** A folder (association): SendObjectInfo alone. Returns its handle. */
  async createFolder(storageId: number, parent: number, name: string): Promise<number> {
    const r = await this.transaction(Op.SendObjectInfo, [storageId, parent], { dataOut: bufferSource(encodeObjectInfo(name, 0, Format.Association)) });
    const handle = r.params[2];
    if (handle === undefined) throw makeError(UsbErrors.PROTOCOL, { device: this.label, operation: 'SendObjectInfo', response: 'no object handle in the response' });
    return handle;
  }

  async deleteObject(handle: number): Promise<void> {
    // two parameters: QEMU's usb-mtp reads the format code even when it is not sent
    await this.transaction(Op.DeleteObject, [handle, 0]);
  }

  canRename(): boolean {
    return this.supports(Op.SetObjectPropValue);
  }

  async renameObject(handle: number, newName: string): Promise<void> {
    if (!this.canRename()) {
      throw makeError(UsbErrors.PROTOCOL, { device: this.label, operation: 'rename (SetObjectPropValue)', response: 'not supported by the device' });
    }
    await this.transaction(Op.SetObjectPropValue, [handle, ObjectProp.ObjectFileName], { dataOut: bufferSource(encodePtpString(newName)) });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (!this.dead) await this.transaction(Op.CloseSession, [], { allowRc: [Rc.SessionNotOpen], force: true });
    } catch {
      /* closing is best effort: the device may be gone */
    }
    this.eventListeners.clear();
    if (this.stopEvents) await this.stopEvents();
    await this.pipe.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- transactions -------------------------------------------------------------------------

  private async transactIn(op: number, params: number[]): Promise<Buffer> {
    const parts: Buffer[] = [];
    // a dataset (device/object/storage info, handle lists): small, so the first read is small —
    // a multi-MiB read costs every such round trip tens of ms on a slow host (lab: 75 → 10 ms)
    await this.transaction(op, params, { sink: (c) => void parts.push(Buffer.from(c)), firstIn: 16 * this.pipe.maxPacketSize });
    return Buffer.concat(parts);
  }

  private transaction(
    op: number,
    params: readonly number[],
    o: { sink?: DataSink; transient?: boolean; dataOut?: DataSource; allowRc?: readonly number[]; responseTimeoutMs?: number; force?: boolean; firstIn?: number } = {},
  ): Promise<Response> {
    const run = async (): Promise<Response> => {
      if (this.dead) throw this.dead;
      if (this.closed && !o.force) throw makeError(UsbErrors.DISCONNECTED, { device: this.label, operation: OP_NAMES[op] ?? hex(op) });
      const tid = op === Op.OpenSession ? 0 : ++this.tid;
      const name = OP_NAMES[op] ?? hex(op);
      try {
        await this.pipe.bulkOut(encodeCommand(op, tid, params), this.timeoutMs);
        if (o.dataOut) await this.sendData(op, tid, o.dataOut);
        const r = await this.readResponse(op, tid, o.sink, o.responseTimeoutMs ?? this.timeoutMs, o.transient ?? false, o.firstIn);
        if (r.code !== Rc.OK && !(o.allowRc ?? []).includes(r.code)) throw this.rcError(r.code, name);
        return r;
      } catch (e) {
        const err = this.mapError(e, name);
        if (err.code === UsbErrors.DISCONNECTED.code) this.dead = err;
        else if (e instanceof PipeError || e instanceof ContainerFormatError) await this.recover(tid);
        throw err;
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /**
   * Sends a data phase: transfers of `outChunk` bytes aligned from the container start, up to
   * `outDepth` in flight, each from a ring of outDepth + 1 reused buffers (the one being filled
   * is not in flight). A source with random access is read straight into the transfer buffers;
   * a stream is copied into them.
   */
  private async sendData(op: number, tid: number, src: DataSource): Promise<void> {
    const total = src.size + HEADER_SIZE;
    const header = encodeDataHeader(op, tid, src.size);
    const ring: Buffer[] = [];
    const bufferFor = (k: number, len: number): Buffer => {
      const i = k % (this.outDepth + 1);
      const b = (ring[i] ??= Buffer.allocUnsafe(Math.min(this.outChunk, total)));
      return b.subarray(0, len);
    };
    const inflight: Array<Promise<void>> = [];
    const submit = async (b: Buffer): Promise<void> => {
      if (inflight.length >= this.outDepth) await inflight.shift();
      const p = this.pipe.bulkOut(b, this.dataTimeoutMs);
      p.catch(() => undefined);
      inflight.push(p);
    };
    const drain = async (): Promise<void> => {
      // settle every transfer before reporting the first failure
      const results = await Promise.allSettled(inflight.splice(0));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    };
    const reader = src.openReader ? await src.openReader() : null;
    try {
      if (reader) {
        for (let k = 0, pos = 0; pos < total; k++) {
          const len = Math.min(this.outChunk, total - pos);
          const b = bufferFor(k, len);
          let at = 0;
          if (pos === 0) at = header.copy(b, 0);
          while (at < len) {
            const n = await reader.readAt(pos + at - HEADER_SIZE, b, at, len - at);
            if (n <= 0) throw new ContainerFormatError(`the data source gave ${pos + at - HEADER_SIZE} of the ${src.size} bytes announced`);
            at += n;
          }
          await submit(b);
          pos += len;
        }
      } else {
        let k = 0;
        let sent = 0;
        let b = bufferFor(0, Math.min(this.outChunk, total));
        let fill = header.copy(b, 0);
        let got = 0;
        for await (const chunk of src.chunks) {
          let c = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
          got += c.length;
          if (got > src.size) throw new ContainerFormatError(`the data source gave more than the ${src.size} bytes announced`);
          while (c.length > 0) {
            const n = c.copy(b, fill, 0, Math.min(c.length, b.length - fill));
            fill += n;
            c = c.subarray(n);
            if (fill === b.length) {
              await submit(b);
              sent += fill;
              b = bufferFor(++k, Math.min(this.outChunk, total - sent));
              fill = 0;
            }
          }
        }
        if (got !== src.size) throw new ContainerFormatError(`the data source gave ${got} of the ${src.size} bytes announced`);
        if (fill > 0) await submit(b.subarray(0, fill));
      }
    } finally {
      try {
        await drain();
      } finally {
        await reader?.close();
      }
    }
    // a transfer that ends exactly on a packet boundary needs a zero-length packet to end it
    if (total % this.pipe.maxPacketSize === 0) await this.pipe.bulkOut(new Uint8Array(0), this.dataTimeoutMs);
  }

  /** Reads an optional data phase into `sink`, then the response. */
  private async readResponse(op: number, tid: number, sink: DataSink | undefined, timeoutMs: number, transient: boolean, firstIn?: number): Promise<Response> {
    // transient sinks: a ring of inDepth + 1 transfer buffers, reused (see readData)
    const ring: Buffer[] | null = transient && sink ? [] : null;
    const slot = (i: number): Buffer | undefined => {
      if (!ring) return undefined;
      const k = i % (this.inDepth + 1);
      return (ring[k] ??= Buffer.allocUnsafe(this.inChunk));
    };
    for (let containers = 0; containers < 3; containers++) {
      // A big first read only where a big data phase is expected (object data); a dataset's
      // first read is small (firstIn), and after a data phase only a response (at most 32 bytes)
      // is due. A multi-MiB read cost every small round trip tens of ms in the lab guest.
      const size = containers === 0 && sink ? Math.min(this.inChunk, firstIn ?? this.inChunk) : Math.min(this.inChunk, 16 * this.pipe.maxPacketSize);
      let first = await this.pipe.bulkIn(size, containers === 0 && sink ? this.dataTimeoutMs : timeoutMs, slot(0));
      // a zero-length packet left over from a data phase that ended on a packet boundary
      if (first.length === 0) first = await this.pipe.bulkIn(size, timeoutMs, slot(0));
      const h = decodeHeader(first);
      if (h.type === ContainerType.RESPONSE) {
        if (h.transactionId !== tid) throw new ContainerFormatError(`response for transaction ${h.transactionId}, expected ${tid}`);
        return { code: h.code, params: decodeParams(first, h) };
      }
      if (h.type !== ContainerType.DATA) throw new ContainerFormatError(`unexpected container type ${h.type}`);
      if (h.transactionId !== tid || h.code !== op) throw new ContainerFormatError(`data for ${hex(h.code)}/${h.transactionId}, expected ${hex(op)}/${tid}`);
      await this.readData(first, h.length, sink, slot, size);
    }
    throw new ContainerFormatError('no response container after the data phase');
  }

  /**
   * The rest of a data phase whose first transfer is `first` (slot 0; `firstAsked` bytes were
   * asked for). Keeps `inDepth` transfers in flight, never asking for more than the container
   * still holds; transfer k uses slot(k), which is reused at k + inDepth + 1, after the sink has
   * finished with it.
   */
  private async readData(first: Buffer, length: number, sink: DataSink | undefined, slot: (i: number) => Buffer | undefined, firstAsked = this.inChunk): Promise<void> {
    const mps = this.pipe.maxPacketSize;
    const emit = async (b: Buffer): Promise<void> => {
      if (b.length && sink) await sink(b);
    };
    let k = 1;
    if (length === UNKNOWN_LENGTH) {
      // more than 4 GiB: read until a short packet
      await emit(first.subarray(HEADER_SIZE));
      // a full transfer (not a short packet) means more follows
      let full = first.length === firstAsked;
      while (full) {
        const b = await this.pipe.bulkIn(this.inChunk, this.dataTimeoutMs, slot(k++));
        await emit(b);
        full = b.length === this.inChunk;
      }
      return;
    }
    let remaining = length - first.length;
    const inflight: Array<{ p: Promise<Buffer>; want: number }> = [];
    let requested = 0;
    const topUp = (): void => {
      while (inflight.length < this.inDepth && requested < remaining) {
        const want = Math.min(this.inChunk, Math.ceil((remaining - requested) / mps) * mps);
        const p = this.pipe.bulkIn(want, this.dataTimeoutMs, slot(k++));
        p.catch(() => undefined);
        inflight.push({ p, want });
        requested += want;
      }
    };
    // the next transfers are on their way while the sink works
    topUp();
    await emit(first.subarray(HEADER_SIZE, Math.min(length, first.length)));
    for (let next = inflight.shift(); next; next = inflight.shift()) {
      const b = await next.p;
      requested -= next.want;
      const useful = b.subarray(0, Math.max(0, Math.min(b.length, remaining)));
      remaining -= b.length;
      if (b.length < next.want && remaining > 0) {
        for (const f of inflight) await f.p.catch(() => undefined);
        throw new ContainerFormatError(`data phase ended ${remaining} bytes early`);
      }
      topUp();
      await emit(useful);
    }
  }

  private rcError(rc: number, operation: string): AnkibridgeError {
    const response = `${RC_NAMES[rc] ?? 'response'} ${hex(rc)}`;
    switch (rc) {
      case Rc.AccessDenied:
      case Rc.StoreNotAvailable:
        return makeError(UsbErrors.LOCKED, { device: this.label, reason: `${operation} answered ${response}` });
      case Rc.StoreFull:
        return makeError(UsbErrors.STORAGE_FULL, { device: this.label, path: operation, bytes: 0 });
      case Rc.StoreReadOnly:
      case Rc.ObjectWriteProtected:
        return makeError(UsbErrors.READ_ONLY, { device: this.label, path: operation });
      case Rc.InvalidObjectHandle:
        return makeError(UsbErrors.NOT_FOUND, { device: this.label, path: `object for ${operation}` });
      default:
        return makeError(UsbErrors.PROTOCOL, { device: this.label, operation, response });
    }
  }

  mapError(e: unknown, operation: string): AnkibridgeError {
    if (isAnkibridgeError(e)) return e;
    if (e instanceof PipeError) {
      if (e.kind === 'disconnected' || !this.pipe.isConnected()) return makeError(UsbErrors.DISCONNECTED, { device: this.label, operation }, e);
      if (e.kind === 'timeout') return makeError(UsbErrors.TIMEOUT, { device: this.label, operation, seconds: Math.round(this.dataTimeoutMs / 1000) }, e);
      if (e.kind === 'access') return makeError(UsbErrors.LOCKED, { device: this.label, reason: e.message }, e);
      return makeError(UsbErrors.PROTOCOL, { device: this.label, operation, response: e.message }, e);
    }
    if (e instanceof ContainerFormatError) return makeError(UsbErrors.PROTOCOL, { device: this.label, operation, response: e.message }, e);
    return makeError(UsbErrors.PROTOCOL, { device: this.label, operation, response: (e as Error)?.message ?? String(e) }, e);
  }

  /**
   * After a failed transaction: ask the device to cancel it (class request 0x64), wait until
   * it says OK, clear halted endpoints and drop stale data, so the next transaction starts clean.
   */
  private async recover(tid: number): Promise<void> {
    if (!this.pipe.isConnected()) return;
    const cancel = Buffer.alloc(6);
    cancel.writeUInt16LE(EventCode.CancelTransaction, 0);
    cancel.writeUInt32LE(tid, 2);
    await this.pipe.controlOut(ClassRequest.CancelRequest, 0, cancel).catch(() => undefined);
    for (let i = 0; i < 20; i++) {
      const st = await this.pipe.controlIn(ClassRequest.GetDeviceStatus, 0, 32).catch(() => null);
      if (!st || st.length < 4 || st.readUInt16LE(2) === Rc.OK) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.pipe.clearHalt('in').catch(() => undefined);
    await this.pipe.clearHalt('out').catch(() => undefined);
    for (let i = 0; i < 64; i++) {
      const stale = await this.pipe.bulkIn(this.inChunk, 200).catch(() => null);
      if (!stale) break;
    }
  }
}

export function bufferSource(b: Buffer): DataSource {
  return {
    size: b.length,
    chunks: (async function* () {
      yield b;
    })(),
  };
}

export { ALL, ROOT_PARENT };
