// Copies between a frontend's granted pages and netback's own buffers. Xen's GNTTABOP_copy
// takes only grants or the caller's RAM frames on each side, and frames on their way through
// dom0's switch live in its JS heap; so netback maps the grant for the copy and unmaps it at
// once, which is what the copy hypercall does inside Xen.
import type { Hypercalls } from '../../../hypervisor/hypercalls.js';

/** Copy `len` bytes at `offset` of the frontend's page `gref` into `dst` at `at`. Throws if the grant does not map. */
export function copyFromGrant(hc: Hypercalls, domid: number, gref: number, offset: number, len: number, dst: Uint8Array, at: number): void {
  const m = hc.grantMap(domid, gref, true);
  try {
    dst.set(m.page.subarray(offset, offset + len), at);
  } finally {
    hc.grantUnmap(m.handle);
  }
}

/** Copy `src` into the frontend's writable page `gref` at `offset`. Throws if the grant does not map writable. */
export function copyToGrant(hc: Hypercalls, domid: number, gref: number, offset: number, src: Uint8Array): void {
  const m = hc.grantMap(domid, gref, false);
  try {
    m.page.set(src, offset);
  } finally {
    hc.grantUnmap(m.handle);
  }
}
