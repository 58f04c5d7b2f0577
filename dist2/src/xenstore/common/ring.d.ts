/**
 * One end of an event channel as a transport sees it: the xenstore ring of a domain is
 * signalled through one of these (in Xen, the port given in XS_INTRODUCE).
 */
export interface EventPort {
    /** Send an event to the other end (EVTCHNOP_send). */
    notify(): void;
    /** Call `handler` on every event from the other end; returns a function that unsubscribes. */
    onEvent(handler: () => void): () => void;
    /** Close this end (EVTCHNOP_close); no more events are delivered. */
    close(): void;
}
/** A guest's xenstore ring as either end gets it: the mapped 4 KiB page and its event channel. */
export interface DomainRing {
    /** The guest's struct xenstore_domain_interface page (4096 bytes, shared with the guest). */
    page: Uint8Array;
    evtchn: EventPort;
}
export declare const W_REQ_CONS: number;
export declare const W_REQ_PROD: number;
export declare const W_RSP_CONS: number;
export declare const W_RSP_PROD: number;
export declare const W_FEATURES: number;
export declare const W_CONNECTION: number;
export declare const W_ERROR: number;
/** The xs_wire.h name of a ring `error` value (for messages). */
export declare function ringErrorName(code: number): string;
/** A FIFO of byte chunks waiting for room in the ring we produce into. */
declare class Backlog {
    #private;
    bytes: number;
    push(b: Uint8Array): void;
    /** Copy up to `room` bytes into `dst` at ring offset `prod`; returns the count. */
    drainInto(data: Uint8Array, prod: number, room: number): number;
    clear(): void;
}
/**
 * One end of the page: consumes one byte ring and produces into the other. The server end
 * consumes `req` and produces `rsp`; the client end the opposite.
 */
export declare abstract class RingEnd {
    #private;
    protected readonly words: Uint32Array;
    protected readonly port: DomainRing['evtchn'];
    /** Private copies of the two indices this end owns. */
    protected myInCons: number;
    protected myOutProd: number;
    protected readonly backlog: Backlog;
    /** Set once the ring may no longer be used (peer broke it, or it was closed). */
    protected stopped: boolean;
    constructor(ring: DomainRing, inIsReq: boolean);
    protected listen(): void;
    protected unlisten(): void;
    /** Handle an event (or a deferred pass): the subclass checks control fields, then calls pump(). */
    protected abstract service(): void;
    /** The peer broke the ring (impossible indices). */
    protected abstract broken(code: number, why: string): void;
    /** Bytes arrived from the peer. */
    protected abstract deliver(bytes: Uint8Array): void;
    /** Whether to take more input now (flow control). */
    protected wantInput(): boolean;
    /** Re-read our own indices from the page after a reset. */
    protected resync(): void;
    /** Queue bytes for the peer and write what fits now. */
    protected enqueue(bytes: Uint8Array): void;
    /** Move backlog into the out ring. */
    protected flushOut(): void;
    /** Take what the peer produced. */
    protected fillIn(): void;
    /** One pass both ways: room the peer made first, then its input (which may answer at once). */
    protected pump(): void;
    /** Coalesce notifications: many writes in one turn cost the peer one wake-up. */
    protected queueNotify(): void;
    protected queuePass(): void;
    protected readWord(w: number): number;
    protected writeWord(w: number, v: number): void;
}
export {};
