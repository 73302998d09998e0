/**
 * openPackage: the one entry point for reading anything a user or a phone hands us — a zip
 * package of any version, or a bare collection file. Everything is unpacked into a private temp
 * folder, which is removed on failure or on dispose.
 */
import { stat } from 'node:fs/promises';
import { makeError } from '../../errors/define.js';
import { GeneralErrors } from '../../errors/codes/general.js';
import { PackageErrors } from '../../errors/codes/package.js';
import { openBareCollection } from './bare-collection.js';
import { resolveLimits } from './limits.js';
import { makePrivateDir } from './private-dir.js';
import type { OpenedPackage, OpenPackageOptions } from './types.js';
import { openZipPackage } from './zip-package.js';
import { readMagic } from './zip-reader.js';
import { asIoError } from './io-error.js';

export async function openPackage(file: string, opts: OpenPackageOptions = {}): Promise<OpenedPackage> {
  const limits = resolveLimits(opts.limits);
  const st = await stat(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') throw makeError(GeneralErrors.FILE_NOT_FOUND, { path: file }, e);
    throw makeError(GeneralErrors.IO, { operation: 'read', path: file, reason: e.message }, e);
  });
  if (!st.isFile()) throw makeError(PackageErrors.NOT_A_PACKAGE, { path: file });
  const magic = await readMagic(file).catch((e: unknown) => {
    throw asIoError(e, file, 'read');
  });
  const kind = magic.toString('latin1', 0, 16) === 'SQLite format 3\0' ? 'sqlite' : magic.toString('latin1', 0, 2) === 'PK' ? 'zip' : 'other';
  if (kind === 'other') throw makeError(PackageErrors.NOT_A_PACKAGE, { path: file });
  const dir = await makePrivateDir(opts.tmpDir).catch((e: unknown) => {
    throw asIoError(e, opts.tmpDir ?? 'the temporary folder', 'create a folder in');
  });
  try {
    if (kind === 'zip') return await openZipPackage(file, dir, limits, opts.media);
    const bare = await openBareCollection(file, dir);
    if (!opts.media) return bare;
    try {
      const extracted = await bare.extractMedia(opts.media.to, opts.media);
      return { ...bare, extracted };
    } catch (e) {
      await bare.dispose();
      throw e;
    }
  } catch (e) {
    await dir.remove();
    throw asIoError(e, file, 'unpack');
  }
}
