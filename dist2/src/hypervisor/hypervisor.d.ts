import { EventEmitter } from 'node:events';
import { type ShutdownReason } from '../abi/xen.js';
import { type ControlPlane, type PeerGrant } from './control.js';
import { Maptrack } from './grant.js';
import { Hypercalls } from './hypercalls.js';
import { DomHeap } from './domheap.js';
import type { DoorbellSlot } from './doorbell.js';
import { DomainView } from './memory.js';
/** The thread that runs a domain's vCPU, as the authority sees it. */
export interface VcpuHandle {
    /** Stop the thread for good; resolves once it no longer runs. */
    terminate(): Promise<void>;
    /** Milliseconds the vCPU has spent running. */
    cpuTime(): number;
    /** Hand a peer's buffers to the vCPU's hypercall layer (after the other end bound to it). */
    push(grant: PeerGrant): void;
    /** Whether its thread is on a CPU or waiting for one (thread.ts); undefined if unknown. */
    running?(): boolean | undefined;
}
export interface DomainCreateOptions {
    readonly name: string;
    readonly uuid?: string;
    /** RAM frames the domain may populate (its max_pages). */
    readonly ramFrames: number;
    readonly maxGrantFrames?: number;
    readonly maxMaptrackFrames?: number;
    readonly maxEvtchns?: number;
    readonly privileged?: boolean;
    /** The shared pCPU the domain's vCPU will run on (cpupool.ts). */
    readonly doorbell?: DoorbellSlot;
}
export declare class Domain {
    readonly domid: number;
    name: string;
    /** Set at creation; a shell takes its configuration's when claimed. */
    uuid: string;
    readonly view: DomainView;
    readonly privileged: boolean;
    readonly maxMaptrackFrames: number;
    /** When it was created (a shell's: when a create claimed it). */
    createdAt: number;
    vcpu: VcpuHandle | null;
    maptrack: Maptrack | null;
    shutdownReason: ShutdownReason | null;
    /**
     * The frames of the guest's suspend record, as it named them in SCHEDOP_shutdown(suspend)
     * (Xen keeps the start_info frame in the vCPU context); null unless suspended.
     */
    suspendRecord: {
        readonly pfn: number;
        readonly bytes: number;
    } | null;
    /** Answers the suspended vCPU's SCHEDOP_shutdown when the domain is resumed in place. */
    resumeVcpu: ((cancelled: number) => void) | null;
    /** Set once destruction started; the domain stays listed while others still map its pages. */
    dying: boolean;
    /** Set once destruction stopped its vCPU and closed its ports: it may be reaped. */
    tornDown: boolean;
    constructor(domid: number, name: string, 
    /** Set at creation; a shell takes its configuration's when claimed. */
    uuid: string, view: DomainView, privileged: boolean, maxMaptrackFrames: number);
    /** Pauses by the toolstack (a shut-down domain is stopped too, but not shown as paused). */
    pauseCount: number;
    get paused(): boolean;
    /** The thread's state when the OS tells it (thread.ts), else the upcall loop's runstate word. */
    get blocked(): boolean;
    get totPages(): number;
    /** xl list's State column: r b p s, the shutdown reason's letter ("-rscwS" in xl), d. */
    get stateString(): string;
}
export interface HypervisorEvents {
    /** A domain shut down (any reason) or was destroyed; VIRQ_DOM_EXC is raised too. */
    domainException: [domid: number];
    /** A dying domain's last foreign mapping went away: it is gone from the table. */
    domainReaped: [domid: number];
}
export declare class Hypervisor extends EventEmitter<HypervisorEvents> {
    #private;
    /** Guest memory of reaped domains, for the next domains of the same size. */
    readonly heap: DomHeap;
    readonly dom0: Domain;
    /** dom0's own hypercall surface; it can reach every domain. */
    readonly dom0Hypercalls: Hypercalls;
    constructor(opts?: {
        dom0RamFrames?: number;
        heap?: DomHeap;
        killWaitMs?: number;
    });
    /** XEN_DOMCTL_createdomain: the domain starts paused, as in Xen. */
    createDomain(o: DomainCreateOptions): Domain;
    domain(domid: number): Domain;
    findDomain(domid: number): Domain | undefined;
    /** Domains in domid order, dying ones included (xl list shows them with 'd'). */
    domains(): Domain[];
    attachVcpu(domid: number, vcpu: VcpuHandle): void;
    /** XEN_DOMCTL_pausedomain: the toolstack's pause, counted (xl list shows p). */
    pause(domid: number): void;
    unpause(domid: number): void;
    /** The domain shut down (SCHEDOP_shutdown, or a crash of its vCPU). */
    shutdownDomain(domid: number, reason: ShutdownReason): void;
    /**
     * The restore side of populate_physmap: a domain built from a save image has every RAM frame
     * below `hwm` populated (their contents are written by the toolstack before its vCPU starts).
     */
    restorePhysmap(domid: number, hwm: number): void;
    /**
     * XEN_DOMCTL_resumedomain: a suspended domain runs again in place (a checkpoint, or a save or
     * migration that failed); its vCPU's SCHEDOP_shutdown returns 1, as for a cancelled suspend.
     */
    resumeDomain(domid: number): void;
    /**
     * XEN_DOMCTL_destroydomain: stop the vCPU, close the domain's event channels (the other
     * ends become unbound), drop the mappings it holds. Its own pages stay valid for whoever
     * still maps them; the domain is reaped when the last of those mappings goes.
     */
    destroyDomain(domid: number): Promise<void>;
    /** Let two domains reach each other's memory: the toolstack does this when it connects a device. */
    link(a: number, b: number): void;
    controlPlane(caller: number): ControlPlane;
}
