/**
 * A locked Android phone opens an MTP session but lists no storage (or answers AccessDenied)
 * until the user unlocks it; then it adds the storage and sends a StoreAdded event. Not every
 * phone sends the event, so the storage list is also re-read every `pollMs`.
 */
import { isAnkibridgeError } from '../errors/ankibridge-error.js';
import { UsbErrors } from '../errors/codes/usb.js';
import { EventCode } from './mtp/codes.js';
import type { MtpSession } from './mtp/session.js';

/** Storage ids, or [] while the phone refuses (locked). Other errors pass. */
export async function visibleStorages(session: MtpSession): Promise<number[]> {
  try {
    return await session.storageIds();
  } catch (e) {
    if (isAnkibridgeError(e) && e.code === UsbErrors.LOCKED.code) return [];
    throw e;
  }
}

/** Waits until the phone lists a storage; false when `ms` pass first or `signal` aborts. */
export async function waitForStorage(session: MtpSession, ms: number, pollMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + ms;
  let wake: (() => void) | null = null;
  const off = session.onEvent((e) => {
    if (e.code === EventCode.StoreAdded) wake?.();
  });
  const onAbort = (): void => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    for (;;) {
      if (signal?.aborted) return false;
      if ((await visibleStorages(session)).length > 0) return true;
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(pollMs, left));
        function done(): void {
          clearTimeout(timer);
          wake = null;
          resolve();
        }
        wake = done;
      });
    }
  } finally {
    off();
    signal?.removeEventListener('abort', onAbort);
  }
}
