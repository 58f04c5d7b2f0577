export declare class ByteQueue {
    #private;
    private readonly release?;
    length: number;
    /** `release` hears of every chunk dropped whole (the send buffer gives its blocks back). */
    constructor(release?: ((chunk: Uint8Array) => void) | undefined);
    push(b: Uint8Array): void;
    /** Drop `n` bytes from the front. */
    drop(n: number): void;
    /** Copy `len` bytes starting `from` bytes into the queue to dst[off..]. */
    copyTo(from: number, len: number, dst: Uint8Array, off: number): void;
    /** Take up to `max` bytes from the front as one chunk (no copy when a whole chunk fits). */
    shift(max?: number): Uint8Array | undefined;
}
