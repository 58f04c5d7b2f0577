/** Byte offsets in the sring header (struct <name>_sring). */
export declare const SRING_REQ_PROD = 0;
export declare const SRING_REQ_EVENT = 4;
export declare const SRING_RSP_PROD = 8;
export declare const SRING_RSP_EVENT = 12;
/** union pvt (4 bytes; netif's smartpoll_active lives here), then uint8_t __pad[44]. */
export declare const SRING_PVT = 16;
export declare const SRING_PAD = 20;
/** offsetof(struct <name>_sring, ring): the first slot. */
export declare const SRING_RING = 64;
/**
 * __RING_SIZE: the number of slots of `slotSize` bytes (sizeof the union <name>_sring_entry) that
 * fit in `bytes` of ring memory after the header, rounded down to a power of two so an index can
 * be masked. 0 when not even one slot fits.
 */
export declare function ringSize(bytes: number, slotSize: number): number;
/**
 * SHARED_RING_INIT: empty ring, both event thresholds at 1 so the first message notifies, pvt
 * and padding zeroed. Only the frontend does this; a backend attaches to what it finds.
 */
export declare function sharedRingInit(bytes: Uint8Array): void;
/** What the front and back halves share: the ring memory, its geometry and the header. */
declare abstract class RingHalf {
    #private;
    /** The ring memory (header and slots), as given. */
    readonly bytes: Uint8Array;
    /** A DataView over `bytes`, for encoding and decoding slots at `slotOffset(idx)`. */
    readonly view: DataView;
    /** sizeof(union <name>_sring_entry). */
    readonly slotSize: number;
    /** RING_SIZE: the number of slots, a power of two. */
    readonly nrEnts: number;
    protected readonly words: Int32Array;
    constructor(bytes: Uint8Array, slotSize: number);
    /** Byte offset in `bytes` of the slot for ring index `idx` (RING_GET_REQUEST/RESPONSE). */
    slotOffset(idx: number): number;
    /** The slot for `idx` as a view of shared memory: for producers to fill in place. */
    slot(idx: number): Uint8Array;
    get reqProd(): number;
    get reqEvent(): number;
    get rspProd(): number;
    get rspEvent(): number;
    /** RING_COPY_*: one read of the slot into private memory, which is then the only copy used. */
    protected copySlot(idx: number, dst: Uint8Array): void;
    protected checkWakeAfter(wakeAfter: number): void;
}
/** The front end: produces requests, consumes responses. */
export declare class FrontRing extends RingHalf {
    #private;
    /** FRONT_RING_ATTACH at index `start` (FRONT_RING_INIT when 0); the shared header is left alone. */
    constructor(bytes: Uint8Array, slotSize: number, start?: number);
    /** XEN_FRONT_RING_INIT: SHARED_RING_INIT, then FRONT_RING_INIT. */
    static create(bytes: Uint8Array, slotSize: number): FrontRing;
    /** req_prod_pvt: the next request index to fill; published by pushRequests*. Wraps at 2^32. */
    get reqProdPvt(): number;
    set reqProdPvt(v: number);
    /** rsp_cons: the next response index to consume. Wraps at 2^32. */
    get rspCons(): number;
    set rspCons(v: number);
    /** RING_FREE_REQUESTS */
    freeRequests(): number;
    /** RING_FULL */
    full(): boolean;
    /** RING_HAS_UNCONSUMED_RESPONSES: the count (0 when none), as the macro gives it. */
    hasUnconsumedResponses(): number;
    /** RING_RESPONSE_PROD_OVERFLOW: could a well-behaved backend have published `prod`? */
    responseProdOverflow(prod: number): boolean;
    /** RING_COPY_RESPONSE into `dst` (at least slotSize bytes). */
    copyResponse(idx: number, dst: Uint8Array): void;
    /** RING_PUSH_REQUESTS */
    pushRequests(): void;
    /** RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: true when the backend must be sent an event. */
    pushRequestsAndCheckNotify(): boolean;
    /**
     * RING_FINAL_CHECK_FOR_RESPONSES: true if responses are waiting; otherwise ask to be woken by
     * the next one and look again (closing the race with a backend that pushed meanwhile).
     * `wakeAfter` > 1 is the batching variant ring.h suggests writing: be woken only when that
     * many responses are out, which the caller must know to be outstanding.
     */
    finalCheckForResponses(wakeAfter?: number): boolean;
}
/** The back end: consumes requests, produces responses. Everything the front wrote is hostile. */
export declare class BackRing extends RingHalf {
    #private;
    /** BACK_RING_ATTACH at index `start` (BACK_RING_INIT when 0); the shared header is left alone. */
    constructor(bytes: Uint8Array, slotSize: number, start?: number);
    /** rsp_prod_pvt: the next response index to fill; published by pushResponses*. Wraps at 2^32. */
    get rspProdPvt(): number;
    set rspProdPvt(v: number);
    /** req_cons: the next request index to consume. Wraps at 2^32. */
    get reqCons(): number;
    set reqCons(v: number);
    /**
     * RING_HAS_UNCONSUMED_REQUESTS: the count (0 when none). Bounded by the free response slots
     * (ring.h's min()), so a req_prod far beyond the ring never yields more than nrEnts.
     */
    hasUnconsumedRequests(): number;
    /** RING_REQUEST_CONS_OVERFLOW: would consuming index `cons` overrun unanswered requests? */
    requestConsOverflow(cons: number): boolean;
    /** RING_REQUEST_PROD_OVERFLOW: could a well-behaved frontend have published `prod`? */
    requestProdOverflow(prod: number): boolean;
    /** What a backend says as it halts on a req_prod that requestProdOverflow refused. */
    requestProdOverflowMessage(prod: number): string;
    /** RING_COPY_REQUEST into `dst` (at least slotSize bytes): validate the copy, never the slot. */
    copyRequest(idx: number, dst: Uint8Array): void;
    /** RING_PUSH_RESPONSES */
    pushResponses(): void;
    /** RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: true when the frontend must be sent an event. */
    pushResponsesAndCheckNotify(): boolean;
    /**
     * RING_FINAL_CHECK_FOR_REQUESTS: true if requests are waiting; otherwise ask to be woken by
     * the next one (or, with `wakeAfter` > 1, the next that many) and look again.
     */
    finalCheckForRequests(wakeAfter?: number): boolean;
}
export {};
