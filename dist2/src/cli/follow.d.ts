import type { ShutdownReason } from '../abi/xen.js';
import type { Toolstack } from '../toolstack/contract.js';
/** Exit statuses of `xenode run` and `xenode create -F` (documented in the user guide). */
export declare const RUN_EXIT: Record<ShutdownReason | 'destroyed', number>;
export interface CreateOptions {
    /** -c: show the console (from the first byte: the domain is created paused until it is attached). */
    readonly console?: boolean;
    /** -p: leave the domain paused. */
    readonly paused?: boolean;
    /** -F: stay until the domain is gone for good; the exit status says how it ended. */
    readonly foreground?: boolean;
    /** The terminal types into the console and Ctrl-] detaches (create -c); otherwise Ctrl-C shuts the guest down (run). */
    readonly keyboard?: boolean;
    /** Only the guest's console: no notes. */
    readonly quiet?: boolean;
}
export declare function createDomain(ts: Toolstack, file: string, o: CreateOptions): Promise<number>;
