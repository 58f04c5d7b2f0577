import type { TestContext } from 'node:test';
import { Worker } from 'node:worker_threads';
import { XenError } from '../../src/errors.js';
import { Hypercalls } from '../../src/hypervisor/hypercalls.js';
import { Hypervisor, type Domain, type DomainCreateOptions } from '../../src/hypervisor/hypervisor.js';
import type { DomainView } from '../../src/hypervisor/memory.js';
import { UpcallLoop } from '../../src/hypervisor/upcall.js';
/**
 * Fail instead of hanging (generously: other test files load the machine too); the timer also
 * keeps the event loop alive while only waitAsync is pending.
 */
export declare function within<T>(p: Promise<T>, what: string, ms?: number): Promise<T>;
/** Events seen per port, and a way to wait until a port has seen so many. */
declare class EventCounter {
    #private;
    bump(port: number): void;
    count(port: number): number;
    /** Resolves once `port` has seen `n` events in all. */
    until(port: number, n: number): Promise<void>;
    /** Resolves on the next event on `port` after this call; arm it before causing the event. */
    next(port: number): Promise<void>;
}
/** An upcall loop on the test's thread for one domain, counting events per port. */
export declare class Events extends EventCounter {
    readonly loop: UpcallLoop;
    constructor(view: DomainView);
    listen(port: number): void;
}
/** A domain whose hypercalls run on the test's thread, as dom0's and a backend's do. */
export interface LocalDomain {
    readonly domid: number;
    readonly domain: Domain;
    readonly hc: Hypercalls;
    readonly events: Events;
}
/** A domain whose vCPU is a real worker thread; the test drives it by messages. */
export declare class Guest extends EventCounter {
    #private;
    readonly domain: Domain;
    readonly domid: number;
    /** Resolves with the thread's exit code. */
    readonly exited: Promise<number>;
    constructor(domain: Domain, worker: Worker);
    /** Run one of hypervisor-vcpu.ts's operations in the guest's thread. */
    call<T = unknown>(op: string, ...args: unknown[]): Promise<T>;
    /** A hypercall made by the guest, on its own thread. */
    hc<T = unknown>(method: keyof Hypercalls, ...args: unknown[]): Promise<T>;
}
/** A hypervisor for one test: dom0's upcall loop runs on the test's thread; `close` tears it all down. */
export declare class Harness {
    #private;
    readonly hv: Hypervisor;
    readonly dom0: Hypercalls;
    readonly dom0Events: Events;
    local(opts?: Partial<DomainCreateOptions>): LocalDomain;
    /**
     * Create a domain and give it a worker vCPU, the way startVcpu does: a private control port
     * served by the hypervisor, peers pushed on it, death without shutdown is a crash. Unpaused.
     */
    guest(opts?: Partial<DomainCreateOptions>): Promise<Guest>;
    close(): Promise<void>;
}
/** One event from dom0's port `p0` to the guest's `pg` and one back, each awaited. */
export declare function pingPong(h: Harness, g: Guest, p0: number, pg: number): Promise<void>;
export declare function harness(t: TestContext): Harness;
/** Byte address of grant entry `ref` in a domain's memory. */
export declare function grantEntryAddr(ref: number): number;
/** The flags half-word of a grant entry, read the way the granting guest reads it. */
export declare function grantFlags(view: DomainView, ref: number): number;
/** A frame of fresh RAM of the domain `hc` runs, filled with `fill`. */
export declare function ramPage(hc: Hypercalls, fill: number): {
    pfn: number;
    page: Uint8Array;
};
/** assert.throws / rejects matchers. */
export declare const xen: (errno: XenError['errno']) => {
    name: string;
    errno: "E2BIG" | "EACCES" | "EADDRINUSE" | "EADDRNOTAVAIL" | "EAGAIN" | "EBADF" | "EBADMSG" | "EBUSY" | "ECONNREFUSED" | "EDEADLK" | "EEXIST" | "EFAULT" | "EINTR" | "EINVAL" | "EIO" | "EISCONN" | "EISDIR" | "EMFILE" | "EMLINK" | "ENAMETOOLONG" | "ENFILE" | "ENODATA" | "ENODEV" | "ENOENT" | "ENOEXEC" | "ENOMEM" | "ENOSPC" | "ENOSYS" | "ENOTCONN" | "ENOTEMPTY" | "ENXIO" | "EOPNOTSUPP" | "EOVERFLOW" | "EPERM" | "ERANGE" | "EROFS" | "ESRCH" | "ETIME" | "ETIMEDOUT" | "EXDEV";
};
export declare const gntst: (status: number) => {
    name: string;
    status: number;
};
export {};
