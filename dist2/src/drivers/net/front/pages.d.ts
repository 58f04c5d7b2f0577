import type { Hypercalls } from '../../../hypervisor/hypercalls.js';
export interface NetPage {
    readonly pfn: number;
    readonly bytes: Uint8Array;
    readonly ref: number;
}
export declare class NetPages {
    #private;
    constructor(hc: Hypercalls, backend: number, readonly: boolean);
    /** A fresh frame granted to the backend; throws when memory or grant references run out. */
    grant(): NetPage;
    /** End every grant and free the frames the backend has let go of. */
    revokeAll(): void;
    /** Frames still held by an earlier backend. */
    get held(): number;
    retry(): void;
}
