import { type XenconsRing } from '../../abi/console.js';
export declare class ByteRing {
    #private;
    constructor(page: Uint8Array, ring: XenconsRing, side: 'producer' | 'consumer');
    /** Producer: copy as much of `src` as fits; returns the bytes written. */
    write(src: Uint8Array): number;
    /** Consumer: take everything outstanding (copied out of the page). */
    read(): Uint8Array;
    /** Bytes written and not yet taken, as the page says. */
    get pending(): number;
}
