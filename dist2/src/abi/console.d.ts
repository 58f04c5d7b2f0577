export declare const XENCONS_IN = 0;
export declare const XENCONS_IN_SIZE = 1024;
export declare const XENCONS_OUT = 1024;
export declare const XENCONS_OUT_SIZE = 2048;
export declare const XENCONS_IN_CONS = 3072;
export declare const XENCONS_IN_PROD = 3076;
export declare const XENCONS_OUT_CONS = 3080;
export declare const XENCONS_OUT_PROD = 3084;
/** sizeof(struct xencons_interface) */
export declare const XENCONS_INTERFACE_SIZE = 3088;
/** MASK_XENCONS_IDX: `size` is the ring's byte size (a power of two). */
export declare function maskXenconsIdx(idx: number, size: number): number;
export type XenconsRing = 'in' | 'out';
/**
 * Atomic access to the four indices and wrap-aware copies to and from the two rings. These are
 * mechanics only: which side owns which index, and bounding what the peer wrote
 * ((prod - cons) >>> 0 must not exceed the ring size), is the caller's business.
 */
export declare class XenconsInterface {
    #private;
    constructor(page: Uint8Array);
    get inCons(): number;
    set inCons(v: number);
    get inProd(): number;
    set inProd(v: number);
    get outCons(): number;
    set outCons(v: number);
    get outProd(): number;
    set outProd(v: number);
    /** Copy `dst.length` bytes out of `ring`, starting at free-running index `idx`. */
    read(ring: XenconsRing, idx: number, dst: Uint8Array): void;
    /** Copy `src` into `ring`, starting at free-running index `idx`. */
    write(ring: XenconsRing, idx: number, src: Uint8Array): void;
}
