import { registerUsbTransfer } from './usb-transfer.js';
import type { RegisterCommand } from './index.js';

export const registerPull: RegisterCommand = (program, ctx) => registerUsbTransfer(program, ctx, 'pull', "Copy the connected phone's collection to the desktop (guarded; the desktop is backed up first).");
