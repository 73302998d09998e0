/** From a phone the watcher reported to an open MTP transport. */
import type { Device } from 'usb';
import { makeError } from '../errors/define.js';
import { UsbErrors } from '../errors/codes/usb.js';
import type { Identification } from './identify.js';
import { MtpSession, type SessionOptions } from './mtp/session.js';
import { openUsbPipe } from './mtp/usb-pipe.js';
import { openMtpTransport } from './mtp-transport.js';
import { visibleStorages, waitForStorage } from './wait-unlock.js';
import type { DeviceTransport } from './transport.js';

export interface OpenPhoneOptions extends SessionOptions {
  /**
   * A locked phone opens an MTP session but lists no storage (or answers AccessDenied) until
   * the user unlocks it. With this set, the session is kept open that long, waiting for the
   * storage to appear (the StoreAdded event Android sends on unlock, or a re-check every
   * `unlockPollMs`). 0 (default): LOCKED at once.
   */
  readonly waitUnlockMs?: number;
  readonly unlockPollMs?: number;
  /** Called once when the phone is found locked and the wait begins. */
  readonly onLocked?: () => void;
  /** Ends the wait for an unlock early (the phone is then reported LOCKED and the session closed). */
  readonly signal?: AbortSignal;
}

export async function openPhone(
  device: Device,
  identity: Identification,
  opts: OpenPhoneOptions = {},
): Promise<DeviceTransport & { readonly session: MtpSession }> {
  if (!identity.mtpInterface) {
    throw makeError(UsbErrors.NOT_FILE_TRANSFER, { device: identity.label, mode: identity.mode });
  }
  const pipe = openUsbPipe(device, { label: identity.label, mtpInterface: identity.mtpInterface });
  const session = await MtpSession.open(pipe, opts);
  try {
    const waitMs = opts.waitUnlockMs ?? 0;
    if (waitMs > 0 && (await visibleStorages(session)).length === 0) {
      opts.onLocked?.();
      await waitForStorage(session, waitMs, opts.unlockPollMs ?? 2000, opts.signal);
    }
    return await openMtpTransport(session);
  } catch (e) {
    await session.close();
    throw e;
  }
}
