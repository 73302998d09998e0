/**
 * MTP/PTP numbers used by the initiator (from the PTP standard ISO 15740 and the USB MTP 1.1
 * specification; Android's 0x95Cx extensions as listed in libmtp's ptp.h, read for facts).
 */
export const ContainerType = { COMMAND: 1, DATA: 2, RESPONSE: 3, EVENT: 4 } as const;

export const Op = {
  GetDeviceInfo: 0x1001,
  OpenSession: 0x1002,
  CloseSession: 0x1003,
  GetStorageIDs: 0x1004,
  GetStorageInfo: 0x1005,
  GetObjectHandles: 0x1007,
  GetObjectInfo: 0x1008,
  GetObject: 0x1009,
  DeleteObject: 0x100b,
  SendObjectInfo: 0x100c,
  SendObject: 0x100d,
  GetPartialObject: 0x101b,
  SetObjectPropValue: 0x9804,
  GetPartialObject64: 0x95c1,
} as const;

export const Rc = {
  OK: 0x2001,
  GeneralError: 0x2002,
  SessionNotOpen: 0x2003,
  InvalidTransactionID: 0x2004,
  OperationNotSupported: 0x2005,
  ParameterNotSupported: 0x2006,
  IncompleteTransfer: 0x2007,
  InvalidStorageID: 0x2008,
  InvalidObjectHandle: 0x2009,
  StoreFull: 0x200c,
  ObjectWriteProtected: 0x200d,
  StoreReadOnly: 0x200e,
  AccessDenied: 0x200f,
  StoreNotAvailable: 0x2013,
  DeviceBusy: 0x2019,
  InvalidParentObject: 0x201a,
  InvalidParameter: 0x201d,
  SessionAlreadyOpen: 0x201e,
  TransactionCancelled: 0x201f,
} as const;

export const RC_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(Rc).map(([k, v]) => [v, k]),
);

export const OP_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(Op).map(([k, v]) => [v, k]),
);

export const EventCode = {
  CancelTransaction: 0x4001,
  ObjectAdded: 0x4002,
  ObjectRemoved: 0x4003,
  StoreAdded: 0x4004,
  StoreRemoved: 0x4005,
  DevicePropChanged: 0x4006,
  ObjectInfoChanged: 0x4007,
  DeviceInfoChanged: 0x4008,
  StorageInfoChanged: 0x400c,
  ObjectPropChanged: 0xc801,
} as const;

export const Format = { Undefined: 0x3000, Association: 0x3001 } as const;

export const ObjectProp = { ObjectFileName: 0xdc07 } as const;

/** Class-specific control requests of the Still Image class (PTP over USB, section 5.2). */
export const ClassRequest = { CancelRequest: 0x64, GetExtendedEventData: 0x65, DeviceReset: 0x66, GetDeviceStatus: 0x67 } as const;

/** Handle / storage wildcards. */
export const ALL = 0xffffffff;
export const ROOT_PARENT = 0xffffffff;

export function hex(n: number): string {
  return `0x${n.toString(16).padStart(4, '0')}`;
}
