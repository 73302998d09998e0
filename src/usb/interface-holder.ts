/**
 * Who holds a USB device we could not claim? On Linux a file manager's MTP backend (gvfs's
 * gvfsd-mtp, KDE's kio_mtp / kiod) usually grabs a phone the moment it is plugged in. We look for
 * the process that has the device node /dev/bus/usb/BBB/DDD open and, for gvfs, for its mount.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface Holder {
  readonly pid: number;
  readonly command: string;
  /** 'gvfs' | 'kio' | 'other' */
  readonly family: 'gvfs' | 'kio' | 'other';
}

export function deviceNodePath(busNumber: number, deviceAddress: number): string {
  return `/dev/bus/usb/${String(busNumber).padStart(3, '0')}/${String(deviceAddress).padStart(3, '0')}`;
}

export function classifyHolder(command: string): Holder['family'] {
  if (/gvfs/i.test(command)) return 'gvfs';
  if (/kio|kiod/i.test(command)) return 'kio';
  return 'other';
}

/** Processes (other than us) that have `node` open. Unreadable /proc entries are skipped. */
export function findDeviceHolders(node: string, procRoot = '/proc'): Holder[] {
  const out: Holder[] = [];
  let pids: string[];
  try {
    pids = readdirSync(procRoot).filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid);
  } catch {
    return out;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(join(procRoot, pid, 'fd'));
    } catch {
      continue;
    }
    const holds = fds.some((fd) => {
      try {
        return readlinkSync(join(procRoot, pid, 'fd', fd)) === node;
      } catch {
        return false;
      }
    });
    if (!holds) continue;
    let command = '?';
    try {
      command = readFileSync(join(procRoot, pid, 'comm'), 'utf8').trim();
    } catch {
      /* raced with exit */
    }
    out.push({ pid: Number(pid), command, family: classifyHolder(command) });
  }
  return out;
}

/** gvfs MTP mounts of the current user ("/run/user/1000/gvfs/mtp:host=..."). */
export function findGvfsMtpMounts(runUser = `/run/user/${process.getuid?.() ?? 0}`): string[] {
  try {
    return readdirSync(join(runUser, 'gvfs'))
      .filter((e) => e.startsWith('mtp:'))
      .map((e) => join(runUser, 'gvfs', e));
  } catch {
    return [];
  }
}

/** The sentence for the BUSY error's hint. */
export function busyAlternative(holders: readonly Holder[], gvfsMounts: readonly string[]): string {
  const family = holders[0]?.family;
  if (family === 'gvfs') {
    return gvfsMounts.length > 0
      ? `Your file manager (gvfs) has the phone open: ankibridge can use its mount ${gvfsMounts[0]} instead (choose "use the mounted folder"), or unmount the phone in the file manager.`
      : 'Your file manager (gvfs) has the phone open: unmount the phone in the file manager, or let ankibridge use the gvfs mount under /run/user/<uid>/gvfs/.';
  }
  if (family === 'kio') return 'KDE (KIO) has the phone open: close the phone in Dolphin, or stop kiod, then plug the phone in again.';
  if (holders[0]) return `Close ${holders[0].command} (process ${holders[0].pid}) and plug the phone in again.`;
  return 'Close any program that shows the phone files (file manager, photo importer) and plug the phone in again.';
}
