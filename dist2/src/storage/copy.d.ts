import { type Disk } from './disk.js';
/** Bytes read per step of a copy. */
export declare const COPY_CHUNK_BYTES: number;
/** The format of an image file from its own marks: a VHD footer cookie (at the end, or its copy at the start), qcow2's magic, else raw. */
export declare function detectFormat(path: string): Promise<string>;
/** A source image to copy from: a regular file, of the format given (checked against its marks) or found; opened read-only. */
export declare function openSource(path: string, format?: string): Promise<{
    format: string;
    disk: Disk;
}>;
/** How a long copy reports and is stopped: bytes done of the total after each chunk; an aborted signal stops it between chunks. */
export interface CopyControl {
    readonly progress?: (done: number, total: number) => void;
    readonly signal?: AbortSignal;
}
/**
 * Copy every sector of `src` to `dst` (at least as large), writing only runs of sectors that
 * are not all zeros (the destination is new, so it reads zeros there already), then flush.
 */
export declare function copyDisk(src: Disk, dst: Disk, ctl?: CopyControl): Promise<void>;
/** A new image of `format` at `path` (which must not exist) holding a copy of `src`; the partial file is removed on failure. */
export declare function writeImage(src: Disk, path: string, format: string, ctl?: CopyControl): Promise<void>;
