/** An inclusive range of integers. */
export interface Bounds {
    readonly min: number;
    readonly max: number;
}
export interface HostLimits {
    /** memory= and maxmem=, MiB. */
    readonly memoryMiB: Bounds;
    /** Bytes of the guest's command line (UTF-8). */
    readonly cmdlineBytes: number;
    readonly maxGrantFrames: Bounds;
    readonly maxMaptrackFrames: Bounds;
    readonly maxEventChannels: Bounds;
    readonly vcpus: Bounds;
}
/** The smallest memory= a guest can run in: V8 needs room for its heap. */
export declare const MIN_MEMORY_MIB = 16;
/** Bytes of a domain's name: an XS_WRITE carries the path, its NUL and the value. */
export declare const MAX_NAME_BYTES: number;
/** This machine's limits: memory= is bounded by its RAM as well as by the engine. */
export declare function hostLimits(): HostLimits;
