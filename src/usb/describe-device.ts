/**
 * Reads a node-usb device's descriptors into plain data (UsbDeviceInfo). String descriptors need
 * the device opened; when that is refused (permissions, another driver) the strings stay null and
 * identification falls back to class codes.
 */
import type { Device } from 'usb';
import type { EndpointInfo, EndpointKind, InterfaceInfo, UsbDeviceInfo } from './identify.js';

const KINDS: readonly EndpointKind[] = ['control', 'isochronous', 'bulk', 'interrupt'];

function readString(dev: Device, index: number): Promise<string | null> {
  if (!index) return Promise.resolve(null);
  return new Promise((resolve) => {
    try {
      dev.getStringDescriptor(index, (err, value) => resolve(err ? null : (value ?? null)));
    } catch {
      resolve(null);
    }
  });
}

export function portPath(dev: Device): string {
  let ports: number[] = [];
  try {
    ports = dev.portNumbers ?? [];
  } catch {
    /* not available on every platform */
  }
  return `${dev.busNumber}-${ports.join('.') || dev.deviceAddress}`;
}

export async function describeDevice(dev: Device): Promise<UsbDeviceInfo> {
  const d = dev.deviceDescriptor;
  let config: Device['configDescriptor'] | undefined;
  try {
    config = dev.configDescriptor;
  } catch {
    config = undefined;
  }
  let opened = false;
  try {
    dev.open();
    opened = true;
  } catch {
    opened = false;
  }
  try {
    const interfaces: InterfaceInfo[] = [];
    for (const alts of config?.interfaces ?? []) {
      for (const a of alts) {
        const endpoints: EndpointInfo[] = a.endpoints.map((e) => ({
          address: e.bEndpointAddress,
          direction: e.bEndpointAddress & 0x80 ? 'in' : 'out',
          kind: KINDS[e.bmAttributes & 0x03] as EndpointKind,
          maxPacketSize: e.wMaxPacketSize,
        }));
        interfaces.push({
          number: a.bInterfaceNumber, alternate: a.bAlternateSetting, class: a.bInterfaceClass,
          subclass: a.bInterfaceSubClass, protocol: a.bInterfaceProtocol,
          name: opened ? await readString(dev, a.iInterface) : null, endpoints,
        });
      }
    }
    return {
      busNumber: dev.busNumber, address: dev.deviceAddress, portPath: portPath(dev),
      vendorId: d.idVendor, productId: d.idProduct, deviceClass: d.bDeviceClass,
      manufacturer: opened ? await readString(dev, d.iManufacturer) : null,
      product: opened ? await readString(dev, d.iProduct) : null,
      serial: opened ? await readString(dev, d.iSerialNumber) : null,
      interfaces,
    };
  } finally {
    if (opened) {
      try {
        dev.close();
      } catch {
        /* already gone */
      }
    }
  }
}
