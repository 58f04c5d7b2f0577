import { type NetifCtrlRequest, type NetifCtrlResponse, type NetifExtraInfo, type NetifRxResponse, type NetifTxRequest, type NetifTxResponse } from '../../src/abi/netif.js';
import { FrontRing } from '../../src/abi/ring.js';
import { XenbusState } from '../../src/abi/xenbus.js';
import type { DriverContext } from '../../src/drivers/evtchn.js';
import type { BoundPort } from '../../src/hypervisor/port.js';
import type { Hypercalls } from '../../src/hypervisor/hypercalls.js';
import type { XenstoreClient } from '../../src/xenstore/client/client.js';
/**
 * Create a vif's backend and frontend nodes as libxl does (backend `nodes` added or
 * overriding) and wait for the backend domain's daemon to report hotplug-status.
 */
export declare function createVif(xs0: XenstoreClient, domid: number, devid: number, nodes?: Record<string, string>): Promise<void>;
/** createVif's xenstore transaction alone (libxl's part of a network-attach); returns the backend path. */
export declare function writeVifNodes(xs0: XenstoreClient, domid: number, devid: number, nodes?: Record<string, string>): Promise<string>;
/** The guest a RawNetFront runs in. */
export interface RawNetGuest {
    readonly domid: number;
    readonly hc: Hypercalls;
    readonly ctx: DriverContext;
}
export interface RawNetFrontOptions {
    readonly devid?: number;
    /** Event channels per direction (feature-split-event-channels). */
    readonly split?: boolean;
    readonly queues?: number;
    readonly ctrl?: boolean;
    /** Frontend keys to write besides the rings (default: request-rx-copy, rx-notify, sg, gso). */
    readonly keys?: Record<string, string>;
    /** The state that says the rings are ready (Linux netfront says Connected). */
    readonly ready?: XenbusState;
    /** Do not wait for the backend to connect. */
    readonly noWait?: boolean;
}
interface RawQueue {
    readonly tx: FrontRing;
    readonly rx: FrontRing;
    readonly txPort: BoundPort;
    readonly rxPort: BoundPort;
}
/** A frame as a RawNetFront got it: its bytes, its first response's flags and status, its extra-infos. */
export interface ReceivedFrame {
    readonly frame: Uint8Array;
    readonly flags: number;
    readonly status: number;
    readonly gso?: NetifExtraInfo;
    readonly hash?: NetifExtraInfo;
}
/** A tx slot as the test means it: a request, or an extra-info. */
export type TxSlot = NetifTxRequest | {
    readonly extra: NetifExtraInfo;
};
/** A frontend written by hand: it puts whatever the test says on the rings. */
export declare class RawNetFront {
    #private;
    readonly g: RawNetGuest;
    readonly queues: RawQueue[];
    readonly txResponses: NetifTxResponse[];
    readonly rxResponses: NetifRxResponse[];
    ctrlRing: FrontRing | null;
    ctrlPort: BoundPort | null;
    readonly ctrlResponses: NetifCtrlResponse[];
    readonly fe: string;
    readonly be: string;
    /** Pages of guest RAM granted to dom0, by gref: tx data and rx buffers. */
    readonly pages: Map<number, Uint8Array<ArrayBufferLike>>;
    /** Called after every round of collecting responses (a bench reposts and refills here). */
    onCollect: (() => void) | null;
    /** rx request id -> gref of the buffer posted with it. */
    readonly rxPosted: Map<number, number>;
    private constructor();
    /** Write the rings' keys and say ready; `xs0` (dom0's client) waits for the backend to connect. */
    static connect(xs0: XenstoreClient, g: RawNetGuest, o?: RawNetFrontOptions): Promise<RawNetFront>;
    /** Wait until `cond` holds after a round of responses. */
    until(cond: () => boolean, what: string): Promise<void>;
    /** A page of guest RAM granted to dom0, holding `data` at `offset`. */
    page(data?: Uint8Array, offset?: number, readonly?: boolean): number;
    /** Put `slots` on queue `q`'s tx ring as given, push and notify. */
    sendSlots(slots: readonly TxSlot[], q?: number): void;
    /** Put `slots` on queue `q`'s tx ring as given, unpublished until pushTx. */
    putSlots(slots: readonly TxSlot[], q?: number): void;
    /** Publish queue `q`'s tx requests and notify netback if it asked. */
    pushTx(q?: number): void;
    /** The slots of `frame` as netfront lays it out: pieces of at most `chunk` bytes, each on its own page. */
    frameSlots(frame: Uint8Array, opts?: {
        id?: number;
        flags?: number;
        chunk?: number;
        extras?: NetifExtraInfo[];
    }): TxSlot[];
    send(frame: Uint8Array, opts?: Parameters<RawNetFront['frameSlots']>[1], q?: number): void;
    /** Post `n` rx buffers on queue `q` (fresh writable pages, or the grefs given). */
    postRx(n: number, q?: number, grefs?: readonly number[]): void;
    /** The frames received so far (rx responses chained by more_data), with their first flags and extra-infos (GSO, HASH). */
    received(): ReceivedFrame[];
    ctrl(req: NetifCtrlRequest): Promise<NetifCtrlResponse>;
}
/** An Ethernet II frame of `len` bytes from `src` to `dst`, its payload a pattern of `salt`. */
export declare function frameOf(len: number, src: string, dst?: string, salt?: number, type?: number): Uint8Array;
export {};
