import { type BlkifRequest } from '../../../abi/blkif.js';
import { FrontRing } from '../../../abi/ring.js';
import type { Hypercalls } from '../../../hypervisor/hypercalls.js';
import type { BoundPort } from '../../../hypervisor/port.js';
import { type GrantedRing } from '../../ringpages.js';
export declare class FrontQueue<S> {
    #private;
    readonly ring: FrontRing;
    readonly granted: GrantedRing;
    readonly port: BoundPort;
    private constructor();
    /** A fresh ring of 2^order pages granted to `backend`, and an unbound port for it. */
    static create<S>(hc: Hypercalls, allocUnbound: (d: number) => Promise<BoundPort>, backend: number, order: number): Promise<FrontQueue<S>>;
    get hasRoom(): boolean;
    /** Requests published and not yet answered. */
    get inFlight(): number;
    /** Put a request in the next slot; `req.id` is replaced by the shadow slot's id. Published by flush(). */
    post(req: BlkifRequest, shadow: S): void;
    /**
     * RING_PUSH_REQUESTS_AND_CHECK_NOTIFY for everything posted since the last flush; true if
     * responses are waiting to be polled.
     */
    flush(): boolean;
    /**
     * Hand every response to `done` with its shadow, then ask to be woken when about half of
     * what is still in flight has been answered (one wake-up per batch instead of one per
     * response: DESIGN.md §10). Throws EIO if the backend misbehaves.
     */
    poll(done: (shadow: S, operation: number, status: number) => void): void;
    /** The shadows of every request in flight, taken out of the ring (the connection is going). */
    takeInFlight(): S[];
}
