import type { Hypercalls } from '../hypervisor/hypercalls.js';
/** The frontend's side: its frames, the grants it gave, and a view over all of them. */
export interface GrantedRing {
    readonly bytes: Uint8Array;
    readonly pfns: readonly number[];
    readonly refs: readonly number[];
}
/**
 * `n` adjacent frames of the domain's RAM. Freed frames are handed out first and may be
 * scattered; those are set aside until a run of `n` turns up (fresh frames always are one).
 */
export declare function allocContiguous(hc: Hypercalls, n: number): number[];
export declare function grantRing(hc: Hypercalls, backendDomid: number, nrPages: number): GrantedRing;
/**
 * Revoke the ring's grants and free its frames. False if the backend still maps a page: the
 * frames then stay allocated (a backend may still write them) and the caller retries later.
 */
export declare function revokeRing(hc: Hypercalls, ring: GrantedRing): boolean;
/** The backend's side: the mapped ring as one view, and how to let go of it. */
export interface MappedRing {
    readonly bytes: Uint8Array;
    unmap(): void;
}
export declare function mapRing(hc: Hypercalls, domid: number, refs: readonly number[]): MappedRing;
