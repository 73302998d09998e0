/**
 * Guest side, for the unplug tests: a DeviceTransport that reports how far an operation got and
 * can pull the phone at an exact point of it, whatever the speed of the emulated machine.
 * Lines on stdout:  PROGRESS <tag> <bytes moved so far, both ways>   (every `every` bytes)
 *                   STEP <tag> <operation> <path>                      (before each operation)
 *                   CUT <tag>                                          (the cut point is reached)
 * The cut, at `cut.bytes` moved or before the operation `cut.step` ("rename Download/x"):
 *   udc:  the guest unbinds the gadget phone itself (writes to its configfs UDC file);
 *   host: the guest prints CUT and stops (blocking, so no further transfer is submitted) until
 *         the host has pulled the phone over QMP and created `doneFile`.
 */
import { existsSync, writeFileSync } from 'node:fs';
import type { DeviceTransport, Sink, Source, SourceReader } from '../../../src/usb/transport.js';

export interface CutPoint {
  readonly bytes?: number;
  readonly step?: string;
  readonly how: { readonly udc: string } | { readonly doneFile: string };
}

export function withProgress(t: DeviceTransport, tag: string, every: number, cut?: CutPoint): DeviceTransport & { moved(): number } {
  let moved = 0;
  let next = every;
  let cutDone = !cut;
  const doCut = (): void => {
    if (cutDone || !cut) return;
    cutDone = true;
    console.log(`CUT ${tag}`);
    if ('udc' in cut.how) {
      writeFileSync(cut.how.udc, '\n');
      return;
    }
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const deadline = Date.now() + 120_000;
    while (!existsSync(cut.how.doneFile) && Date.now() < deadline) Atomics.wait(pause, 0, 0, 5);
  };
  const count = (n: number): void => {
    moved += n;
    while (moved >= next) {
      console.log(`PROGRESS ${tag} ${moved}`);
      next += every;
    }
    if (cut?.bytes !== undefined && moved >= cut.bytes) doCut();
  };
  const step = (op: string, path: string): void => {
    console.log(`STEP ${tag} ${op} ${path}`);
    if (cut?.step === `${op} ${path}`) doCut();
  };
  const counted = (src: Source): Source => {
    const reader = src.openReader?.bind(src);
    return {
      size: src.size,
      async *open() {
        for await (const c of src.open()) {
          count(c.byteLength);
          yield c;
        }
      },
      ...(reader
        ? {
            async openReader(): Promise<SourceReader> {
              const r = await reader();
              return {
                async readAt(position, into, offset, length) {
                  const n = await r.readAt(position, into, offset, length);
                  count(n);
                  return n;
                },
                close: () => r.close(),
              };
            },
          }
        : {}),
    };
  };
  return {
    kind: t.kind,
    label: t.label,
    canRename: t.canRename,
    moved: () => moved,
    list: (dir) => t.list(dir),
    stat: (path) => t.stat(path),
    read(path, sink: Sink, opts) {
      step('read', path);
      return t.read(path, (c) => {
        count(c.length);
        return sink(c);
      }, opts);
    },
    write(path, source) {
      step('write', path);
      return t.write(path, counted(source));
    },
    remove(path) {
      step('remove', path);
      return t.remove(path);
    },
    rename(path, newName) {
      step('rename', path);
      return t.rename(path, newName);
    },
    mkdir: (path) => t.mkdir(path),
    close: () => t.close(),
  };
}
