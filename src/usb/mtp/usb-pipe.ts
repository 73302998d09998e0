/**
 * MtpPipe over a node-usb (v2) device: claims the MTP interface (detaching a kernel driver if
 * one is bound), and maps libusb failures to PipeError kinds. A claim refused with BUSY names
 * the program holding the phone (gvfs / KIO on Linux).
 */
import { existsSync } from 'node:fs';
import type { Device, InEndpoint, OutEndpoint, Interface, LibUSBException } from 'usb';
import { makeError } from '../../errors/define.js';
import { UsbErrors } from '../../errors/codes/usb.js';
import { busyAlternative, deviceNodePath, findDeviceHolders, findGvfsMtpMounts } from '../interface-holder.js';
import type { InterfaceInfo } from '../identify.js';
import { PipeError, type MtpPipe, type PipeErrorKind } from './pipe.js';

// libusb error numbers (function results) and transfer statuses (transfer callbacks)
const LIBUSB_ERROR_ACCESS = -3;
const LIBUSB_ERROR_NO_DEVICE = -4;
const LIBUSB_ERROR_BUSY = -6;
const LIBUSB_ERROR_TIMEOUT = -7;
const LIBUSB_ERROR_PIPE = -9;
const TRANSFER_TIMED_OUT = 2;
const TRANSFER_CANCELLED = 3;
const TRANSFER_STALL = 4;
const TRANSFER_NO_DEVICE = 5;

function kindOf(e: unknown): PipeErrorKind {
  const errno = (e as LibUSBException | undefined)?.errno;
  switch (errno) {
    case TRANSFER_TIMED_OUT:
    case LIBUSB_ERROR_TIMEOUT:
      return 'timeout';
    case TRANSFER_NO_DEVICE:
    case LIBUSB_ERROR_NO_DEVICE:
      return 'disconnected';
    case TRANSFER_STALL:
    case LIBUSB_ERROR_PIPE:
      return 'stall';
    case TRANSFER_CANCELLED:
      return 'cancelled';
    case LIBUSB_ERROR_BUSY:
      return 'busy';
    case LIBUSB_ERROR_ACCESS:
      return 'access';
    default:
      return 'io';
  }
}

