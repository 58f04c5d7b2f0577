// The xenstore ring (xen/io/xs_wire.h struct xenstore_domain_interface, docs/misc/xenstore-ring.txt):
// two 1024-byte byte rings with free-running u32 indices in a 4 KiB page shared between a guest
// and xenstored, signalled through an event channel. What both ends share lives here; the server
// end that xenstored runs for every introduced domain is server/ring.ts, the client end a guest's
// library OS uses is client/ring.ts.
//
// The page belongs to the peer as much as to us, so every index the peer writes is read once
// (Atomics.load into a local), checked, and only then used; the indices we own are kept in
// private copies and only ever stored to the page, so a peer that scribbles on them hurts itself.
import { XENSTORE_ERROR_COMM, XENSTORE_ERROR_PROTO, XENSTORE_ERROR_RINGIDX, XENSTORE_RING_SIZE, XS_INTF_CONNECTION, XS_INTF_ERROR, XS_INTF_REQ, XS_INTF_REQ_CONS, XS_INTF_REQ_PROD, XS_INTF_RSP, XS_INTF_RSP_CONS, XS_INTF_RSP_PROD, XS_INTF_SERVER_FEATURES, } from '../../abi/xs_wire.js';
import { PAGE_SIZE } from '../../abi/xen.js';
import { XenError } from '../../errors.js';
const MASK = XENSTORE_RING_SIZE - 1;
// Word indices of the control fields in a Uint32Array over the page.
export const W_REQ_CONS = XS_INTF_REQ_CONS >> 2;
export const W_REQ_PROD = XS_INTF_REQ_PROD >> 2;
export const W_RSP_CONS = XS_INTF_RSP_CONS >> 2;
export const W_RSP_PROD = XS_INTF_RSP_PROD >> 2;
export const W_FEATURES = XS_INTF_SERVER_FEATURES >> 2;
export const W_CONNECTION = XS_INTF_CONNECTION >> 2;
export const W_ERROR = XS_INTF_ERROR >> 2;
/**
 * Bytes moved from the peer's ring per service pass before yielding to the event loop, so a
 * guest that keeps its ring full cannot starve dom0 or the other domains.
 */
