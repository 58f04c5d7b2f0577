// struct xencons_interface (xen/io/console.h): the PV console page. Two byte rings with
// free-running uint32 indices: `in` carries host -> guest bytes, `out` guest -> host.
import { XenError } from '../errors.js';
export const XENCONS_IN = 0; // char in[1024]
export const XENCONS_IN_SIZE = 1024;
export const XENCONS_OUT = 1024; // char out[2048]
export const XENCONS_OUT_SIZE = 2048;
export const XENCONS_IN_CONS = 3072;
export const XENCONS_IN_PROD = 3076;
export const XENCONS_OUT_CONS = 3080;
export const XENCONS_OUT_PROD = 3084;
/** sizeof(struct xencons_interface) */
export const XENCONS_INTERFACE_SIZE = 3088;
/** MASK_XENCONS_IDX: `size` is the ring's byte size (a power of two). */
export function maskXenconsIdx(idx, size) {
    return idx & (size - 1);
}
/**
 * Atomic access to the four indices and wrap-aware copies to and from the two rings. These are
 * mechanics only: which side owns which index, and bounding what the peer wrote
 * ((prod - cons) >>> 0 must not exceed the ring size), is the caller's business.
 */
export class XenconsInterface {
    #page;
    #words;
    constructor(page) {
        if (page.byteOffset % 4 !== 0 || page.byteLength < XENCONS_INTERFACE_SIZE) {
            throw new XenError('EINVAL', `console page must be 4-byte aligned and at least ${XENCONS_INTERFACE_SIZE} bytes (offset ${page.byteOffset}, length ${page.byteLength})`);
        }
        this.#page = page;
        this.#words = new Int32Array(page.buffer, page.byteOffset, XENCONS_INTERFACE_SIZE >> 2);
    }
    get inCons() {
        return Atomics.load(this.#words, XENCONS_IN_CONS >> 2) >>> 0;
    }
    set inCons(v) {
        Atomics.store(this.#words, XENCONS_IN_CONS >> 2, v | 0);
    }
    get inProd() {
        return Atomics.load(this.#words, XENCONS_IN_PROD >> 2) >>> 0;
    }
    set inProd(v) {
        Atomics.store(this.#words, XENCONS_IN_PROD >> 2, v | 0);
    }
    get outCons() {
        return Atomics.load(this.#words, XENCONS_OUT_CONS >> 2) >>> 0;
    }
    set outCons(v) {
        Atomics.store(this.#words, XENCONS_OUT_CONS >> 2, v | 0);
    }
    get outProd() {
        return Atomics.load(this.#words, XENCONS_OUT_PROD >> 2) >>> 0;
    }
    set outProd(v) {
        Atomics.store(this.#words, XENCONS_OUT_PROD >> 2, v | 0);
    }
    /** Copy `dst.length` bytes out of `ring`, starting at free-running index `idx`. */
    read(ring, idx, dst) {
        const [base, size] = ringGeometry(ring, dst.length);
        const at = maskXenconsIdx(idx, size);
        const first = Math.min(dst.length, size - at);
        dst.set(this.#page.subarray(base + at, base + at + first));
        dst.set(this.#page.subarray(base, base + dst.length - first), first);
    }
    /** Copy `src` into `ring`, starting at free-running index `idx`. */
    write(ring, idx, src) {
        const [base, size] = ringGeometry(ring, src.length);
        const at = maskXenconsIdx(idx, size);
        const first = Math.min(src.length, size - at);
        this.#page.set(src.subarray(0, first), base + at);
        this.#page.set(src.subarray(first), base);
    }
}
function ringGeometry(ring, length) {
    const size = ring === 'in' ? XENCONS_IN_SIZE : XENCONS_OUT_SIZE;
    if (length > size) {
        throw new XenError('EINVAL', `${length} bytes do not fit the ${size}-byte console ${ring} ring`);
    }
    return [ring === 'in' ? XENCONS_IN : XENCONS_OUT, size];
}
//# sourceMappingURL=console.js.map