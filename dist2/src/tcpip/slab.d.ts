export declare class Slab {
    #private;
    /** `n` zeroed bytes. */
    alloc(n: number): Uint8Array;
    /** A copy of `src` that the caller may keep. */
    copy(src: Uint8Array): Uint8Array;
}
