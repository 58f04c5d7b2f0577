/** Wiped buffers kept for reuse (bytes), by default. */
export declare const DEFAULT_DOMHEAP_FREE_BYTES: number;
export interface DomHeapStats {
    /** Buffers handed out since the start that were reused. */
    readonly reused: number;
    /** Buffers handed out that had to be allocated. */
    readonly allocated: number;
    /** Bytes held in the free pool now. */
    readonly freeBytes: number;
}
export declare class DomHeap {
    #private;
    constructor(opts?: {
        maxFreeBytes?: number;
    });
    /** A zeroed buffer of `bytes` (a multiple of 4). */
    alloc(bytes: number): SharedArrayBuffer;
    /**
     * Take back a buffer nobody else holds any more (the caller's promise). Kept, wiped, while
     * the pool has room; otherwise dropped.
     */
    free(buf: SharedArrayBuffer): void;
    stats(): DomHeapStats;
}