function pipeError(e: unknown, what: string): PipeError {
  return new PipeError(kindOf(e), `${what}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}

export interface OpenPipeOptions {
  readonly label: string;
  readonly mtpInterface: InterfaceInfo;
}

export function openUsbPipe(device: Device, opts: OpenPipeOptions): MtpPipe {
  const itfInfo = opts.mtpInterface;
  try {
    device.open();
  } catch (e) {
    const kind = kindOf(e);
    if (kind === 'access') {
      throw makeError(UsbErrors.LOCKED, { device: opts.label, reason: 'this user may not open the USB device; see the udev rules in the README' }, e);
    }
    if (kind === 'disconnected') throw makeError(UsbErrors.DISCONNECTED, { device: opts.label, operation: 'opening the device' }, e);
    throw makeError(UsbErrors.PROTOCOL, { device: opts.label, operation: 'opening the device', response: (e as Error).message }, e);
  }
  let itf: Interface;
  try {
    itf = device.interface(itfInfo.number);
    try {
      if (process.platform === 'linux' && itf.isKernelDriverActive()) itf.detachKernelDriver();
    } catch {
      /* not supported or nothing bound */
    }
    itf.claim();
  } catch (e) {
    const kind = kindOf(e);
    try {
      device.close();
    } catch {
      /* ignore */
    }
    if (kind === 'busy') {
      const holders = process.platform === 'linux' ? findDeviceHolders(deviceNodePath(device.busNumber, device.deviceAddress)) : [];
      throw makeError(UsbErrors.BUSY, {
        device: opts.label,
        holder: holders.map((h) => `${h.command} (pid ${h.pid})`).join(', ') || 'another program',
        alternative: busyAlternative(holders, findGvfsMtpMounts()),
      }, e);
    }
    if (kind === 'disconnected') throw makeError(UsbErrors.DISCONNECTED, { device: opts.label, operation: 'claiming the MTP interface' }, e);
    throw makeError(UsbErrors.PROTOCOL, { device: opts.label, operation: 'claiming the MTP interface', response: (e as Error).message }, e);
  }
  const epIn = itf.endpoints.find((e) => e.direction === 'in' && e.transferType === 2) as InEndpoint;
  const epOut = itf.endpoints.find((e) => e.direction === 'out' && e.transferType === 2) as OutEndpoint;
  const epInt = itf.endpoints.find((e) => e.direction === 'in' && e.transferType === 3) as InEndpoint | undefined;
  const maxPacketSize = epOut.descriptor.wMaxPacketSize || 512;
  const node = deviceNodePath(device.busNumber, device.deviceAddress);
  let closed = false;
  let stopInterrupt: (() => Promise<void>) | null = null;

  const control = (bmRequestType: number, request: number, value: number, dataOrLength: Buffer | number): Promise<Buffer | undefined> =>
    new Promise((resolve, reject) => {
      device.controlTransfer(bmRequestType, request, value, itfInfo.number, dataOrLength, (err, buf) => {
        if (err) reject(pipeError(err, `control request 0x${request.toString(16)}`));
        else resolve(Buffer.isBuffer(buf) ? buf : undefined);
      });
    });

  return {
    label: opts.label,
    maxPacketSize,
    bulkOut(data, timeoutMs) {
      return new Promise((resolve, reject) => {
        try {
          epOut.makeTransfer(timeoutMs, (err) => (err ? reject(pipeError(err, 'bulk OUT')) : resolve())).submit(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        } catch (e) {
          reject(pipeError(e, 'bulk OUT'));
        }
      });
    },
    bulkIn(maxLength, timeoutMs, into) {
      return new Promise((resolve, reject) => {
        try {
          const target = into ? into.subarray(0, maxLength) : Buffer.allocUnsafe(maxLength);
          epIn.makeTransfer(timeoutMs, (err, buf, actual) => (err ? reject(pipeError(err, 'bulk IN')) : resolve(buf.subarray(0, actual)))).submit(target);
        } catch (e) {
          reject(pipeError(e, 'bulk IN'));
        }
      });
    },
    async controlOut(request, value, data) {
      await control(0x21, request, value, data);
    },
    async controlIn(request, value, length) {
      return (await control(0xa1, request, value, length)) ?? Buffer.alloc(0);
    },
    clearHalt(direction) {
      const ep = direction === 'in' ? epIn : epOut;
      return new Promise((resolve, reject) => ep.clearHalt((err) => (err ? reject(pipeError(err, 'clear halt')) : resolve())));
    },
    listenInterrupt(onData, onError) {
      if (!epInt) return async () => undefined;
      const dataListener = (d: Buffer): void => onData(d);
      const errorListener = (e: unknown): void => onError(pipeError(e, 'interrupt IN'));
      epInt.on('data', dataListener);
      epInt.on('error', errorListener);
      epInt.startPoll(1, Math.max(64, epInt.descriptor.wMaxPacketSize));
      let stopped: Promise<void> | null = null;
      stopInterrupt = () => {
        stopped ??= new Promise<void>((resolve) => {
          const done = (): void => {
            epInt.off('data', dataListener);
            epInt.off('error', errorListener);
            resolve();
          };
          if (!epInt.pollActive) return done();
          try {
            epInt.stopPoll(done);
          } catch {
            done();
          }
        });
        return stopped;
      };
      return stopInterrupt;
    },
    isConnected() {
      return process.platform !== 'linux' || existsSync(node);
    },
    async close() {
      if (closed) return;
      closed = true;
      // on an unplugged device libusb may never call back: do not wait forever
      if (stopInterrupt) await withTimeout(stopInterrupt(), 1000);
      await withTimeout(new Promise<void>((resolve) => {
        try {
          itf.release(true, () => resolve());
        } catch {
          resolve();
        }
      }), 1000);
      try {
        device.close();
      } catch {
        /* gone already */
      }
    },
  };
}
