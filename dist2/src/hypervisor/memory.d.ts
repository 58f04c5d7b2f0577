import { type MemoryGeometry } from './layout.js';
import type { DoorbellSlot } from './doorbell.js';
/** What crosses a thread boundary to give a thread access to a domain (all shared memory). */
export interface DomainBuffers {
    readonly domid: number;
    readonly geometry: MemoryGeometry;
    readonly memory: SharedArrayBuffer;
    readonly control: SharedArrayBuffer;
    /** Set for a domain on a shared pCPU (cpupool.ts): its upcalls ring the pCPU's doorbell too. */
    readonly doorbell?: DoorbellSlot;
}
export interface DomainLimits extends MemoryGeometry {
    readonly maxEvtchns: number;
    readonly doorbell?: DoorbellSlot;
    /** Grant-table frames the guest starts with (Xen sets up one, grows on setup_table). */
    readonly initialGrantFrames: number;
}
/** `alloc` gives zeroed memory (the hypervisor's DomHeap reuses buffers of gone domains). */
export declare function allocateDomainBuffers(domid: number, limits: DomainLimits, alloc?: (bytes: number) => SharedArrayBuffer): DomainBuffers;
/** Typed views over a domain's buffers; built once per thread per domain. */
export declare class DomainView {
    readonly domid: number;
    readonly geometry: MemoryGeometry;
    readonly buffers: DomainBuffers;
    readonly mem8: Uint8Array;
    readonly mem32: Int32Array;
    readonly ctl: Int32Array;
    readonly nrFrames: number;
    /** The shared pCPU's doorbell words and this domain's bit there; null on a thread of its own. */
    readonly doorbell: Int32Array | null;
    readonly doorbellSlot: number;
    constructor(buffers: DomainBuffers);
    frame(pfn: number): Uint8Array;
    get dying(): boolean;
    get foreignPins(): number;
}
/**
 * The maptrack table of a mapping domain (Xen's struct grant_mapping array). Only the thread
 * that runs the domain's hypercalls touches it, and dom0 once that thread is gone.
 */
export declare function allocateMaptrack(maxMaptrackFrames: number): SharedArrayBuffer;
