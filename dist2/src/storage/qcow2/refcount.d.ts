import type { ImageFile } from './file.js';
import type { Qcow2Header } from './header.js';
export declare class Refcounts {
    #private;
    private constructor();
    /** The refcount table; for a writable image also where appending starts. */
    static load(file: ImageFile, h: Qcow2Header, writable: boolean): Promise<Refcounts>;
    /** The refcount of the cluster at byte `off` of the file. */
    get(off: number): Promise<number>;
    /** Reserve the next cluster at the end of the file and give it refcount 1; its offset. */
    allocate(): Promise<number>;
    /** Drop a reference to the cluster at `off` (one no mapping points at any more, durably). */
    release(off: number): Promise<void>;
}
