import { registerUsbTransfer } from './usb-transfer.js';
import type { RegisterCommand } from './index.js';

export const registerPush: RegisterCommand = (program, ctx) => registerUsbTransfer(program, ctx, 'push', "Copy the desktop collection to the connected phone as a package to import there (guarded).");
