import type { Hypercalls } from '../hypervisor/hypercalls.js';
import { BoundPort } from '../hypervisor/port.js';
import type { UpcallLoop } from '../hypervisor/upcall.js';
export interface EventChannels {
    /** EVTCHNOP_alloc_unbound for `remoteDom` to bind to; events arrive on the returned port. */
    allocUnbound(remoteDom: number): Promise<BoundPort>;
    /** EVTCHNOP_bind_interdomain to a port `remoteDom` offered us. */
    bindInterdomain(remoteDom: number, remotePort: number): Promise<BoundPort>;
}
export declare function eventChannels(hc: Hypercalls, loop: UpcallLoop): EventChannels;
/** What a split driver needs from the domain it runs in. */
export interface DriverContext {
    readonly hc: Hypercalls;
    readonly evtchn: EventChannels;
    readonly xs: import('../xenstore/client/client.js').XenstoreClient;
    readonly log?: (line: string) => void;
}
