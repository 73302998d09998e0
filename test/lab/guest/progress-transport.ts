/**
 * Guest side, for the unplug tests: a DeviceTransport that reports how far an operation got, so
 * the host can pull the phone at a chosen point whatever the speed of the emulated machine.
 * Lines on stdout:  PROGRESS <tag> <bytes moved so far, both ways>   (every `every` bytes)
 *                   STEP <tag> <operation> <path>                      (before each operation)
 */
import type { DeviceTransport, Sink, Source, SourceReader } from '../../../src/usb/transport.js';

export function withProgress(t: DeviceTransport, tag: string, every: number): DeviceTransport & { moved(): number } {
  let moved = 0;
  let next = every;
  const count = (n: number): void => {
    moved += n;
    while (moved >= next) {
      console.log(`PROGRESS ${tag} ${moved}`);
      next += every;
    }
  };
  const step = (op: string, path: string): void => console.log(`STEP ${tag} ${op} ${path}`);
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
