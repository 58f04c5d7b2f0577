import type { BackRing } from '../../../abi/ring.js';
import type { Hypercalls } from '../../../hypervisor/hypercalls.js';
/** What the frontend chose (struct xenvif_hash), and the queue each frame goes to. */
export declare class QueueSelector {
    #private;
    readonly numQueues: number;
    algorithm: number;
    flags: number;
    readonly key: Uint8Array<ArrayBuffer>;
    /** The hash-to-queue table; empty means hash modulo the queue count. */
    mapping: Uint32Array<ArrayBuffer>;
    constructor(numQueues: number);
    /**
     * The frontend's Toeplitz hash of the last frame select() saw: its type as the HASH
     * extra-info carries it (a _XEN_NETIF_CTRL_HASH_TYPE_* bit number), or -1 when there is
     * none (no Toeplitz chosen, or none of the chosen header types matched); and its value.
     */
    hashType: number;
    hashValue: number;
    /** The queue for a frame to the guest: the frontend's hash when set, else a flow hash of our own. */
    select(frame: Uint8Array): number;
}
export interface CtrlRingOptions {
    readonly ring: BackRing;
    readonly hc: Hypercalls;
    readonly frontendId: number;
    readonly selector: QueueSelector;
    readonly notify: () => void;
    readonly onFatal: (why: string) => void;
}
/** xenvif_ctrl_action: one request at a time, answered in order. */
export declare class CtrlRing {
    #private;
    constructor(o: CtrlRingOptions);
    service(): void;
    stop(): void;
}
