import { type Zone } from './dns-zone.js';
export declare const RCODE: {
    readonly NOERROR: 0;
    readonly FORMERR: 1;
    readonly SERVFAIL: 2;
    readonly NXDOMAIN: 3;
    readonly NOTIMP: 4;
    readonly REFUSED: 5;
};
/** The answer to a query, or undefined when it gets none (not a query, or too short to answer). */
export declare function answerQuery(query: Uint8Array, zone: Zone): Uint8Array | undefined;
