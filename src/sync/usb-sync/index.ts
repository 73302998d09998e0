export { usbSyncPlugin, UsbDecisionSource } from './daemon-plugin.js';
export { inspect, readSides, usbSyncDeps, type Connection, type UsbSyncDeps } from './service.js';
export { pull, push, merge, importTaps, pushedName, USB_PULL, USB_PUSH, USB_MERGE, type TxnOptions, type TxnResult } from './transactions.js';
export { recoverUsbSync } from './recovery.js';
export { USB_SYNC_MIGRATIONS, ensureUsbSyncSchema } from './schema.js';
export type { PhoneIdentity, PairRecord, HistoryEntry } from './pair-store.js';
export type { DecisionView } from './decision.js';