const MAX_BYTES_PER_PASS = 16 * XENSTORE_RING_SIZE;
const ERROR_NAMES = {
    [XENSTORE_ERROR_COMM]: 'XENSTORE_ERROR_COMM',
    [XENSTORE_ERROR_RINGIDX]: 'XENSTORE_ERROR_RINGIDX',
    [XENSTORE_ERROR_PROTO]: 'XENSTORE_ERROR_PROTO',
};
/** The xs_wire.h name of a ring `error` value (for messages). */
export function ringErrorName(code) {
    return ERROR_NAMES[code] ?? `error ${code}`;
}
function controlWords(page) {
    if (page.byteLength < PAGE_SIZE) {
        throw new XenError('EINVAL', `xenstore ring page is ${page.byteLength} bytes, need ${PAGE_SIZE}`);
    }
    if (page.byteOffset % 4 !== 0) {
        throw new XenError('EINVAL', 'xenstore ring page is not 4-byte aligned');
    }
    return new Uint32Array(page.buffer, page.byteOffset, PAGE_SIZE >> 2);
}
/** A FIFO of byte chunks waiting for room in the ring we produce into. */
class Backlog {
    #chunks = [];
    #head = 0; // offset already written from chunks[0]
    bytes = 0;
    push(b) {
        this.#chunks.push(b);
        this.bytes += b.byteLength;
    }
    /** Copy up to `room` bytes into `dst` at ring offset `prod`; returns the count. */
    drainInto(data, prod, room) {
        let done = 0;
        while (done < room && this.#chunks.length > 0) {
            const c = this.#chunks[0];
            const n = Math.min(room - done, c.byteLength - this.#head);
            copyIn(data, (prod + done) & MASK, c.subarray(this.#head, this.#head + n));
            done += n;
            this.#head += n;
            if (this.#head === c.byteLength) {
                this.#chunks.shift();
                this.#head = 0;
            }
        }
        this.bytes -= done;
        return done;
    }
    clear() {
        this.#chunks = [];
        this.#head = 0;
        this.bytes = 0;
    }
}
/** Write `src` (at most a ring's worth) into a ring at masked offset `at`, wrapping once. */
function copyIn(data, at, src) {
    const first = Math.min(src.byteLength, XENSTORE_RING_SIZE - at);
    data.set(first === src.byteLength ? src : src.subarray(0, first), at);
    if (first < src.byteLength)
        data.set(src.subarray(first), 0);
}
/** Copy `n` bytes out of a ring from masked offset `at` into private memory. */
function copyOut(data, at, n) {
    const out = new Uint8Array(n);
    const first = Math.min(n, XENSTORE_RING_SIZE - at);
    out.set(data.subarray(at, at + first), 0);
    if (first < n)
        out.set(data.subarray(0, n - first), first);
    return out;
}
/**
 * One end of the page: consumes one byte ring and produces into the other. The server end
 * consumes `req` and produces `rsp`; the client end the opposite.
 */
export class RingEnd {
    words;
    port;
    #inData;
    #outData;
    #inCons;
    #inProd;
    #outCons;
    #outProd;
    /** Private copies of the two indices this end owns. */
    myInCons;
    myOutProd;
    backlog = new Backlog();
    #unsubscribe;
    #notifyQueued = false;
    #passQueued = false;
    /** Set once the ring may no longer be used (peer broke it, or it was closed). */
    stopped = false;
    constructor(ring, inIsReq) {
        this.words = controlWords(ring.page);
        this.port = ring.evtchn;
        const page = ring.page;
        const req = page.subarray(XS_INTF_REQ, XS_INTF_REQ + XENSTORE_RING_SIZE);
        const rsp = page.subarray(XS_INTF_RSP, XS_INTF_RSP + XENSTORE_RING_SIZE);
        this.#inData = inIsReq ? req : rsp;
        this.#outData = inIsReq ? rsp : req;
        this.#inCons = inIsReq ? W_REQ_CONS : W_RSP_CONS;
        this.#inProd = inIsReq ? W_REQ_PROD : W_RSP_PROD;
        this.#outCons = inIsReq ? W_RSP_CONS : W_REQ_CONS;
        this.#outProd = inIsReq ? W_RSP_PROD : W_REQ_PROD;
        // Neither end may assume the indices start at zero (xenstore-ring.txt).
        this.myInCons = Atomics.load(this.words, this.#inCons);
        this.myOutProd = Atomics.load(this.words, this.#outProd);
    }
    listen() {
        this.#unsubscribe = this.port.onEvent(() => this.service());
    }
    unlisten() {
        this.#unsubscribe?.();
        this.#unsubscribe = undefined;
    }
    /** Whether to take more input now (flow control). */
    wantInput() {
        return true;
    }
    /** Re-read our own indices from the page after a reset. */
    resync() {
        this.myInCons = Atomics.load(this.words, this.#inCons);
        this.myOutProd = Atomics.load(this.words, this.#outProd);
        this.backlog.clear();
    }
    /** Queue bytes for the peer and write what fits now. */
    enqueue(bytes) {
        if (this.backlog.bytes > 0) {
            // Copy what we keep: the caller may reuse its buffer once we return.
            this.backlog.push(bytes.slice());
            this.flushOut();
            return;
        }
        const room = this.#room();
        if (room === undefined)
            return;
        const n = Math.min(room, bytes.byteLength);
        if (n > 0) {
            copyIn(this.#outData, this.myOutProd & MASK, bytes.subarray(0, n));
            this.#produced(n);
        }
        if (n < bytes.byteLength)
            this.backlog.push(bytes.slice(n));
    }
    /** Free bytes in the out ring, or undefined if the peer broke it. */
    #room() {
        if (this.stopped)
            return undefined;
        const cons = Atomics.load(this.words, this.#outCons);
        const used = (this.myOutProd - cons) >>> 0;
        if (used > XENSTORE_RING_SIZE) {
            this.broken(XENSTORE_ERROR_RINGIDX, `consumer index ${cons} is ${used} bytes behind producer`);
            return undefined;
        }
        return XENSTORE_RING_SIZE - used;
    }
    #produced(n) {
        this.myOutProd = (this.myOutProd + n) >>> 0;
        Atomics.store(this.words, this.#outProd, this.myOutProd);
        this.queueNotify();
    }
    /** Move backlog into the out ring. */
    flushOut() {
        if (this.backlog.bytes === 0)
            return;
        const room = this.#room();
        if (!room)
            return;
        const n = this.backlog.drainInto(this.#outData, this.myOutProd, room);
        if (n > 0)
            this.#produced(n);
    }
    /** Take what the peer produced. */
    fillIn() {
        let moved = 0;
        while (!this.stopped && moved < MAX_BYTES_PER_PASS && this.wantInput()) {
            const prod = Atomics.load(this.words, this.#inProd);
            const avail = (prod - this.myInCons) >>> 0;
            if (avail > XENSTORE_RING_SIZE) {
                this.broken(XENSTORE_ERROR_RINGIDX, `producer index ${prod} is ${avail} bytes ahead of consumer`);
                return;
            }
            if (avail === 0)
                return;
            const bytes = copyOut(this.#inData, this.myInCons & MASK, avail);
            this.myInCons = (this.myInCons + avail) >>> 0;
            Atomics.store(this.words, this.#inCons, this.myInCons);
            // The peer may be waiting for room.
            this.queueNotify();
            moved += avail;
            this.deliver(bytes);
        }
        // Stopped on the per-pass budget with input left: come back after other work had a turn.
        if (!this.stopped && moved >= MAX_BYTES_PER_PASS)
            this.queuePass();
    }
    /** One pass both ways: room the peer made first, then its input (which may answer at once). */
    pump() {
        this.flushOut();
        this.fillIn();
    }
    /** Coalesce notifications: many writes in one turn cost the peer one wake-up. */
    queueNotify() {
        if (this.#notifyQueued)
            return;
        this.#notifyQueued = true;
        queueMicrotask(() => {
            this.#notifyQueued = false;
            if (!this.stopped)
                this.port.notify();
        });
    }
    queuePass() {
        if (this.#passQueued)
            return;
        this.#passQueued = true;
        setImmediate(() => {
            this.#passQueued = false;
            this.service();
        });
    }
    readWord(w) {
        return Atomics.load(this.words, w);
    }
    writeWord(w, v) {
        Atomics.store(this.words, w, v);
    }
}
//# sourceMappingURL=ring.js.map