/**
 * Builds the lab's initramfs: busybox-static, the virtio/9p/overlay modules of the host's
 * Debian kernel (with their dependencies, as modprobe resolves them) and our /init. Everything
 * else the guest needs (xhci, usbcore, node, libmtp) it reads from the host's root over 9p.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const BOOT_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];

export interface KernelImage {
  readonly path: string;
  readonly version: string;
}

export function findKernel(): KernelImage {
  const images = existsSync('/boot') ? readdirSync('/boot').filter((f) => f.startsWith('vmlinuz-')) : [];
  images.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const newest = images.at(-1);
  if (!newest) {
    throw new Error('USB lab: no /boot/vmlinuz-* on this machine. Install the packages in .ci/apt-packages.txt (linux-image-amd64).');
  }
  return { path: join('/boot', newest), version: newest.slice('vmlinuz-'.length) };
}

/** Returns the path of an initrd for `kernel`, building it once per (kernel, init script). */
export function buildInitrd(workRoot: string, kernel: KernelImage, initScript: string): string {
  const initText = readFileSync(initScript);
  const key = createHash('sha256').update(kernel.version).update(initText).digest('hex').slice(0, 12);
  const out = join(workRoot, `initrd-${kernel.version}-${key}.img`);
  if (existsSync(out)) return out;
  mkdirSync(workRoot, { recursive: true });
  const tmp = mkdtempSync(join(workRoot, 'initrd-'));
  try {
    for (const d of ['bin', 'modules', 'proc', 'sys', 'dev']) mkdirSync(join(tmp, d));
    const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
    if (!busybox) throw new Error('USB lab: busybox is missing (apt-get install busybox-static).');
    copyFileSync(busybox, join(tmp, 'bin/busybox'));
    const order: string[] = [];
    for (const m of BOOT_MODULES) {
      const deps = execFileSync('modprobe', ['-S', kernel.version, '--show-depends', m], { encoding: 'utf8' });
      for (const line of deps.split('\n')) {
        const [verb, file] = line.trim().split(/\s+/);
        if (verb !== 'insmod' || !file || order.includes(basename(file))) continue;
        copyFileSync(file, join(tmp, 'modules', basename(file)));
        order.push(basename(file));
      }
    }
    writeFileSync(join(tmp, 'modules.order'), order.join('\n') + '\n');
    copyFileSync(initScript, join(tmp, 'init'));
    execFileSync('chmod', ['0755', join(tmp, 'init'), join(tmp, 'bin/busybox')]);
    const partial = `${out}.${process.pid}.tmp`;
    execFileSync('sh', ['-c', `cd "${tmp}" && find . | cpio -o -H newc --quiet | gzip -1 > "${partial}"`]);
    renameSync(partial, out);
    return out;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
