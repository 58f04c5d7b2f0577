import { type NetFrameInfo } from '../../../abi/netif.js';
import { XenbusState } from '../../../abi/xenbus.js';
import type { PortDevice, PortFeatures, VirtualSwitch } from '../../../network/port.js';
import type { DriverContext } from '../../evtchn.js';
import { type NetRate } from '../protocol.js';
import { type NetbackStats } from './stats.js';
export interface NetbackOptions {
    /** multi-queue-max-queues (default 4). */
    readonly maxQueues?: number;
    /**
     * Let every vif send from any MAC (the switch checks the source against `mac` otherwise).
     * One vif is let off by its backend node locking-mode=unlocked (see VIF_BACKEND_XS).
     */
    readonly macSpoof?: boolean;
}
export declare class NetBack implements PortDevice {
    #private;
    readonly dir: string;
    readonly frontendId: number;
    readonly frontendDir: string;
    readonly handle: number;
    readonly name: string;
    readonly stats: NetbackStats;
    private constructor();
    /**
     * Serve the vif at backend directory `dir` (which the toolstack created, with frontend-id,
     * frontend and handle), plugging it into `sw` once connected.
     */
    static start(ctx: DriverContext, dir: string, sw: VirtualSwitch, opts?: NetbackOptions): Promise<NetBack>;
    get state(): XenbusState;
    get connected(): boolean;
    /** Why the vif was disabled (the frontend broke the ring rules), or null. */
    get disabled(): string | null;
    get queues(): number;
    get features(): PortFeatures;
    deliver(frame: Uint8Array, info: NetFrameInfo): boolean;
    /** The rate each queue's transmit runs at now (null: unlimited). */
    get rate(): NetRate | null;
    /** Take the device away: disconnect and stop following the frontend. */
    close(): Promise<void>;
}
