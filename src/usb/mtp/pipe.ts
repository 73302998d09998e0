/**
 * What the MTP initiator needs from a USB device: one bulk pipe each way, the interrupt pipe
 * for events and class control requests. The node-usb implementation is in usb-pipe.ts; unit
 * tests script a fake one. Failures are PipeErrors with a kind, which the session turns into
 * catalogued errors naming the MTP operation.
 */
export type PipeErrorKind = 'timeout' | 'disconnected' | 'stall' | 'cancelled' | 'busy' | 'access' | 'io';

export class PipeError extends Error {
  override readonly name = 'PipeError';
  constructor(readonly kind: PipeErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface MtpPipe {
  /** For messages: "QEMU filesharing (46f4:0004, serial X)". */
  readonly label: string;
  readonly maxPacketSize: number;
  bulkOut(data: Uint8Array, timeoutMs: number): Promise<void>;
  /**
   * Reads one USB transfer of at most `maxLength` bytes (ends early on a short packet), into
   * `into` when given (at least `maxLength` long; the result is a view of it), else a new buffer.
   */
  bulkIn(maxLength: number, timeoutMs: number, into?: Buffer): Promise<Buffer>;
  /** Class request to the interface, host to device. */
  controlOut(request: number, value: number, data: Buffer): Promise<void>;
  /** Class request to the interface, device to host. */
  controlIn(request: number, value: number, length: number): Promise<Buffer>;
  clearHalt(direction: 'in' | 'out'): Promise<void>;
  /** Starts reading the interrupt endpoint; returns the function that stops it. */
  listenInterrupt(onData: (data: Buffer) => void, onError: (e: PipeError) => void): () => Promise<void>;
  /** False once the device is known to be gone (used to classify an I/O error as an unplug). */
  isConnected(): boolean;
  close(): Promise<void>;
}
