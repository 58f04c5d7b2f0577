import { type NetifExtraInfo, type NetifRxRequest, type NetifRxResponse, type NetifTxRequest } from '../../src/abi/netif.js';
import { BackRing } from '../../src/abi/ring.js';
import { NetFront, type NetfrontOptions } from '../../src/drivers/net/front/netfront.js';
import type { BoundPort } from '../../src/hypervisor/port.js';
import { XenstoreClient } from '../../src/xenstore/client/client.js';
import { DriverRig, type GuestSide } from './driver-rig.js';
export { within } from './hypervisor.js';
export type NetGuest = GuestSide;
/** What Linux netback offers. */
export declare const NETBACK_OFFER: Readonly<Record<string, string | number>>;
export declare class NetRig extends DriverRig {
    guest(ramFrames?: number): NetGuest;
    /** The device's nodes and a backend in InitWait offering `offer`. */
    backend(g: NetGuest, devid?: number, offer?: Readonly<Record<string, string | number>>, mac?: string): Promise<RawNetback>;
    /** netfront connecting while `back` answers the handshake; both resolve together. */
    connect(g: NetGuest, back: RawNetback, opts?: NetfrontOptions, devid?: number): Promise<NetFront>;
}
export declare class RawNetback {
    #private;
    readonly rig: NetRig;
    readonly g: NetGuest;
    readonly fe: string;
    readonly be: string;
    tx: BackRing;
    rx: BackRing;
    txPort: BoundPort;
    rxPort: BoundPort;
    queues: number;
    constructor(rig: NetRig, g: NetGuest, fe: string, be: string);
    get xs(): XenstoreClient;
    /** Wait for the frontend's Initialised, map queue 0's rings, bind its channels, go Connected. */
    attach(): Promise<void>;
    /** Let go of the rings and channels, as a backend that stops does. */
    detach(): void;
    /** Wait until the frontend has published `n` tx requests in all. */
    txPublished(n: number): Promise<void>;
    /** Consume the next tx slot as a request. */
    takeTx(): NetifTxRequest;
    /** Consume the next tx slot as an extra-info. */
    takeTxExtra(): NetifExtraInfo;
    /** The bytes a tx request points at. */
    txData(req: NetifTxRequest): Uint8Array;
    respondTx(id: number, status: number): void;
    pushTx(): void;
    /** The rx buffers posted and not yet taken. */
    rxPosted(): number;
    takeRx(): NetifRxRequest;
    /** Copy `data` into a posted buffer at `offset`. */
    fillRx(req: NetifRxRequest, offset: number, data: Uint8Array): void;
    respondRx(rsp: NetifRxResponse): void;
    /** An extra-info in the next rx response slot (its posted buffer is consumed unused). */
    rxExtra(info: NetifExtraInfo): void;
    pushRx(): void;
    /** One frame into single posted buffers, a slot per page, as netback's rx copy lays it out. */
    sendFrame(frame: Uint8Array, flags?: number): void;
}
/** A frame of `len` bytes: broadcast destination, source 00:16:3e:00:00:01, a pattern after. */
export declare function testFrame(len: number, salt?: number): Uint8Array;
