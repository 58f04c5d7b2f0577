import { Worker } from 'node:worker_threads';
import type { Domain, Hypervisor, VcpuHandle } from './hypervisor.js';
/** The one message a vCPU thread gets on its parentPort; everything after goes over `control`. */
export interface BootMessage {
    readonly type: 'boot';
    readonly buffers: Domain['view']['buffers'];
    readonly control: import('node:worker_threads').MessagePort;
    /**
     * URL of the kernel image (an ES module whose default export is main(os)); null for a shell,
     * which boots the runtime and parks until a KernelMessage names its kernel.
     */
    readonly kernel: string | null;
    /** The thread's nice value (sched.ts). */
    readonly nice: number;
}
/**
 * A parked shell's second message on its parentPort: its kernel, the priority it runs at, and
 * the name and uuid the toolstack has just written to xenstore, so that the guest's critical
 * path needs no xenstore round trip (as LightVM's noxs hands a guest its details in a page).
 */
export interface KernelMessage {
    readonly type: 'kernel';
    readonly kernel: string;
    readonly nice: number;
    readonly name: string;
    readonly uuid: string;
}
/**
 * When a vCPU thread reached each step of its boot (performance.timeOrigin + now(), so the
 * host can subtract its own clock): the boot message, a shell's kernel, the domain's name read
 * from xenstore, the kernel linked.
 */
export interface BootMarks {
    booted: number;
    handed?: number;
    named?: number;
    linked?: number;
}
/** Messages a vCPU thread sends on its parentPort. */
export type VcpuStatus = 
/** `tid`: the thread's kernel id, where the OS has one (thread.ts). */
{
    readonly type: 'ready';
    readonly tid?: number;
}
/** A shell's runtime is up (console, xenstore, timer) and waits for its kernel. */
 | {
    readonly type: 'parked';
} | {
    readonly type: 'main';
    readonly marks?: BootMarks;
} | {
    readonly type: 'log';
    readonly line: string;
};
export interface VcpuOptions {
    /** JS heap cap of the guest (its part of memory=). */
    readonly heapMb: number;
}
/** A vCPU thread that ended before it could take its domain. */
export declare class VcpuExited extends Error {
    name: string;
    constructor(detail: string);
}
interface Spawned {
    readonly worker: Worker;
    /** Resolves with the thread's kernel id once the runtime is loaded. */
    readonly ready: Promise<number | undefined>;
}
/**
 * Where vCPU threads come from: pre-started ones, one pool per heap size, or fresh ones. The
 * toolstack names the guest runtime image the threads start from (the hypervisor does not
 * know the library OS).
 */
export declare class VcpuPool {
    #private;
    constructor(opts: {
        size: number;
        image: URL;
    });
    /** Start pool threads for this heap size, without waiting for them. */
    warm(opts: VcpuOptions): void;
    /** A started thread if one is ready, else a fresh one; refills in the background. */
    take(opts: VcpuOptions): Spawned & {
        warm: boolean;
    };
    close(): Promise<void>;
}
/** A domain's vCPU once started, on a thread of its own or on a shared pCPU (cpupool.ts). */
export interface BootedVcpu extends VcpuHandle {
    /** Resolves when the guest's main() has been called, with its boot's marks where it has them. */
    readonly mainCalled: Promise<BootMarks | undefined>;
    /** Whether it started on a thread (or realm) that was ready before it was asked for. */
    readonly warm: boolean;
}
export interface StartedVcpu extends BootedVcpu {
    readonly worker: Worker;
    /** Resolves when a shell's runtime waits for its kernel (never for a vCPU started with one). */
    readonly parked: Promise<void>;
    /** Hand a shell its kernel, to run at `weight` (once: a vCPU started with a kernel has one). */
    loadKernel(kernel: string, weight?: number): void;
}
/**
 * Give a domain its vCPU: a thread from the pool gets the boot message and a private
 * control port served by the hypervisor. The vCPU's death without a shutdown is a crash.
 */
export declare function startVcpu(hv: Hypervisor, domain: Domain, kernel: string | null, opts: VcpuOptions & {
    pool: VcpuPool;
    onLog?: (line: string) => void;
    weight?: number;
}): Promise<StartedVcpu>;
export {};
