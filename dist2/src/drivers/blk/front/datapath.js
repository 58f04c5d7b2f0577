// blkfront's data path: guest I/O cut into ring requests (./requests.ts), a shadow entry per
// request in flight (./queue.ts), I/O pages granted to the backend (./pages.ts), and
// completion. The xenbus lifecycle (./blkfront.ts) hands it the rings it connected and takes
// them back when the connection goes; everything that can issue requests (new I/O, responses
// that free room, a grown grant table, a connection) asks for it through one entry, #kick, so
// all that is ready in one turn of the event loop goes out in one push.
import { BLKIF_MAX_SEGMENTS_PER_REQUEST, BLKIF_OP_DISCARD, BLKIF_OP_INDIRECT, BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_RSP_EOPNOTSUPP, BLKIF_RSP_OKAY, BLKIF_SEGMENT_SIZE, BLKIF_SEGS_PER_INDIRECT_FRAME, blkifIndirectPages, encodeBlkifSegment, } from '../../../abi/blkif.js';
import { PAGE_SIZE } from '../../../abi/xen.js';
import { revokeRing } from '../../ringpages.js';
import { oncePerTurn } from '../../turn.js';
import { defaultPersistentLimit } from '../protocol.js';
import { Disconnected, IoError } from './errors.js';
import { FrontPages } from './pages.js';
import { FrontQueue } from './queue.js';
import { copySg, inPagesOf, lastSect, pageAddresses, sectorAt, segmentCount, spans } from './requests.js';
import { SuspendGate } from '../../quiesce.js';
const NO_PAGES = Object.freeze([]);
export class FrontDatapath {
    #ctx;
    #vdev;
    #handle;
    #pages;
    /** The connection is gone for good; the lifecycle is told through this. */
    #onBroken;
    #queues = [];
    /** Rings whose pages the backend still mapped when the connection went. */
    #deadRings = [];
    #work = [];
    #rr = 0;
    /** Bytes one request carries (segments negotiated times a page). */
    #maxBytes = 0;
    /** Rings are connected: the pump may issue. */
    #open = false;
    #closed = false;
    /** The one way into the pump: once per turn of the event loop, whoever asks. */
    #kick = oncePerTurn(() => this.#pump());
    /** A GNTTABOP_setup_table is under way. */
    #growing = false;
    #growFailed = false;
    #onDrained = null;
    /** Held for a suspend: nothing new is issued; resolved once nothing is in flight. */
    #gate = new SuspendGate();
    /**
     * The request and segments #issue fills in for a read or write (segs[n] holds n segments):
     * post() encodes them into the slot at once, so nothing is allocated for them per I/O.
     */
    #req = { kind: 'segments', operation: 0, nrSegments: 0, handle: 0, id: 0n, sectorNumber: 0, seg: [] };
    #segs = Array.from({ length: BLKIF_MAX_SEGMENTS_PER_REQUEST + 1 }, (_, n) => Array.from({ length: n }, () => ({ gref: 0, firstSect: 0, lastSect: 0 })));
    #done = (s, operation, status) => this.#complete(s, operation, status);
    constructor(ctx, vdev, devid, onBroken) {
        this.#ctx = ctx;
        this.#vdev = vdev;
        this.#handle = devid & 0xffff;
        this.#pages = new FrontPages(ctx.hc);
        this.#onBroken = onBroken;
    }
    /** Persistent grants given to the current backend. */
    get persistentGrants() {
        return this.#pages.persistentGrants;
    }
    get inFlight() {
        let n = 0;
        for (const q of this.#queues)
            n += q.inFlight;
        return n;
    }
    /** Grant `nq` rings of 2^order pages to `backendId` and bind their event channels. */
    async connectRings(backendId, persistent, order, nq) {
        const { hc, evtchn } = this.#ctx;
        this.#pages.connect(backendId, persistent);
        for (let i = 0; i < nq; i++) {
            const q = await FrontQueue.create(hc, (d) => evtchn.allocUnbound(d), backendId, order);
            q.port.onEvent(() => this.#onEvent(q));
            this.#queues.push(q);
        }
        return this.#queues.map((q) => ({ refs: q.granted.refs, port: q.port.port }));
    }
    /** The backend is connected: requests carry up to `maxSegments` pages; issue what waits. */
    start(maxSegments, backendIndirect) {
        this.#maxBytes = maxSegments * PAGE_SIZE;
        // The pool blkback keeps by default for what it offered (protocol.ts), whatever we use of it.
        this.#pages.limitDirect(defaultPersistentLimit(this.#queues[0].ring.nrEnts, backendIndirect));
        this.#open = true;
        this.#kick();
    }
    /** Queue an I/O the lifecycle has checked (requests.ts checkIo); it is issued once a ring has room. */
    submit(op, sector, bufs, bytes, count, secure) {
        return new Promise((resolve, reject) => {
            const rw = op === BLKIF_OP_READ || op === BLKIF_OP_WRITE;
            const parts = rw ? spans(0, bytes, this.#maxBytes) : [{ offset: 0, len: bytes }];
            const direct = rw && inPagesOf(this.#ctx.hc.memory.buffers.memory, bufs);
            const io = { op, sector, bufs, direct, count, secure, chunksLeft: parts.length, error: null, resolve, reject };
            for (const p of parts)
                this.#work.push({ io, offset: p.offset, len: p.len });
            this.#kick();
        });
    }
    /**
     * The connection is gone: stop listening, take the requests out of the rings (to issue again
     * if `recover`, else to fail), revoke the grants the backend no longer maps.
     */
    teardown(recover) {
        const hc = this.#ctx.hc;
        const again = [];
        for (const q of this.#queues) {
            q.port.close();
            for (const s of q.takeInFlight()) {
                for (const p of s.pages)
                    this.#pages.abandon(p);
                for (const p of s.indirect)
                    this.#pages.abandon(p);
                again.push(s.chunk);
            }
            if (!revokeRing(hc, q.granted))
                this.#deadRings.push(q.granted);
        }
        this.#queues = [];
        this.#open = false;
        this.#pages.revokeAll();
        if (recover)
            this.#work.unshift(...again);
        else
            for (const c of again)
                this.#chunkDone(c, new Disconnected(`${this.#vdev}: the backend disconnected`));
        this.#onDrained?.();
    }
    /** Retry what an earlier connection left granted; the current connection's grants stay. */
    retryRevoke() {
        this.#deadRings = this.#deadRings.filter((r) => !revokeRing(this.#ctx.hc, r));
        this.#pages.retryRevoking();
    }
    /** For a suspend: issue nothing new; resolves once every request in flight is answered. */
    quiesce() {
        return this.#gate.quiesce(this.inFlight);
    }
    /** After a suspend that was cancelled (the domain runs on in place): issue what waited. */
    release() {
        this.#gate.release();
        this.#kick();
    }
    /** Fail what waits for a ring with `err`; resolves once nothing is in flight. */
    drain(err) {
        for (const c of this.#work.splice(0))
            this.#chunkDone(c, err);
        if (this.inFlight === 0)
            return Promise.resolve();
        return new Promise((resolve) => (this.#onDrained = resolve));
    }
    /** The device is gone for good: tear down and fail everything with `err`. */
    close(err) {
        this.teardown(false);
        this.#closed = true;
        for (const c of this.#work.splice(0))
            this.#chunkDone(c, err);
    }
    /** Issue waiting chunks while a ring has room and pages can be had; publish them. */
    #pump() {
        if (!this.#open || this.#gate.held)
            return;
        const queues = this.#queues;
        while (this.#work.length > 0) {
            let q;
            for (let i = 0; i < queues.length && !q; i++) {
                const c = queues[(this.#rr + i) % queues.length];
                if (c.hasRoom)
                    q = c;
            }
            if (!q)
                break;
            this.#rr = (this.#rr + 1) % queues.length;
            const chunk = this.#work[0];
            if (chunk.len > this.#maxBytes) {
                // Issued again after a reconnection that negotiated smaller requests.
                const parts = spans(chunk.offset, chunk.len, this.#maxBytes);
                this.#work.splice(0, 1, ...parts.map((p) => ({ io: chunk.io, offset: p.offset, len: p.len })));
                chunk.io.chunksLeft += parts.length - 1;
                continue;
            }
            if (!this.#issue(q, chunk)) {
                if (this.#pages.tableFull && this.#growTable())
                    break; // kicked again once it has grown
                if (this.inFlight > 0)
                    break; // pages come back with the responses
                this.#work.shift();
                this.#chunkDone(chunk, new IoError(`${this.#vdev}: out of I/O memory for a ${chunk.len}-byte request (raise memory=)`));
                continue;
            }
            this.#work.shift();
        }
        for (const c of queues)
            if (c.flush())
                queueMicrotask(() => this.#onEvent(c));
    }
    /**
     * Grow the grant table (GNTTABOP_setup_table, up to its maximum) as Linux's gnttab_expand
     * does, then issue what waits; false if it cannot grow.
     */
    #growTable() {
        if (this.#growing)
            return true;
        const hc = this.#ctx.hc;
        const { nrFrames, maxNrFrames } = hc.grantQuerySize();
        if (nrFrames >= maxNrFrames || this.#growFailed)
            return false;
        this.#growing = true;
        hc.grantSetupTable(Math.min(maxNrFrames, nrFrames * 2)).then(() => {
            this.#growing = false;
            this.#kick();
        }, (e) => {
            this.#growing = false;
            this.#growFailed = true;
            this.#ctx.log?.(`blkfront ${this.#vdev}: growing the grant table failed: ${e.message}`);
            this.#kick();
        });
        return true;
    }
    /** Put one chunk on `q`; false if pages ran out. */
    #issue(q, chunk) {
        const io = chunk.io;
        const handle = this.#handle;
        if (io.op !== BLKIF_OP_READ && io.op !== BLKIF_OP_WRITE) {
            const shadow = { chunk, operation: io.op, direct: false, pages: NO_PAGES, indirect: NO_PAGES };
            if (io.op === BLKIF_OP_DISCARD) {
                q.post({ kind: 'discard', operation: BLKIF_OP_DISCARD, flag: io.secure ? 1 : 0, handle, id: 0n, sectorNumber: io.sector, nrSectors: io.count }, shadow);
            }
            else {
                q.post({ kind: 'segments', operation: io.op, nrSegments: 0, handle, id: 0n, sectorNumber: 0, seg: [] }, shadow);
            }
            return true;
        }
        const nseg = segmentCount(chunk.len);
        const indirect = nseg > BLKIF_MAX_SEGMENTS_PER_REQUEST;
        const reading = io.op === BLKIF_OP_READ;
        const ownPages = io.direct ? this.#guestPages(chunk, nseg, reading) : null;
        const direct = ownPages !== null;
        const pages = ownPages ?? this.#take(nseg, reading);
        if (!pages)
            return false;
        const ind = indirect ? this.#take(blkifIndirectPages(nseg), false) : NO_PAGES;
        if (!ind) {
            for (const p of pages)
                this.#pages.put(p);
            return false;
        }
        if (!direct && !reading)
            copySg(io.bufs, chunk.offset, pages, chunk.len, true);
        const sectorNumber = sectorAt(io.sector, chunk.offset);
        const shadow = { chunk, operation: indirect ? BLKIF_OP_INDIRECT : io.op, direct, pages, indirect: ind };
        // Direct segments go into the reused request; indirect ones, one at a time, into their pages.
        const segs = indirect ? null : this.#segs[nseg];
        const seg = segs ? null : { gref: 0, firstSect: 0, lastSect: 0 };
        for (let i = 0; i < nseg; i++) {
            const s = segs ? segs[i] : seg;
            s.gref = pages[i].ref;
            s.lastSect = lastSect(chunk.len, i);
            if (!segs)
                encodeBlkifSegment(ind[Math.floor(i / BLKIF_SEGS_PER_INDIRECT_FRAME)].view, (i % BLKIF_SEGS_PER_INDIRECT_FRAME) * BLKIF_SEGMENT_SIZE, s);
        }
        if (segs) {
            const req = this.#req;
            req.operation = io.op;
            req.nrSegments = nseg;
            req.handle = handle;
            req.sectorNumber = sectorNumber;
            req.seg = segs;
            q.post(req, shadow);
            return true;
        }
        q.post({
            kind: 'indirect', operation: BLKIF_OP_INDIRECT, indirectOp: io.op, nrSegments: nseg, handle, id: 0n, sectorNumber,
            indirectGrefs: ind.map((p) => p.ref),
        }, shadow);
        return true;
    }
    /** The guest frames under `chunk`, granted; null to use bounce pages instead (see FrontPages.direct). */
    #guestPages(chunk, nseg, backendWrites) {
        const addrs = pageAddresses(chunk.io.bufs, chunk.offset, nseg);
        const out = new Array(nseg);
        for (let i = 0; i < nseg; i++) {
            let p;
            try {
                p = this.#pages.direct(addrs[i] / PAGE_SIZE, backendWrites);
            }
            catch {
                p = null; // a frame that cannot be granted: bounce pages still work
            }
            if (!p) {
                for (let j = 0; j < i; j++)
                    this.#pages.put(out[j]);
                return null;
            }
            out[i] = p;
        }
        return out;
    }
    #take(n, backendWrites) {
        const out = [];
        for (let i = 0; i < n; i++) {
            const p = this.#pages.take(backendWrites);
            if (!p) {
                for (const q of out)
                    this.#pages.put(q);
                return null;
            }
            out.push(p);
        }
        return out;
    }
    #onEvent(q) {
        if (this.#closed)
            return;
        try {
            q.poll(this.#done);
        }
        catch (e) {
            this.#ctx.log?.(`blkfront ${this.#vdev}: ${e.message}`);
            this.#onBroken(new IoError(`${this.#vdev}: ${e.message}`));
            return;
        }
        this.#kick();
        if (this.#onDrained && this.inFlight === 0)
            this.#onDrained();
        this.#gate.settled(this.inFlight);
    }
    #complete(s, operation, status) {
        const { chunk } = s;
        const io = chunk.io;
        let err = null;
        if (operation !== s.operation) {
            err = new IoError(`${this.#vdev}: backend answered operation ${operation} to a request of operation ${s.operation}`);
        }
        else if (status === BLKIF_RSP_OKAY) {
            if (io.op === BLKIF_OP_READ && !s.direct)
                copySg(io.bufs, chunk.offset, s.pages, chunk.len, false);
        }
        else {
            const unsupported = status === BLKIF_RSP_EOPNOTSUPP;
            err = new IoError(`${this.#vdev}: operation ${io.op} at sector ${io.sector} failed: ${unsupported ? 'BLKIF_RSP_EOPNOTSUPP' : 'BLKIF_RSP_ERROR'}`, unsupported);
        }
        for (let i = 0; i < s.pages.length; i++)
            this.#pages.put(s.pages[i]);
        for (let i = 0; i < s.indirect.length; i++)
            this.#pages.put(s.indirect[i]);
        this.#chunkDone(chunk, err);
    }
    #chunkDone(c, err) {
        const io = c.io;
        if (err)
            io.error ??= err;
        if (--io.chunksLeft > 0)
            return;
        if (io.error)
            io.reject(io.error);
        else
            io.resolve();
    }
}
//# sourceMappingURL=datapath.js.map