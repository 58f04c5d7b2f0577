import type { Disk } from './disk.js';
export declare const RAM_TARGET_PREFIX = "ram:";
/** "64M" -> 67108864 (suffixes K, M, G, T); undefined if malformed. */
export declare function parseSize(s: string): number | undefined;
/** Split params into format and target, as libxl joined them. */
export declare function parseParams(params: string): {
    format: string;
    target: string;
};
/** An image format as backends and storage repositories use it. */
export interface ImageFormat {
    /** The file name extension of its images in an SR (`<uuid>.<extension>`, as XCP's FileSR names them). */
    readonly extension: string;
    open(path: string, opts: {
        readOnly: boolean;
    }): Promise<Disk>;
    /** A new, empty image of `virtualSize` bytes (a multiple of 512); the file must not exist. */
    create(path: string, virtualSize: number): Promise<void>;
    /** The size the guest sees and the bytes the image takes on its file system. */
    info(path: string): Promise<{
        virtualSize: number;
        physicalUtilisation: number;
    }>;
    /** Grow the image to `virtualSize` bytes. */
    resize(path: string, virtualSize: number): Promise<void>;
    /** Formats with differencing images (snapshots, clones, coalescing); absent for raw. */
    readonly layers?: ImageLayers;
}
/** What snapshots and the garbage collector ask of a format with differencing images. */
export interface ImageLayers {
    /** A new, empty child of the image at `parentPath` (named relative to the child), at `path`: O(1) in the parent's size. */
    createChild(path: string, parentPath: string): Promise<void>;
    /** Make the child at `path` name `parentPath` as its parent, which holds the same data for it (sm's relink). */
    relink(path: string, parentPath: string): Promise<void>;
    /**
     * Open the new leaf at `path` whose parent is the file of `below`, a writable disk of this
     * format that a running guest used until now: `below` becomes part of the new disk (shared
     * open files, nothing read again), so it must not be closed by the caller.
     */
    openOver(path: string, below: Disk): Promise<Disk>;
}
/** The format of that name; EOPNOTSUPP naming the ones there are. */
export declare function imageFormat(name: string): ImageFormat;
/** The format whose images have that extension, if any. */
export declare function formatOfExtension(extension: string): string | undefined;
export declare function openDisk(params: string, opts: {
    readOnly: boolean;
}): Promise<Disk>;
