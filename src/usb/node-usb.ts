/**
 * Loads node-usb (`usb` v2, for its legacy attach/detach API; v3's connect listener kills the
 * process where there is no USB bus) and tells whether this machine has USB at all. Never throws:
 * a machine without a USB bus (CI, containers) gets { ok: false, reason }.
 */
import { existsSync } from 'node:fs';
import type * as UsbModule from 'usb';

export type UsbLib = typeof UsbModule;

export type UsbAccess = { readonly ok: true; readonly lib: UsbLib } | { readonly ok: false; readonly reason: string };

let cached: Promise<UsbAccess> | undefined;

export function loadUsb(opts: { sysfsRoot?: string } = {}): Promise<UsbAccess> {
  if (opts.sysfsRoot === undefined && cached) return cached;
  const p = (async (): Promise<UsbAccess> => {
    const sysfs = opts.sysfsRoot ?? '/sys';
    if (process.platform === 'linux' && !existsSync(`${sysfs}/bus/usb`)) {
      return { ok: false, reason: `no USB bus: ${sysfs}/bus/usb does not exist` };
    }
    let lib: UsbLib;
    try {
      const mod = (await import('usb')) as unknown as { default?: UsbLib } & UsbLib;
      lib = mod.default ?? mod;
    } catch (e) {
      return { ok: false, reason: `the USB library could not be loaded: ${(e as Error).message}` };
    }
    const initError = (lib.usb as unknown as { INIT_ERROR?: number }).INIT_ERROR;
    if (initError) return { ok: false, reason: `libusb could not start (error ${initError})` };
    return { ok: true, lib };
  })();
  if (opts.sysfsRoot === undefined) cached = p;
  return p;
}
