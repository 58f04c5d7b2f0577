import { EventEmitter } from 'node:events';
import type { Hypercalls } from '../../hypervisor/hypercalls.js';
import type { UpcallLoop } from '../../hypervisor/upcall.js';
/**
 * Typed bytes held for a guest that does not read its console (a paste or a flood): beyond
 * this, input is dropped, as a serial line drops what its receiver has no room for.
 */
export declare const MAX_PENDING_INPUT: number;
export interface ConsoleDaemonEvents {
    output: [domid: number, data: Uint8Array];
    /** The guest corrupted its console page; its console is detached. */
    broken: [domid: number, reason: string];
}
export declare class ConsoleDaemon extends EventEmitter<ConsoleDaemonEvents> {
    #private;
    constructor(hc: Hypercalls, loop: UpcallLoop, opts?: {
        logLimit?: number;
    });
    /** Connect to a guest's console: `ringRef` is its console grant, `port` its unbound event channel. */
    attach(domid: number, ringRef: number, remotePort: number): Promise<void>;
    /** Read whatever the guest left in its ring (before it is destroyed). */
    drain(domid: number): void;
    /** Type into the guest's console; returns how many bytes were taken (the rest found no room). */
    input(domid: number, data: Uint8Array): number;
    /** The console output kept so far (bounded), oldest first. */
    log(domid: number): Uint8Array;
    has(domid: number): boolean;
    detach(domid: number): void;
}
