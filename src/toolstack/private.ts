// Directories whose files the host runs as its user (kernel images, XenAPI's kernel directories)
// must be ones no one else can put files in.
import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Why `st` (an lstat) is refused as such a directory (or, with kind 'file', as a file the host
 * runs); undefined if it is one, this user's, and writable by no one else.
 */
export function notPrivate(st: Stats, kind: 'directory' | 'file' = 'directory'): string | undefined {
  return st.isSymbolicLink() ? 'is a symbolic link'
    : !(kind === 'file' ? st.isFile() : st.isDirectory()) ? `is not a ${kind === 'file' ? 'regular file' : 'directory'}`
      : st.uid !== process.geteuid?.() ? `is owned by another user (uid ${st.uid})`
        : st.mode & 0o022 ? `is writable by other users (mode ${(st.mode & 0o7777).toString(8)})` : undefined;
}

/**
 * The first directory above `real` (a path without links) that could let someone else swap
 * `real` for their own, and why; undefined if none. Each must be root's or this user's, and
 * writable by no one else unless sticky (as /tmp: there others cannot rename what is ours).
 */
export async function unsafeAncestor(real: string): Promise<{ dir: string; why: string } | undefined> {
  for (let d = dirname(real), prev = real; d !== prev; prev = d, d = dirname(d)) {
    const st = await lstat(d);
    if (st.uid !== 0 && st.uid !== process.geteuid?.()) return { dir: d, why: `is owned by another user (uid ${st.uid})` };
    if (st.mode & 0o022 && !(st.mode & 0o1000)) return { dir: d, why: `is writable by other users and not sticky (mode ${(st.mode & 0o7777).toString(8)})` };
  }
  return undefined;
}
