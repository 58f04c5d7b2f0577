export interface CreateOptions {
    readonly type: 'fixed' | 'dynamic';
    /** Virtual size in bytes: whole sectors, at most 2040 GiB; kept exact (no CHS rounding). */
    readonly size: number;
    /** Dynamic images: a power of two, default 2 MiB. */
    readonly blockSize?: number;
    /**
     * Dynamic images: the size the BAT has room for (default `size`), so that growing the image
     * up to it is a footer update (vhd-util create -S; XCP uses the largest size).
     */
    readonly maxSize?: number;
}
/** A new fixed or dynamic image at `path`. */
export declare function createVhd(path: string, opts: CreateOptions): Promise<void>;
/** What a child needs of its parent: read from its footer and header only (never its BAT), so a snapshot costs the same at any size. */
export interface VhdIdentity {
    readonly uuid: Uint8Array;
    readonly bytes: number;
    readonly blockSize: number;
    readonly mtimeMs: number;
}
export declare function vhdIdentity(path: string): Promise<VhdIdentity>;
/**
 * A new differencing image at `path` whose parent is the VHD at `parentPath`: empty, so it reads
 * as its parent. Its size is the parent's unless `size` (larger) is given. O(1): only the
 * parent's footer and header are read.
 */
export declare function createDifferencing(path: string, parentPath: string, opts?: {
    size?: number;
}): Promise<void>;
/**
 * Point a differencing image at another parent (sm's relink after a coalesce): its parent
 * locators' data first, then the header naming the new parent's uuid in one write. The new
 * parent must hold the same data as the old for this image's unallocated sectors.
 */
export declare function relinkVhd(path: string, parentPath: string): Promise<void>;
/**
 * Grow a dynamic or differencing image to `size` bytes within the room its BAT has: the footer
 * (both copies) says the new size. The image must not be in use.
 */
export declare function resizeVhd(path: string, size: number): Promise<void>;
