import type { DomainView } from './memory.js';
export declare class Maptrack {
    readonly buffer: SharedArrayBuffer;
    readonly words: Int32Array;
    readonly capacity: number;
    constructor(buffer: SharedArrayBuffer);
    get used(): number;
    get full(): boolean;
    /** Callers check `full` first (before pinning anything). */
    alloc(ref: number, flags: number, domid: number): number;
    /** [ref, flags, domid] of a live handle, or null for a free or out-of-range one. */
    get(handle: number): [number, number, number] | null;
    free(handle: number): void;
    /** Live handles, for releasing a dead domain's mappings. */
    live(): Generator<[number, number, number, number]>;
}
/**
 * Clear an entry unless the peer has it mapped (GTF_reading/GTF_writing), with Linux's
 * compare-and-swap loop (gnttab_end_foreign_access_ref). False while it is still in use.
 */
export declare function revokeGrantEntry(g: DomainView, ref: number): boolean;
/**
 * Write a v1 entry the way a granting guest must: frame and domid first, then the flags that
 * make it valid. Used by a domain for itself and by the builder to seed the reserved entries.
 */
export declare function writeGrantEntry(g: DomainView, ref: number, domid: number, pfn: number, readonly: boolean): void;
export declare function nrGrantEntries(g: DomainView): number;
/**
 * Pin a grant for `mapper` (map or the duration of a copy). Returns the frame. The caller
 * must release with unpin(). Xen's order: validate the entry on the first pin and on the first
 * write pin; afterwards the active entry is the truth.
 */
export declare function pin(g: DomainView, ref: number, mapper: number, readonly: boolean): number;
export declare function unpin(g: DomainView, ref: number, readonly: boolean, mapper: number): void;
/** Release a grant lock that a vCPU which died inside a hypercall left held. */
export declare function breakGrantLock(g: DomainView, deadDomid: number): void;
export interface GrantMapping {
    readonly handle: number;
    /** A view of exactly the granted frame: the only way driver code reaches a peer's memory. */
    readonly page: Uint8Array;
}
/** GNTTABOP_map_grant_ref (host map). */
export declare function mapGrant(mt: Maptrack, mapper: number, g: DomainView, ref: number, readonly: boolean): GrantMapping;
/** GNTTABOP_unmap_grant_ref. `lookup` finds the granting domain even while it is dying. */
export declare function unmapGrant(mt: Maptrack, mapper: number, handle: number, lookup: (domid: number) => DomainView | undefined): void;
/** One side of a GNTTABOP_copy: a grant of `domid`, or a frame of the caller's own RAM. */
export type CopySide = {
    readonly domid: number;
    readonly ref: number;
    readonly offset: number;
} | {
    readonly pfn: number;
    readonly offset: number;
};
export interface CopyOp {
    readonly source: CopySide;
    readonly dest: CopySide;
    readonly len: number;
}
/**
 * GNTTABOP_copy, one op. Both grants are pinned for the copy only. Returns GNTST_okay or
 * throws GrantError; a batch caller records each op's status as Xen does.
 */
export declare function copyGrant(self: DomainView, op: CopyOp, lookup: (domid: number) => DomainView | undefined): void;
/**
 * A batch of GNTTABOP_copy ops between grants of one domain and memory private to the caller
 * (a backend's own buffer: what Xen's copy reaches as the caller's own frames). The ops live
 * in typed arrays that the caller keeps and refills, so a batch allocates nothing per op; one
 * direction for the whole batch, as netback's rx (to the guest) and tx (from it) each are.
 */
export declare class GrantCopyBatch {
    readonly capacity: number;
    readonly ref: Uint32Array;
    readonly offset: Uint16Array;
    readonly len: Uint16Array;
    /** Where each op's bytes sit in `local`. */
    readonly at: Uint32Array;
    /** GNTST_* of each op after grantCopyLocal. */
    readonly status: Int8Array;
    count: number;
    /** True: local -> grants (the grants must be writable). False: grants -> local. */
    toGrant: boolean;
    local: Uint8Array;
    constructor(capacity: number);
    /** Empty the batch for ops in direction `toGrant` against `local`. */
    reset(local: Uint8Array, toGrant: boolean): void;
    /** One op: `len` bytes at `offset` of grant `ref`, at `at` of `local`. Checked when run. */
    add(ref: number, offset: number, len: number, at: number): void;
    /** Every op failed with `status`. */
    fail(status: number): number;
}
/**
 * Run `b` against the grants of `g` for `mapper`: GNTTABOP_copy with Xen's batch economies.
 * The grant lock is taken once for the batch and one foreign pin held for it, so that the
 * domain is not reaped under the copy; each op's ref is pinned and validated as pin() does
 * (a grant used by consecutive ops stays pinned between them, as Xen's gnttab_copy_buf keeps
 * its grant), and unpinned before the lock is let go. Returns how many ops failed; each op's
 * GNTST_* is in b.status. Copies are at most a page each, so the lock is held briefly.
 */
export declare function copyLocal(g: DomainView, mapper: number, b: GrantCopyBatch): number;
