import { registerUsbTransfer } from './usb-transfer.js';
import type { RegisterCommand } from './index.js';

export const registerMerge: RegisterCommand = (program, ctx) => registerUsbTransfer(program, ctx, 'merge', "Merge the phone's and the desktop's changes since the last sync into both, as Anki's sync would.");
