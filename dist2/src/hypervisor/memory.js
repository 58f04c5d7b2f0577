// A domain's memory and control block as typed views, shared by every thread that holds them.
import { PAGE_SIZE } from '../abi/xen.js';
import { CB_DYING, CB_FOREIGN_PINS, CB_MAX_EVTCHNS, CB_MAX_GRANT_FRAMES, CB_MAX_PAGES, CB_NR_GRANT_FRAMES, CB_RAM_HWM, CB_SHUTDOWN, MAPTRACK_PER_FRAME, MT_WORDS, controlBlockBytes, firstRamPfn, totalFrames, } from './layout.js';
/** `alloc` gives zeroed memory (the hypervisor's DomHeap reuses buffers of gone domains). */
export function allocateDomainBuffers(domid, limits, alloc = (bytes) => new SharedArrayBuffer(bytes)) {
    const geometry = { maxGrantFrames: limits.maxGrantFrames, ramFrames: limits.ramFrames };
    const memory = alloc(totalFrames(geometry) * PAGE_SIZE);
    const control = new SharedArrayBuffer(controlBlockBytes(geometry.maxGrantFrames));
    const ctl = new Int32Array(control);
    ctl[CB_SHUTDOWN] = -1;
    ctl[CB_NR_GRANT_FRAMES] = limits.initialGrantFrames;
    ctl[CB_MAX_GRANT_FRAMES] = geometry.maxGrantFrames;
    ctl[CB_MAX_PAGES] = geometry.ramFrames;
    ctl[CB_MAX_EVTCHNS] = limits.maxEvtchns;
    ctl[CB_RAM_HWM] = firstRamPfn(geometry);
    return limits.doorbell ? { domid, geometry, memory, control, doorbell: limits.doorbell } : { domid, geometry, memory, control };
}
/** Typed views over a domain's buffers; built once per thread per domain. */
export class DomainView {
    domid;
    geometry;
    buffers;
    mem8;
    mem32;
    ctl;
    nrFrames;
    /** The shared pCPU's doorbell words and this domain's bit there; null on a thread of its own. */
    doorbell;
    doorbellSlot;
    constructor(buffers) {
        this.buffers = buffers;
        this.domid = buffers.domid;
        this.geometry = buffers.geometry;
        this.mem8 = new Uint8Array(buffers.memory);
        this.mem32 = new Int32Array(buffers.memory);
        this.ctl = new Int32Array(buffers.control);
        this.nrFrames = buffers.memory.byteLength / PAGE_SIZE;
        this.doorbell = buffers.doorbell ? new Int32Array(buffers.doorbell.buffer) : null;
        this.doorbellSlot = buffers.doorbell?.slot ?? 0;
    }
    frame(pfn) {
        return new Uint8Array(this.buffers.memory, pfn * PAGE_SIZE, PAGE_SIZE);
    }
    get dying() {
        return Atomics.load(this.ctl, CB_DYING) !== 0;
    }
    get foreignPins() {
        return Atomics.load(this.ctl, CB_FOREIGN_PINS);
    }
}
/**
 * The maptrack table of a mapping domain (Xen's struct grant_mapping array). Only the thread
 * that runs the domain's hypercalls touches it, and dom0 once that thread is gone.
 */
export function allocateMaptrack(maxMaptrackFrames) {
    return new SharedArrayBuffer(maxMaptrackFrames * MAPTRACK_PER_FRAME * MT_WORDS * 4);
}
//# sourceMappingURL=memory.js.map