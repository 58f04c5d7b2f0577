// blkfront's data path: guest I/O cut into ring requests (./requests.ts), a shadow entry per
// request in flight (./queue.ts), I/O pages granted to the backend (./pages.ts), and
// completion. The xenbus lifecycle (./blkfront.ts) hands it the rings it connected and takes
// them back when the connection goes; everything that can issue requests (new I/O, responses
// that free room, a grown grant table, a connection) asks for it through one entry, #kick, so
// all that is ready in one turn of the event loop goes out in one push.
//
// In a shared cpupool every guest's copy of this code and its garbage share one pCPU thread, so
// an I/O allocates little here: the Promise the guest awaits and its resolvers, and one Io,
// which waits in the queue as its own first chunk. The ring slot's shadow and its page lists are
// made once per slot and reused; an I/O larger than a request is cut as it is issued.
import {
  BLKIF_MAX_SEGMENTS_PER_REQUEST, BLKIF_OP_DISCARD, BLKIF_OP_INDIRECT, BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_RSP_EOPNOTSUPP,
  BLKIF_RSP_OKAY, BLKIF_SEGMENT_SIZE, BLKIF_SEGS_PER_INDIRECT_FRAME, blkifIndirectPages, encodeBlkifSegment,
  type BlkifSegment,
} from '../../../abi/blkif.js';
import { PAGE_SIZE } from '../../../abi/xen.js';
import type { DriverContext } from '../../evtchn.js';
import { revokeRing, type GrantedRing } from '../../ringpages.js';
import { oncePerTurn } from '../../turn.js';
import { defaultPersistentLimit } from '../protocol.js';
import { Disconnected, IoError, type BlockError } from './errors.js';
import { FrontPages, type IoPage } from './pages.js';
import { FrontQueue } from './queue.js';
import { copySg, inPagesOf, lastSect, pageAddresses, sectorAt, segmentCount } from './requests.js';
import { SuspendGate } from '../../quiesce.js';

/** Bytes of an I/O waiting to be issued: `len` of them from byte `offset` of the I/O. */
interface Chunk {
  readonly io: Io;
  offset: number;
  len: number;
}

/**
 * One guest I/O. It waits in the queue as its own first chunk (most I/Os are one request, and
 * then nothing else is made for them); it completes when no part of it waits or is in flight.
 */
class Io implements Chunk {
  readonly io: Io = this;
  /** What still waits to be issued (the I/O's own extent at first): `len` bytes from byte `offset`. */
  offset = 0;
  len: number;
  /** Parts waiting in the queue or in flight: one at first, one more each time a request is cut off it. */
  parts = 1;
  error: BlockError | null = null;

  constructor(
    readonly op: number,
    readonly sector: number,
    readonly bufs: readonly Uint8Array[],
    /** Every buffer is whole pages of the guest's RAM (bar the last one's tail): grant them, copy nothing. */
    readonly direct: boolean,
    bytes: number,
    /** Discard: sectors; secure flag. */
    readonly count: number,
    readonly secure: boolean,
    readonly resolve: () => void,
    readonly reject: (e: BlockError) => void,
  ) {
    this.len = bytes;
  }
}

/** A ring slot's record of the request in it, filled in again by each request the slot carries. */
class Shadow {
  /** The I/O the request is part of; null while the slot is free. */
  io: Io | null = null;
  /** The part it carries: `len` bytes from byte `offset` of the I/O. */
  offset = 0;
  len = 0;
  operation = 0;
  /** The guest's own frames (nothing to copy back), or bounce pages. */
  direct = false;
  /** pages[0..npages) and indirect[0..nindirect) are this request's; the arrays only grow. */
  readonly pages: IoPage[] = [];
  npages = 0;
  readonly indirect: IoPage[] = [];
  nindirect = 0;
}

/** A ring as the lifecycle writes it to xenstore. */
export interface QueueRefs {
  readonly refs: readonly number[];
  readonly port: number;
}

