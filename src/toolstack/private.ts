// Directories whose files the host runs as its user (kernel images, XenAPI's kernel directories)
// must be ones no one else can put files in.
import type { Stats } from 'node:fs';

/** Why `st` (an lstat) is refused as such a directory; undefined if it is a directory, this user's, and writable by no one else. */
export function notPrivate(st: Stats): string | undefined {
  return st.isSymbolicLink() ? 'is a symbolic link'
    : !st.isDirectory() ? 'is not a directory'
      : st.uid !== process.geteuid?.() ? `is owned by another user (uid ${st.uid})`
        : st.mode & 0o022 ? `is writable by other users (mode ${(st.mode & 0o7777).toString(8)})` : undefined;
}
