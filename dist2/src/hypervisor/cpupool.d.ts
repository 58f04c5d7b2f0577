import { Worker } from 'node:worker_threads';
import { PcpuStats, type DoorbellSlot } from './doorbell.js';
import type { Domain, Hypervisor } from './hypervisor.js';
import type { DomainBuffers } from './memory.js';
import type { BootedVcpu } from './vcpu.js';
/** Xen's only scheduler here. */
export type CpupoolSched = 'credit';
export declare const CPUPOOL_SCHEDS: readonly CpupoolSched[];
export declare const POOL0 = "Pool-0";
/** pCPU threads one pool may have. */
export declare const MAX_POOL_CPUS = 64;
/** A turn that runs longer than this is a guest that does not yield. */
export declare const WATCHDOG_MS = 2000;
/** What dom0 sends a pCPU thread. */
export type PcpuMessage = {
    readonly type: 'place';
    readonly domid: number;
    readonly slot: number;
    readonly buffers: DomainBuffers;
    readonly control: import('node:worker_threads').MessagePort;
    readonly kernel: string;
    readonly weight: number;
    readonly cap: number;
} | {
    readonly type: 'evict';
    readonly domid: number;
} | {
    readonly type: 'sched';
    readonly domid: number;
    readonly weight: number;
    readonly cap: number;
};
/** What a pCPU thread sends dom0. */
export type PcpuStatus = {
    readonly type: 'ready';
    readonly tid?: number;
} | {
    readonly type: 'placed';
    readonly domid: number;
} | {
    readonly type: 'failed';
    readonly domid: number;
    readonly message: string;
} | {
    readonly type: 'main';
    readonly domid: number;
} | {
    readonly type: 'evicted';
    readonly domid: number;
} | {
    readonly type: 'log';
    readonly line: string;
};
/** What a pCPU thread starts with. */
export interface PcpuData {
    readonly doorbell: SharedArrayBuffer;
    readonly stats: SharedArrayBuffer;
    readonly epoch: number;
    /** The library OS image for realms (bin/link.js: dist/realm.js). */
    readonly realmImage: string;
    readonly name: string;
}
export interface CpupoolOptions {
    readonly name: string;
    readonly sched?: CpupoolSched;
    readonly cpus: number;
    /** The pCPU thread's program (guest/pcpu.ts) and the realm image it loads. */
    readonly image: URL;
    readonly realmImage: URL;
    readonly onLog?: (line: string) => void;
    readonly watchdogMs?: number;
    /** A pCPU thread's JS heap cap, in MiB: every domain on it shares it. */
    readonly heapMb?: number;
}
interface Resident {
    readonly domain: Domain;
    readonly slot: number;
    readonly onExit: (why: string) => void;
    readonly onMain: () => void;
    readonly onPlaced: (err?: Error) => void;
    readonly onEvicted: () => void;
}
declare class Pcpu {
    #private;
    readonly pool: Cpupool;
    readonly index: number;
    readonly epoch: number;
    readonly doorbell: SharedArrayBuffer;
    readonly stats: PcpuStats;
    worker: Worker;
    readonly residents: Map<number, Resident>;
    ready: Promise<void>;
    /** Resolves when the current thread has ended. */
    exited: Promise<void>;
    constructor(pool: Cpupool, index: number, epoch: number);
    start(): void;
    takeSlot(): number;
    freeSlot(slot: number): void;
    running(): boolean | undefined;
    cpuMs(): number | undefined;
    /** The turn the watchdog watches, and the thread's CPU time when it first saw it. */
    watched: {
        key: string;
        cpu: number | undefined;
        wall: number;
    } | null;
}
/** Where a domain will run: its pCPU and slot, chosen before the domain's buffers exist. */
export interface Placement {
    readonly pool: Cpupool;
    readonly doorbell: DoorbellSlot;
    /** @internal */ readonly pcpu: number;
}
export declare class Cpupool {
    #private;
    readonly name: string;
    readonly sched: CpupoolSched;
    readonly image: URL;
    readonly realmImage: URL;
    readonly heapMb: number | undefined;
    constructor(opts: CpupoolOptions);
    get cpus(): number;
    /** Domains placed in the pool. */
    get domains(): number;
    /** Turns the pool's pCPUs have run (each runs one domain's work). */
    turns(): number;
    /** Resolves once every pCPU thread is up. */
    ready(): Promise<void>;
    log(line: string): void;
    /** Choose a pCPU (the least loaded) and a slot on it. */
    place(): Placement;
    /** Give back a placement whose domain was never started. */
    unplace(p: Placement): void;
    /**
     * Start the domain's vCPU in its realm on the placed pCPU. Its death without a shutdown (the
     * watchdog, or its thread lost) is a crash.
     */
    startVcpu(hv: Hypervisor, domain: Domain, placement: Placement, kernel: string, opts?: {
        weight?: number;
        cap?: number;
        onLog?: (line: string) => void;
    }): Promise<BootedVcpu>;
    /** xl sched-credit -d: a domain's weight and cap. */
    setSched(domid: number, weight: number, cap: number): void;
    hosts(domid: number): boolean;
    /** The thread of a pCPU ended (out of heap, or a host bug): its domains crash; a new thread takes its place. */
    lost(p: Pcpu, why: string): void;
    /** cpupool-destroy: refused while domains are placed in it. */
    destroy(): Promise<void>;
}
export {};
