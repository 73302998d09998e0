/** From a phone the watcher reported to an open MTP transport. */
import type { Device } from 'usb';
import { makeError } from '../errors/define.js';
import { UsbErrors } from '../errors/codes/usb.js';
import type { Identification } from './identify.js';
import { MtpSession, type SessionOptions } from './mtp/session.js';
import { openUsbPipe } from './mtp/usb-pipe.js';
import { openMtpTransport } from './mtp-transport.js';
import type { DeviceTransport } from './transport.js';

export async function openPhone(
  device: Device,
  identity: Identification,
  opts: SessionOptions = {},
): Promise<DeviceTransport & { readonly session: MtpSession }> {
  if (!identity.mtpInterface) {
    throw makeError(UsbErrors.NOT_FILE_TRANSFER, { device: identity.label, mode: identity.mode });
  }
  const pipe = openUsbPipe(device, { label: identity.label, mtpInterface: identity.mtpInterface });
  const session = await MtpSession.open(pipe, opts);
  try {
    return await openMtpTransport(session);
  } catch (e) {
    await session.close();
    throw e;
  }
}
