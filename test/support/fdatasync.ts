// node:fs's own fdatasync wrapped while a test body runs (its named ESM exports synced, so that
// modules importing it call the wrapper): what a test learns of the syncs the code under test makes.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

/** Run `fn`; `synced(fd)` is called as each fdatasync it makes succeeds, before its caller hears so. */
export async function onFdatasync(synced: (fd: number) => void, fn: () => Promise<void>): Promise<void> {
  const real = fs.fdatasync;
  fs.fdatasync = ((fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
    real(fd, (e) => {
      if (!e) synced(fd);
      cb(e);
    });
  }) as typeof fs.fdatasync;
  syncBuiltinESMExports();
  try {
    await fn();
  } finally {
    fs.fdatasync = real;
    syncBuiltinESMExports();
  }
}
