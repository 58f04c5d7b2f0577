import type { Hypercalls } from './hypercalls.js';
import type { UpcallLoop } from './upcall.js';
export declare class BoundPort {
    #private;
    readonly hypercalls: Hypercalls;
    readonly loop: UpcallLoop;
    readonly port: number;
    constructor(hypercalls: Hypercalls, loop: UpcallLoop, port: number);
    notify(): void;
    /** Whether an event is due soon on this port (requests in flight): the vCPU may poll for it. */
    expectEvents(on: boolean): void;
    onEvent(handler: () => void): () => void;
    /** Stop delivering events; `closeChannel` also frees the port (EVTCHNOP_close). */
    close(closeChannel?: boolean): void;
}
/** Bind to a port another domain offered us (EVTCHNOP_bind_interdomain). */
export declare function bindInterdomain(hc: Hypercalls, loop: UpcallLoop, remoteDom: number, remotePort: number): Promise<BoundPort>;
