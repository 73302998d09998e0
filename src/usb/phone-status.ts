/**
 * What state a plugged-in phone is in, in one word and one sentence for the user: the
 * descriptor modes (identify.ts: File transfer, PTP, ADB only, charging only) and what only
 * shows once an MTP session is open (locked: the session opens but lists no storage or answers
 * "access denied"; busy: another program holds the interface; gone).
 *
 *   const { status, transport } = await probePhone(device, identity);
 *   // status: { state: 'locked', guidance: 'Unlock your phone: …' }; transport only when 'ready'
 *   await probePhone(device, identity, { waitUnlockMs: 60_000 });  // holds the session while locked
 */
import type { Device } from 'usb';
import { isAnkibridgeError } from '../errors/ankibridge-error.js';
import { UsbErrors } from '../errors/codes/usb.js';
import { GUIDANCE, type Identification } from './identify.js';
import type { MtpSession } from './mtp/session.js';
import { openPhone, type OpenPhoneOptions } from './open-phone.js';
import type { DeviceTransport } from './transport.js';

export type PhoneState = 'ready' | 'locked' | 'busy' | 'ptp' | 'adb-only' | 'charging-only' | 'not-a-phone' | 'disconnected' | 'error';

export interface PhoneStatus {
  readonly state: PhoneState;
  /** What the user should do; null when 'ready'. */
  readonly guidance: string | null;
  /** The error behind 'locked', 'busy', 'disconnected' and 'error'. */
  readonly errorCode?: string;
}

/** The state from descriptors alone, or null for an MTP phone (its state needs a session). */
export function statusFromIdentity(identity: Identification): PhoneStatus | null {
  switch (identity.mode) {
    case 'mtp':
      return null;
    case 'ptp':
    case 'adb-only':
    case 'charging-only':
    case 'not-a-phone':
      return { state: identity.mode, guidance: identity.guidance };
  }
}

/** The state an error from opening an MTP phone means. */
export function statusFromError(e: unknown): PhoneStatus {
  const code = isAnkibridgeError(e) ? e.code : undefined;
  const hint = isAnkibridgeError(e) ? e.hint : null;
  const withCode = code === undefined ? {} : { errorCode: code };
  switch (code) {
    case UsbErrors.LOCKED.code:
      return { state: 'locked', guidance: GUIDANCE.UNLOCK, ...withCode };
    case UsbErrors.BUSY.code:
      return { state: 'busy', guidance: hint ?? (e as Error).message, ...withCode };
    case UsbErrors.DISCONNECTED.code:
      return { state: 'disconnected', guidance: 'Plug the phone in again.', ...withCode };
    default:
      return { state: 'error', guidance: hint ?? (e as Error)?.message ?? String(e), ...withCode };
  }
}

/**
 * Opens an MTP phone to learn its state. When 'ready', the open transport is handed over
 * (the caller closes it); otherwise nothing is left open.
 */
export async function probePhone(
  device: Device,
  identity: Identification,
  opts: OpenPhoneOptions = {},
): Promise<{ status: PhoneStatus; transport: (DeviceTransport & { readonly session: MtpSession }) | null }> {
  const fromDescriptors = statusFromIdentity(identity);
  if (fromDescriptors) return { status: fromDescriptors, transport: null };
  try {
    const transport = await openPhone(device, identity, opts);
    return { status: { state: 'ready', guidance: null }, transport };
  } catch (e) {
    return { status: statusFromError(e), transport: null };
  }
}
