// The same page-cache state for the files a bench compares: each synced, dropped from the page
// cache (posix_fadvise DONTNEED through GNU dd's `iflag=nocache count=0`: only these files, not
// the machine's whole cache, which other work shares), then read once from start to end. How a
// file was written shapes how the kernel caches it: on the vhd bench's own files a 4 KiB pread
// of the VHD file as written cost 1-7% more CPU than one of the raw file (median of 200 turns,
// 4 runs), and the same (0.99-1.01) once both were dropped and read again (docs/PERFORMANCE.md,
// issue 14). Files compared straight after they were written differ in more than their format.
import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function sameCacheState(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    // Dirty pages cannot be dropped: written back first.
    const fh = await open(path, 'r+');
    try {
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await run('dd', [`if=${path}`, 'iflag=nocache', 'count=0', 'status=none']);
  }
  const buf = new Uint8Array(2 ** 20);
  for (const path of paths) {
    const fh = await open(path, 'r');
    try {
      while ((await fh.read(buf, 0, buf.byteLength)).bytesRead > 0);
    } finally {
      await fh.close();
    }
  }
}