const noResolver = (): void => {};

export class FrontDatapath {
  readonly #ctx: DriverContext;
  readonly #vdev: string;
  readonly #handle: number;
  readonly #pages: FrontPages;
  /** The connection is gone for good; the lifecycle is told through this. */
  readonly #onBroken: (e: BlockError) => void;
  #queues: FrontQueue<Shadow>[] = [];
  /** Rings whose pages the backend still mapped when the connection went. */
  #deadRings: GrantedRing[] = [];
  #work: Chunk[] = [];
  #rr = 0;
  /** Bytes one request carries (segments negotiated times a page). */
  #maxBytes = 0;
  /** Rings are connected: the pump may issue. */
  #open = false;
  #closed = false;
  /** The one way into the pump: once per turn of the event loop, whoever asks. */
  readonly #kick = oncePerTurn(() => this.#pump());
  /** A GNTTABOP_setup_table is under way. */
  #growing = false;
  #growFailed = false;
  #onDrained: (() => void) | null = null;
  /** Held for a suspend: nothing new is issued; resolved once nothing is in flight. */
  readonly #gate = new SuspendGate();
  readonly #done = (s: Shadow, operation: number, status: number): void => this.#complete(s, operation, status);
  /** The guest frames under the request #issue is making (pageAddresses), reused. */
  readonly #addrs: number[] = [];
  /**
   * The resolvers of the Promise submit() is making, which #capture (its executor) leaves here:
   * one executor for every I/O instead of a closure per I/O (Node 20 has no Promise.withResolvers).
   */
  #resolve: () => void = noResolver;
  #reject: (e: BlockError) => void = noResolver;
  readonly #capture = (resolve: () => void, reject: (e: BlockError) => void): void => {
    this.#resolve = resolve;
    this.#reject = reject;
  };

  constructor(ctx: DriverContext, vdev: string, devid: number, onBroken: (e: BlockError) => void) {
    this.#ctx = ctx;
    this.#vdev = vdev;
    this.#handle = devid & 0xffff;
    this.#pages = new FrontPages(ctx.hc);
    this.#onBroken = onBroken;
  }

  /** Persistent grants given to the current backend. */
  get persistentGrants(): number {
    return this.#pages.persistentGrants;
  }

  get inFlight(): number {
    let n = 0;
    for (const q of this.#queues) n += q.inFlight;
    return n;
  }

  /** Grant `nq` rings of 2^order pages to `backendId` and bind their event channels. */
  async connectRings(backendId: number, persistent: boolean, order: number, nq: number): Promise<QueueRefs[]> {
    const { hc, evtchn } = this.#ctx;
    this.#pages.connect(backendId, persistent);
    for (let i = 0; i < nq; i++) {
      const q = await FrontQueue.create(hc, (d) => evtchn.allocUnbound(d), backendId, order, () => new Shadow());
      q.port.onEvent(() => this.#onEvent(q));
      this.#queues.push(q);
    }
    return this.#queues.map((q) => ({ refs: q.granted.refs, port: q.port.port }));
  }

  /** The backend is connected: requests carry up to `maxSegments` pages; issue what waits. */
  start(maxSegments: number, backendIndirect: number): void {
    this.#maxBytes = maxSegments * PAGE_SIZE;
    // The pool blkback keeps by default for what it offered (protocol.ts), whatever we use of it.
    this.#pages.limitDirect(defaultPersistentLimit(this.#queues[0]!.ring.nrEnts, backendIndirect));
    this.#open = true;
    this.#kick();
  }

  /** Queue an I/O the lifecycle has checked (requests.ts checkIo); it is issued once a ring has room. */
  submit(op: number, sector: number, bufs: readonly Uint8Array[], bytes: number, count: number, secure: boolean): Promise<void> {
    const promise = new Promise<void>(this.#capture);
    const direct = (op === BLKIF_OP_READ || op === BLKIF_OP_WRITE) && inPagesOf(this.#ctx.hc.memory.buffers.memory, bufs);
    this.#work.push(new Io(op, sector, bufs, direct, bytes, count, secure, this.#resolve, this.#reject));
    this.#resolve = this.#reject = noResolver; // the I/O holds them; nothing else should keep it alive
    this.#kick();
    return promise;
  }

  /**
   * The connection is gone: stop listening, take the requests out of the rings (to issue again
   * if `recover`, else to fail), revoke the grants the backend no longer maps.
   */
  teardown(recover: boolean): void {
    const hc = this.#ctx.hc;
    const again: Chunk[] = [];
    for (const q of this.#queues) {
      q.port.close();
      for (const s of q.takeInFlight()) {
        for (let i = 0; i < s.npages; i++) this.#pages.abandon(s.pages[i]!);
        for (let i = 0; i < s.nindirect; i++) this.#pages.abandon(s.indirect[i]!);
        again.push({ io: s.io!, offset: s.offset, len: s.len });
        s.io = null;
      }
      if (!revokeRing(hc, q.granted)) this.#deadRings.push(q.granted);
    }
    this.#queues = [];
    this.#open = false;
    this.#pages.revokeAll();
    if (recover) this.#work.unshift(...again);
    else for (const c of again) this.#partDone(c.io, new Disconnected(`${this.#vdev}: the backend disconnected`));
    this.#onDrained?.();
  }

  /** Retry what an earlier connection left granted; the current connection's grants stay. */
  retryRevoke(): void {
    this.#deadRings = this.#deadRings.filter((r) => !revokeRing(this.#ctx.hc, r));
    this.#pages.retryRevoking();
  }

  /** For a suspend: issue nothing new; resolves once every request in flight is answered. */
  quiesce(): Promise<void> {
    return this.#gate.quiesce(this.inFlight);
  }

  /** After a suspend that was cancelled (the domain runs on in place): issue what waited. */
  release(): void {
    this.#gate.release();
    this.#kick();
  }

  /** Fail what waits for a ring with `err`; resolves once nothing is in flight. */
  drain(err: BlockError): Promise<void> {
    for (const c of this.#work.splice(0)) this.#partDone(c.io, err);
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => (this.#onDrained = resolve));
  }

  /** The device is gone for good: tear down and fail everything with `err`. */
  close(err: BlockError): void {
    this.teardown(false);
    this.#closed = true;
    for (const c of this.#work.splice(0)) this.#partDone(c.io, err);
  }

  /**
   * Issue waiting chunks while a ring has room and pages can be had; publish them. A read or
   * write goes out in requests of at most #maxBytes (what this connection negotiated), cut off
   * the front of its chunk as they are issued.
   */
  #pump(): void {
    if (!this.#open || this.#gate.held) return;
    const queues = this.#queues;
    while (this.#work.length > 0) {
      let q: FrontQueue<Shadow> | undefined;
      for (let i = 0; i < queues.length && !q; i++) {
        const c = queues[(this.#rr + i) % queues.length]!;
        if (c.hasRoom) q = c;
      }
      if (!q) break;
      this.#rr = (this.#rr + 1) % queues.length;
      const chunk = this.#work[0]!;
      const len = Math.min(chunk.len, this.#maxBytes); // 0 for a flush or a discard, which go out whole
      if (!this.#issue(q, chunk, len)) {
        if (this.#pages.tableFull && this.#growTable()) break; // kicked again once it has grown
        if (this.inFlight > 0) break; // pages come back with the responses
        this.#work.shift();
        this.#partDone(chunk.io, new IoError(`${this.#vdev}: out of I/O memory for a ${len}-byte request (raise memory=)`));
        continue;
      }
      if (len === chunk.len) {
        this.#work.shift();
      } else {
        chunk.offset += len;
        chunk.len -= len;
        chunk.io.parts++;
      }
    }
    for (const c of queues) {
      let waiting: boolean;
      try {
        waiting = c.flush();
      } catch (e) {
        // A ring its RingIo refused, or an event its send failed: the connection fails (SECURITY.md).
        this.#broken(e);
        return;
      }
      if (waiting) queueMicrotask(() => this.#onEvent(c));
    }
  }

  /**
   * Grow the grant table (GNTTABOP_setup_table, up to its maximum) as Linux's gnttab_expand
   * does, then issue what waits; false if it cannot grow.
   */
  #growTable(): boolean {
    if (this.#growing) return true;
    const hc = this.#ctx.hc;
    const { nrFrames, maxNrFrames } = hc.grantQuerySize();
    if (nrFrames >= maxNrFrames || this.#growFailed) return false;
    this.#growing = true;
    hc.grantSetupTable(Math.min(maxNrFrames, nrFrames * 2)).then(
      () => {
        this.#growing = false;
        this.#kick();
      },
      (e: unknown) => {
        this.#growing = false;
        this.#growFailed = true;
        this.#ctx.log?.(`blkfront ${this.#vdev}: growing the grant table failed: ${(e as Error).message}`);
        this.#kick();
      },
    );
    return true;
  }

  /** Put the first `len` bytes of `chunk` on `q` (all of a flush or discard); false if pages ran out. */
  #issue(q: FrontQueue<Shadow>, chunk: Chunk, len: number): boolean {
    const io = chunk.io;
    const handle = this.#handle;
    const s = q.next;
    s.offset = chunk.offset;
    s.len = len;
    if (io.op !== BLKIF_OP_READ && io.op !== BLKIF_OP_WRITE) {
      s.io = io;
      s.operation = io.op;
      s.direct = false;
      s.npages = s.nindirect = 0;
      if (io.op === BLKIF_OP_DISCARD) {
        q.post({ kind: 'discard', operation: BLKIF_OP_DISCARD, flag: io.secure ? 1 : 0, handle, id: 0n, sectorNumber: io.sector, nrSectors: io.count });
      } else {
        q.post({ kind: 'segments', operation: io.op, nrSegments: 0, handle, id: 0n, sectorNumber: 0, seg: [] });
      }
      return true;
    }
    const nseg = segmentCount(len);
    const indirect = nseg > BLKIF_MAX_SEGMENTS_PER_REQUEST;
    const reading = io.op === BLKIF_OP_READ;
    const pages = s.pages;
    const direct = io.direct && this.#guestPages(pages, io.bufs, chunk.offset, nseg, reading);
    if (!direct && !this.#take(pages, nseg, reading)) return false;
    const nind = indirect ? blkifIndirectPages(nseg) : 0;
    if (nind > 0 && !this.#take(s.indirect, nind, false)) {
      for (let i = 0; i < nseg; i++) this.#pages.put(pages[i]!);
      return false;
    }
    s.io = io;
    s.operation = indirect ? BLKIF_OP_INDIRECT : io.op;
    s.direct = direct;
    s.npages = nseg;
    s.nindirect = nind;
    if (!direct && !reading) copySg(io.bufs, chunk.offset, pages, len, true);
    const sectorNumber = sectorAt(io.sector, chunk.offset);
    if (!indirect) {
      q.stageSegments(io.op, handle, sectorNumber, nseg);
      for (let i = 0; i < nseg; i++) q.seg(i, pages[i]!.ref, lastSect(len, i));
      return true;
    }
    // Indirect segments go, one at a time, into their pages.
    const seg: BlkifSegment = { gref: 0, firstSect: 0, lastSect: 0 };
    for (let i = 0; i < nseg; i++) {
      seg.gref = pages[i]!.ref;
      seg.lastSect = lastSect(len, i);
      encodeBlkifSegment(s.indirect[Math.floor(i / BLKIF_SEGS_PER_INDIRECT_FRAME)]!.view, (i % BLKIF_SEGS_PER_INDIRECT_FRAME) * BLKIF_SEGMENT_SIZE, seg);
    }
    q.post({
      kind: 'indirect', operation: BLKIF_OP_INDIRECT, indirectOp: io.op, nrSegments: nseg, handle, id: 0n, sectorNumber,
      indirectGrefs: Array.from({ length: nind }, (_, i) => s.indirect[i]!.ref),
    });
    return true;
  }

  /**
   * Grant the guest frames under `nseg` pages from byte `offset` of `bufs` into `out[0..nseg)`;
   * false to use bounce pages instead (see FrontPages.direct).
   */
  #guestPages(out: IoPage[], bufs: readonly Uint8Array[], offset: number, nseg: number, backendWrites: boolean): boolean {
    const addrs = this.#addrs;
    pageAddresses(bufs, offset, nseg, addrs);
    for (let i = 0; i < nseg; i++) {
      let p: IoPage | null;
      try {
        p = this.#pages.direct(addrs[i]! / PAGE_SIZE, backendWrites);
      } catch {
        p = null; // a frame that cannot be granted: bounce pages still work
      }
      if (!p) {
        for (let j = 0; j < i; j++) this.#pages.put(out[j]!);
        return false;
      }
      out[i] = p;
    }
    return true;
  }

  /** Take `n` bounce pages into `out[0..n)`; false (and none taken) if they ran out. */
  #take(out: IoPage[], n: number, backendWrites: boolean): boolean {
    for (let i = 0; i < n; i++) {
      const p = this.#pages.take(backendWrites);
      if (!p) {
        for (let j = 0; j < i; j++) this.#pages.put(out[j]!);
        return false;
      }
      out[i] = p;
    }
    return true;
  }

  #onEvent(q: FrontQueue<Shadow>): void {
    if (this.#closed) return;
    try {
      q.poll(this.#done);
    } catch (e) {
      this.#broken(e);
      return;
    }
    this.#kick();
    if (this.#onDrained && this.inFlight === 0) this.#onDrained();
    this.#gate.settled(this.inFlight);
  }

  /** The ring or its backend misbehaved (`e` says how): every I/O fails with EIO, the connection goes. */
  #broken(e: unknown): void {
    this.#ctx.log?.(`blkfront ${this.#vdev}: ${(e as Error).message}`);
    this.#onBroken(new IoError(`${this.#vdev}: ${(e as Error).message}`));
  }

  #complete(s: Shadow, operation: number, status: number): void {
    const io = s.io!;
    let err: BlockError | null = null;
    if (operation !== s.operation) {
      err = new IoError(`${this.#vdev}: backend answered operation ${operation} to a request of operation ${s.operation}`);
    } else if (status === BLKIF_RSP_OKAY) {
      try {
        if (io.op === BLKIF_OP_READ && !s.direct) copySg(io.bufs, s.offset, s.pages, s.len, false);
      } catch (e) {
        // The guest detached its buffer meanwhile: its I/O fails, the ring goes on.
        err = new IoError(`${this.#vdev}: the read's data could not be copied to its buffer: ${(e as Error).message}`);
      }
    } else {
      const unsupported = status === BLKIF_RSP_EOPNOTSUPP;
      err = new IoError(`${this.#vdev}: operation ${io.op} at sector ${io.sector} failed: ${unsupported ? 'BLKIF_RSP_EOPNOTSUPP' : 'BLKIF_RSP_ERROR'}`, unsupported);
    }
    for (let i = 0; i < s.npages; i++) this.#pages.put(s.pages[i]!);
    for (let i = 0; i < s.nindirect; i++) this.#pages.put(s.indirect[i]!);
    s.io = null;
    this.#partDone(io, err);
  }

  /** A part of `io` was answered, or failed with `err` (the first error is the I/O's). */
  #partDone(io: Io, err: BlockError | null): void {
    if (err) io.error ??= err;
    if (--io.parts > 0) return;
    if (io.error) io.reject(io.error);
    else io.resolve();
  }
}
