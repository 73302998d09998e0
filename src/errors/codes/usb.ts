import { defineErrors } from '../define.js';

/** Errors of the USB room: seeing phones, talking MTP to them, moving files on them. */
export const UsbErrors = defineErrors('USB', {
  NO_USB_ACCESS: {
    message: 'ankibridge cannot see any USB devices on this computer ({reason}).',
    hint: 'Phones cannot be found over USB here. If this is a container or a virtual machine, pass the USB bus through; otherwise check that ankibridge may read /dev/bus/usb. Syncing with a server still works.',
    http: 503,
    exit: 69,
  },
  NOT_FILE_TRANSFER: {
    message: 'The phone {device} is connected as "{mode}", so its files cannot be reached.',
    hint: 'On the phone, open the "USB" notification and choose "File transfer" (MTP). Then ankibridge will see its files.',
    http: 409,
    exit: 69,
  },
  LOCKED: {
    message: 'The phone {device} does not let the computer see its files yet ({reason}).',
    hint: 'Unlock your phone and, if it asks, allow access to phone data. Then plug it in again if it is not picked up by itself.',
    http: 423,
    exit: 77,
  },
  BUSY: {
    message: 'Another program ({holder}) is already talking to the phone {device}.',
    hint: 'Only one program can use a phone over MTP at a time. {alternative}',
    http: 409,
    exit: 75,
  },
  DISCONNECTED: {
    message: 'The phone {device} was disconnected during {operation}.',
    hint: 'Plug the phone in again. No half-written file was left under its final name; the transfer can simply be started again.',
    http: 409,
    exit: 75,
  },
  TIMEOUT: {
    message: 'The phone {device} did not answer {operation} within {seconds} seconds.',
    hint: 'Unlock the phone and keep its screen on, then try again. If it keeps happening, unplug it and plug it in again.',
    http: 504,
    exit: 75,
  },
  PROTOCOL: {
    message: 'The phone {device} answered {operation} with an error ({response}).',
    hint: 'Try again. If it repeats, unplug the phone, plug it in again and choose "File transfer".',
    http: 502,
    exit: 74,
  },
  NOT_FOUND: {
    message: '{path} does not exist on {device}.',
    hint: 'Check that AnkiDroid is installed and has saved its collection, or name the folder yourself.',
    http: 404,
    exit: 66,
  },
  READ_ONLY: {
    message: 'The storage of {device} is read-only, so {path} cannot be written.',
    hint: 'Unlock the phone and allow access to its data; if the storage is an SD card, check that it is not write-protected.',
    http: 403,
    exit: 77,
  },
  STORAGE_FULL: {
    message: 'The phone {device} has no room for {path} ({bytes} bytes).',
    hint: 'Free some space on the phone and try again. Nothing was replaced.',
    http: 507,
    exit: 74,
  },
  VERIFY_FAILED: {
    message: 'The copy of {path} on {device} did not match what was sent ({reason}).',
    hint: 'The old file was not replaced. Try again; if it repeats, the phone storage may be failing.',
    http: 502,
    exit: 74,
  },
  BAD_PATH: {
    message: 'The phone path {path} is not allowed ({reason}).',
    hint: 'Use a path inside the phone storage made of plain folder and file names, without "..".',
    http: 400,
    exit: 65,
  },
});
