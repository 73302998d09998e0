#!/usr/bin/env python3
"""Guest side: a FunctionFS function that only shows descriptors (it moves no data).

The gadget phone (gadget-phone.sh) uses it for the interfaces that umtprd does not serve:
  adb   - the ADB interface of "MTP + ADB" and "ADB only" (class 0xff/0x42/0x01, bulk IN + OUT,
          named "ADB Interface", as adbd's FunctionFS descriptors are). It does not speak ADB.
  none  - "charging only": one vendor interface (0xff/0xff/0x00) without any endpoint, so the
          phone enumerates with its ids but offers no data interface (a configfs gadget needs at
          least one function per configuration).

  ffs-stub.py MOUNTPOINT adb|none

It writes the descriptors and strings to MOUNTPOINT/ep0, prints "ffs-stub ready", then keeps ep0
open (closing it would unbind the gadget) and answers control requests to the interface with a
stall until it is killed.
"""
import os
import struct
import sys

DESCRIPTORS_MAGIC_V2 = 3
STRINGS_MAGIC = 2
HAS_FS_DESC, HAS_HS_DESC, HAS_SS_DESC = 1, 2, 4
EVENT_SETUP = 4
EVENT_SIZE = 12  # struct usb_functionfs_event: 8 bytes of setup request, u8 type, 3 bytes pad


def interface(n_endpoints, cls, sub, proto):
    # bLength, bDescriptorType (INTERFACE), bInterfaceNumber, bAlternateSetting, bNumEndpoints,
    # class, subclass, protocol, iInterface (string 1 of this function)
    return struct.pack('<BBBBBBBBB', 9, 4, 0, 0, n_endpoints, cls, sub, proto, 1)


def bulk(address, max_packet):
    return struct.pack('<BBBBHB', 7, 5, address, 2, max_packet, 0)


def ss_companion():
    return struct.pack('<BBBBH', 6, 0x30, 0, 0, 0)


def main():
    mount, kind = sys.argv[1], sys.argv[2]
    if kind == 'adb':
        name = 'ADB Interface'
        fs = [interface(2, 0xff, 0x42, 0x01), bulk(0x01, 64), bulk(0x82, 64)]
        hs = [interface(2, 0xff, 0x42, 0x01), bulk(0x01, 512), bulk(0x82, 512)]
        ss = [interface(2, 0xff, 0x42, 0x01), bulk(0x01, 1024), ss_companion(), bulk(0x82, 1024), ss_companion()]
    elif kind == 'none':
        name = 'Charging'
        fs = hs = ss = [interface(0, 0xff, 0xff, 0x00)]
    else:
        raise SystemExit(f'unknown kind {kind}')
    body = b''.join(fs) + b''.join(hs) + b''.join(ss)
    counts = struct.pack('<III', len(fs), len(hs), len(ss))
    header_len = 12 + len(counts)
    descs = struct.pack('<III', DESCRIPTORS_MAGIC_V2, header_len + len(body), HAS_FS_DESC | HAS_HS_DESC | HAS_SS_DESC) + counts + body
    text = name.encode() + b'\0'
    strings = struct.pack('<IIII', STRINGS_MAGIC, 16 + 2 + len(text), 1, 1) + struct.pack('<H', 0x0409) + text

    fd = os.open(os.path.join(mount, 'ep0'), os.O_RDWR)
    os.write(fd, descs)
    os.write(fd, strings)
    print('ffs-stub ready', flush=True)
    while True:
        ev = os.read(fd, EVENT_SIZE * 4)
        for i in range(0, len(ev) - EVENT_SIZE + 1, EVENT_SIZE):
            if ev[i + 8] != EVENT_SETUP:
                continue
            request_type = ev[i]
            try:
                # a wrong-direction transfer on ep0 makes FunctionFS stall the request
                if request_type & 0x80:
                    os.read(fd, 0)
                else:
                    os.write(fd, b'')
            except OSError:
                pass


if __name__ == '__main__':
    main()
