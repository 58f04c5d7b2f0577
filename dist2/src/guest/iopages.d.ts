import type { Hypercalls } from '../hypervisor/hypercalls.js';
export interface IoPages {
    /** `bytes`, rounded up to whole pages, of zeroed I/O memory. Throws ENOMEM past the domain's memory= . */
    alloc(bytes: number): Uint8Array;
    /**
     * After a resume: I/O pages the program had before the suspend, with their contents, by
     * where they were (a buffer's byteOffset, and its length). EINVAL unless they were allocated
     * as I/O pages then. Pages the program does not take back stay allocated.
     */
    reclaim(byteOffset: number, bytes: number): Uint8Array;
}
/** [first pfn, count] of each allocation: what a suspend record keeps (abi/suspend.ts). */
export type IoRanges = readonly (readonly [number, number])[];
export declare function ioPages(hc: Hypercalls, before?: IoRanges): IoPages & {
    ranges(): IoRanges;
};
