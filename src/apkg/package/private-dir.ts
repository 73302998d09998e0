/**
 * A private working folder (mode 0700) for one package operation; removed again on dispose or
 * on failure, so a refused package leaves nothing behind.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface PrivateDir extends AsyncDisposable {
  readonly path: string;
  remove(): Promise<void>;
}

export async function makePrivateDir(parent: string = tmpdir(), prefix = 'ankibridge-pkg-'): Promise<PrivateDir> {
  const dir = await mkdtemp(path.join(parent, prefix));
  let removed = false;
  const remove = async (): Promise<void> => {
    if (removed) return;
    removed = true;
    await rm(dir, { recursive: true, force: true });
  };
  return { path: dir, remove, [Symbol.asyncDispose]: remove };
}
