/**
 * A scripted MTP responder behind the MtpPipe interface, for fast unit tests of the initiator's
 * framing and error paths. It keeps files in memory, answers the operations the initiator uses
 * and can be told to fail: disconnect after N bytes, time out, answer a response code, send
 * garbage. It is NOT the proof that the initiator works with a phone: the lab tests are.
 */
import { ContainerType, Op, Rc } from '../../../src/usb/mtp/codes.js';
import { decodeHeader, HEADER_SIZE } from '../../../src/usb/mtp/container.js';
import { encodePtpString, PtpReader } from '../../../src/usb/mtp/datasets.js';
import { PipeError, type MtpPipe } from '../../../src/usb/mtp/pipe.js';

interface FakeObject {
  handle: number;
  parent: number;
  name: string;
  folder: boolean;
  data: Buffer;
}

export interface FakeFaults {
  /** Fail the next bulk IN with this kind. */
  nextInError?: 'timeout' | 'disconnected' | 'stall';
  /** Unplug after this many data bytes have moved (either way). */
  disconnectAfterBytes?: number;
  /** Answer this response code to the next command with this op code. */
  rcFor?: { op: number; rc: number };
  /** Send a container with a bad type as the next response. */
  garbageResponse?: boolean;
}

function container(type: number, code: number, tid: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(HEADER_SIZE);
  h.writeUInt32LE(HEADER_SIZE + body.length, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(code, 6);
  h.writeUInt32LE(tid, 8);
  return Buffer.concat([h, body]);
}

function u32s(values: number[]): Buffer {
  const b = Buffer.alloc(4 + 4 * values.length);
  b.writeUInt32LE(values.length, 0);
  values.forEach((v, i) => b.writeUInt32LE(v, 4 + 4 * i));
  return b;
}

export class FakeMtpDevice implements MtpPipe {
  readonly label = 'Fake phone (test)';
  readonly maxPacketSize = 512;
  readonly objects = new Map<number, FakeObject>();
  faults: FakeFaults = {};
  connected = true;
  closed = false;
  cancelRequests = 0;
  /** Largest single OUT transfer seen (checks the 512 KiB chunking). */
  maxOut = 0;
  /** Every OUT transfer's size, in order. */
  outSizes: number[] = [];
  /** A locked phone: the session opens, GetStorageIDs lists nothing until unlock(). */
  locked = false;
  private interruptListener: ((d: Buffer) => void) | null = null;
  private nextHandle = 1;
  private outBuf = Buffer.alloc(0);
  private pendingCommand: { op: number; tid: number; params: number[] } | null = null;
  private pendingSend: { parent: number; name: string; size: number; folder: boolean } | null = null;
  private inQueue: Buffer[] = [];
  private bytesMoved = 0;
  private sessionOpen = false;

  constructor(readonly operations: number[] = [Op.GetDeviceInfo, Op.OpenSession, Op.CloseSession, Op.GetStorageIDs, Op.GetStorageInfo,
    Op.GetObjectHandles, Op.GetObjectInfo, Op.GetObject, Op.DeleteObject, Op.SendObjectInfo, Op.SendObject, Op.GetPartialObject, Op.SetObjectPropValue]) {}

  addFile(parent: number, name: string, data: Buffer | string, folder = false): number {
    const handle = this.nextHandle++;
    this.objects.set(handle, { handle, parent, name, folder, data: Buffer.from(data) });
    return handle;
  }

  private move(n: number): void {
    this.bytesMoved += n;
    if (this.faults.disconnectAfterBytes !== undefined && this.bytesMoved >= this.faults.disconnectAfterBytes) {
      this.connected = false;
      throw new PipeError('disconnected', 'LIBUSB_TRANSFER_NO_DEVICE (fake)');
    }
  }

  async bulkOut(data: Uint8Array): Promise<void> {
    if (!this.connected) throw new PipeError('disconnected', 'no device');
    this.maxOut = Math.max(this.maxOut, data.length);
    this.outSizes.push(data.length);
    this.move(data.length);
    this.outBuf = Buffer.concat([this.outBuf, Buffer.from(data)]);
    while (this.outBuf.length >= HEADER_SIZE) {
      const h = decodeHeader(this.outBuf);
      if (this.outBuf.length < h.length) return;
      const c = this.outBuf.subarray(0, h.length);
      this.outBuf = this.outBuf.subarray(h.length);
      if (h.type === ContainerType.COMMAND) {
        const params: number[] = [];
        for (let o = HEADER_SIZE; o + 4 <= c.length; o += 4) params.push(c.readUInt32LE(o));
        this.pendingCommand = { op: h.code, tid: h.transactionId, params };
        if (h.code !== Op.SendObjectInfo && h.code !== Op.SendObject && h.code !== Op.SetObjectPropValue) this.answer(null);
      } else if (h.type === ContainerType.DATA) {
        this.answer(Buffer.from(c.subarray(HEADER_SIZE)));
      }
    }
  }

  private respond(rc: number, tid: number, params: number[] = [], data?: Buffer, op = 0): void {
    if (data) this.inQueue.push(container(ContainerType.DATA, op, tid, data));
    if (this.faults.garbageResponse) {
      this.faults.garbageResponse = false;
      const g = container(ContainerType.RESPONSE, rc, tid);
      g.writeUInt16LE(9, 4);
      this.inQueue.push(g);
      return;
    }
    this.inQueue.push(container(ContainerType.RESPONSE, rc, tid, Buffer.from(u32s(params).subarray(4))));
  }

  private answer(data: Buffer | null): void {
    const cmd = this.pendingCommand;
    if (!cmd) return;
    this.pendingCommand = null;
    const { op, tid, params } = cmd;
    if (this.faults.rcFor && this.faults.rcFor.op === op) {
      const rc = this.faults.rcFor.rc;
      this.faults.rcFor = undefined;
      return this.respond(rc, tid);
    }
    const p0 = params[0] ?? 0;
    switch (op) {
      case Op.OpenSession:
        if (this.sessionOpen) return this.respond(Rc.SessionAlreadyOpen, tid);
        this.sessionOpen = true;
        return this.respond(Rc.OK, tid);
      case Op.CloseSession:
        this.sessionOpen = false;
        return this.respond(Rc.OK, tid);
      case Op.GetDeviceInfo: {
        const ops = Buffer.alloc(4 + 2 * this.operations.length);
        ops.writeUInt32LE(this.operations.length, 0);
        this.operations.forEach((o, i) => ops.writeUInt16LE(o, 4 + 2 * i));
        const empty = u32s([]);
        const info = Buffer.concat([Buffer.from([100, 0, 6, 0, 0, 0, 100, 0]), encodePtpString('microsoft.com: 1.0; android.com: 1.0;'), Buffer.from([0, 0]),
          ops, empty, empty, empty, empty, encodePtpString('FakeCo'), encodePtpString('Fake 1'), encodePtpString('1.0'), encodePtpString('FAKE123')]);
        return this.respond(Rc.OK, tid, [], info, op);
      }
      case Op.GetStorageIDs:
        return this.respond(Rc.OK, tid, [], u32s(this.locked ? [] : [0x10001]), op);
      case Op.GetObjectHandles: {
        const parent = params[2] === 0xffffffff ? 0 : (params[2] ?? 0);
        return this.respond(Rc.OK, tid, [], u32s([...this.objects.values()].filter((o) => o.parent === parent).map((o) => o.handle)), op);
      }
      case Op.GetObjectInfo: {
        const o = this.objects.get(p0);
        if (!o) return this.respond(Rc.InvalidObjectHandle, tid);
        const fixed = Buffer.alloc(52);
        fixed.writeUInt32LE(0x10001, 0);
        fixed.writeUInt16LE(o.folder ? 0x3001 : 0x3000, 4);
        fixed.writeUInt32LE(o.data.length, 8);
        fixed.writeUInt32LE(o.parent, 38);
        const body = Buffer.concat([fixed, encodePtpString(o.name), encodePtpString(''), encodePtpString('20260101T120000'), encodePtpString('')]);
        return this.respond(Rc.OK, tid, [], body, op);
      }
      case Op.GetObject: {
        const o = this.objects.get(p0);
        if (!o) return this.respond(Rc.InvalidObjectHandle, tid);
        return this.respond(Rc.OK, tid, [], o.data, op);
      }
      case Op.GetPartialObject: {
        const o = this.objects.get(p0);
        if (!o) return this.respond(Rc.InvalidObjectHandle, tid);
        return this.respond(Rc.OK, tid, [], o.data.subarray(params[1] ?? 0, (params[1] ?? 0) + (params[2] ?? 0)), op);
      }
      case Op.DeleteObject:
        if (!this.objects.delete(p0)) return this.respond(Rc.InvalidObjectHandle, tid);
        return this.respond(Rc.OK, tid);
      case Op.SendObjectInfo: {
        if (!data) return;
        const r = new PtpReader(data);
        r.u32();
        const format = r.u16();
        r.u16();
        const size = r.u32();
        r.skip(26);
        r.skip(4 + 2 + 4 + 4);
        const name = r.str();
        const parent = params[1] === 0xffffffff ? 0 : (params[1] ?? 0);
        if (format === 0x3001) {
          const h = this.addFile(parent, name, '', true);
          return this.respond(Rc.OK, tid, [0x10001, parent, h]);
        }
        this.pendingSend = { parent, name, size, folder: false };
        return this.respond(Rc.OK, tid, [0x10001, parent, this.nextHandle]);
      }
      case Op.SendObject: {
        if (!data || !this.pendingSend) return this.respond(Rc.GeneralError, tid);
        this.addFile(this.pendingSend.parent, this.pendingSend.name, data);
        this.pendingSend = null;
        return this.respond(Rc.OK, tid);
      }
      case Op.SetObjectPropValue: {
        if (!data) return;
        const o = this.objects.get(p0);
        if (!o) return this.respond(Rc.InvalidObjectHandle, tid);
        o.name = new PtpReader(data).str();
        return this.respond(Rc.OK, tid);
      }
      default:
        return this.respond(Rc.OperationNotSupported, tid);
    }
  }

  /** The largest IN transfer asked for (checks the read sizes). */
  maxIn = 0;

  async bulkIn(maxLength: number, _timeoutMs?: number, into?: Buffer): Promise<Buffer> {
    this.maxIn = Math.max(this.maxIn, maxLength);
    if (this.faults.nextInError) {
      const kind = this.faults.nextInError;
      this.faults.nextInError = undefined;
      if (kind === 'disconnected') this.connected = false;
      throw new PipeError(kind, `fake ${kind}`);
    }
    if (!this.connected) throw new PipeError('disconnected', 'no device');
    const head = this.inQueue[0];
    if (!head) throw new PipeError('timeout', 'nothing to read');
    const n = Math.min(maxLength, head.length);
    const out = head.subarray(0, n);
    this.move(n);
    if (n === head.length) this.inQueue.shift();
    else this.inQueue[0] = head.subarray(n);
    if (into) {
      out.copy(into, 0);
      return into.subarray(0, n);
    }
    return Buffer.from(out);
  }

  async controlOut(request: number): Promise<void> {
    if (request === 0x64) {
      this.cancelRequests++;
      this.inQueue = [];
      this.outBuf = Buffer.alloc(0);
      this.pendingCommand = null;
    }
  }

  async controlIn(): Promise<Buffer> {
    const b = Buffer.alloc(4);
    b.writeUInt16LE(4, 0);
    b.writeUInt16LE(Rc.OK, 2);
    return b;
  }

  async clearHalt(): Promise<void> {}

  listenInterrupt(onData: (d: Buffer) => void): () => Promise<void> {
    this.interruptListener = onData;
    return async () => {
      this.interruptListener = null;
    };
  }

  /** The user unlocks the phone: its storage appears; with `event`, a StoreAdded event is sent. */
  unlock(event = true): void {
    this.locked = false;
    if (event) this.interruptListener?.(container(ContainerType.EVENT, 0x4004, 0, Buffer.from(u32s([0x10001]).subarray(4))));
  }

  isConnected(): boolean {
    return this.connected;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
