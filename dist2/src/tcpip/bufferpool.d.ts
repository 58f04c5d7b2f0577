/** netif.h's XEN_NETIF_MAX_TX_SIZE: no frame is larger. */
export declare const POOL_LARGE = 65536;
export declare class BufferPool {
    #private;
    /** `n` bytes holding whatever the last user left (the caller writes every byte). */
    take(n: number): Uint8Array;
    /** Give back a buffer from take() that nobody uses any more (others are left to the collector). */
    give(b: Uint8Array): void;
}
