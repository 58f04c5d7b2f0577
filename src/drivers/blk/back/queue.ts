// One ring of blkback: consume requests, validate them, run them against the disk, answer.
// Every slot is hostile (DESIGN.md §5): each request is copied out of the ring before it is
// decoded (RING_COPY_REQUEST), indirect segment lists are copied out of their pages before
// they are read, and every count, sector range and segment bound is checked on the copy. A
// frontend that publishes an impossible req_prod gets its ring halted, as Linux does.
import {
  BLKIF_MAX_SEGMENTS_PER_REQUEST, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_READ,
  BLKIF_OP_WRITE, BLKIF_OP_WRITE_BARRIER, BLKIF_RSP_EOPNOTSUPP, BLKIF_RSP_ERROR, BLKIF_RSP_OKAY, BLKIF_SEGMENT_SIZE,
  BLKIF_SEGS_PER_INDIRECT_FRAME, BLKIF_SLOT_SIZE, BLKIF_DISCARD_SECURE, blkifIndirectPages, decodeBlkifRequest,
  BLKIF_REQ_SEG, BLKIF_SEG_FIRST_SECT, BLKIF_SEG_GREF, BLKIF_SEG_LAST_SECT, encodeBlkifResponse,
  type BlkifRequest, type BlkifResponse,
} from '../../../abi/blkif.js';
import type { BackRing } from '../../../abi/ring.js';
import { PAGE_SIZE } from '../../../abi/xen.js';
import { copyBytes } from '../../../hypervisor/copy.js';
import type { Hypercalls } from '../../../hypervisor/hypercalls.js';
import type { BoundPort } from '../../../hypervisor/port.js';
import { SECTOR_SIZE, type Disk } from '../../../storage/disk.js';
import { inLaterTurn } from '../../turn.js';
import { SECTORS_PER_PAGE } from '../protocol.js';
import { mappedPage, type MappedPage, type PersistentGrant, type PersistentGrants } from './pgrants.js';

/**
 * Responses are published in the middle of a batch, so the two ends overlap: after this many
 * segments' worth of work (8 small requests, or each request of 64 segments and more).
 */
const PUSH_AFTER_SEGMENTS = 64;
const PUSH_AFTER_SMALL = PUSH_AFTER_SEGMENTS / 8;
/**
 * Requests one service() call takes at most before it gives dom0's thread back (netback's
 * SERVICE_PACKETS, Linux's NAPI weight). Responses go out as we go, and a refused request is
 * answered at once, so a frontend that moves req_prod on as fast as they come (from another
 * core) would otherwise keep the call going for ever, and with it every other backend,
 * xenstored and the toolstack; the rest is taken in a later turn of dom0's event loop. Two
 * rings' worth of a one-page ring, so a frontend that refills while it is served is not cut short.
 */
export const SERVICE_REQUESTS = 64;

/**
 * Counters a backend keeps per device: Linux blkback's statistics (its sysfs `statistics/`
 * files, which xentop reads), then xenode's own.
 */
export interface BlkbackStats {
  /** oo_req: requests that waited for want of free request structures; never, here. */
  ooReq: number;
  /** rd_req, wr_req: reads and writes accepted (a flush with data counts as a flush). */
  rdReq: number;
  wrReq: number;
  /** f_req: flushes and barriers; ds_req: discards. */
  fReq: number;
  dsReq: number;
  /** rd_sect, wr_sect: sectors read and written. */
  rdSect: number;
  wrSect: number;
  requests: number;
  /** Requests answered BLKIF_RSP_ERROR or EOPNOTSUPP. */
  errors: number;
  /** Grants mapped for one request and unmapped after it. */
  transientMaps: number;
}

export function emptyBlkbackStats(): BlkbackStats {
  return { ooReq: 0, rdReq: 0, wrReq: 0, fReq: 0, dsReq: 0, rdSect: 0, wrSect: 0, requests: 0, errors: 0, transientMaps: 0 };
}

/** What a request holds while it runs: persistent grants, or handles of grants mapped for it alone. */
type Held = (PersistentGrant | number)[];

/** The request failed validation or mapping: answer with `status`. */
class Refused {
  constructor(readonly status: number, readonly why: string) {}
}

export interface BackQueueOptions {
  readonly ring: BackRing;
  readonly port: BoundPort;
  readonly hc: Hypercalls;
  readonly frontendId: number;
  readonly disk: Disk;
  readonly pool: PersistentGrants | null;
  readonly maxIndirectSegments: number;
  readonly discard: boolean;
  readonly stats: BlkbackStats;
  /** The frontend broke the ring protocol: the device must go. */
  readonly onFatal: (why: string) => void;
  readonly log: (line: string) => void;
}

export interface BackQueueSnapshot {
  readonly port: number;
  readonly reqProd: number; readonly reqCons: number; readonly reqEvent: number;
  readonly rspProdPvt: number; readonly rspProd: number; readonly rspEvent: number;
  readonly inflight: number;
  readonly state: 'serving' | 'barrier' | 'paused' | 'stopped' | 'halted';
}

export class BackQueue {
  readonly #o: BackQueueOptions;
  readonly #ring: BackRing;
  readonly #slot = new Uint8Array(BLKIF_SLOT_SIZE);
  readonly #slotView = new DataView(this.#slot.buffer);
  readonly #segs: Uint8Array;
  readonly #segsView: DataView;
  /** Filled in and encoded by #respond: no object per response. */
  readonly #rsp: BlkifResponse = { id: 0n, operation: 0, status: 0 };
  #inflight = 0;
  #servicing = false;
  /** Requests are left and this turn's share is taken (or completions came): service() again later. */
  readonly #continue = inLaterTurn(() => this.service());
  #stopped = false;
  #halted = false;
  /**
   * A barrier waiting for earlier requests to finish, with a copy of its slot (its segments are
   * read from there), or running (later requests wait).
   */
  #barrier: { req: BlkifRequest; slot: Uint8Array } | 'running' | null = null;
  #pushQueued = false;
  #drained: (() => void) | null = null;
  #disk: Disk;
  /** Paused for a disk switch: requests stay in the ring; `#idle` hears when the last in flight is answered. */
  #paused = false;
  #idle: (() => void) | null = null;
  /** Bumped by each swap: a request remembers the one it was taken in. */
  #era = 0;
  /** Requests of the era before the last swap still in flight on the old disk, and who waits for them. */
  #old: { left: number; done: () => void } | null = null;
  #logged = 0;

  constructor(o: BackQueueOptions) {
    this.#o = o;
    this.#ring = o.ring;
    this.#disk = o.disk;
    this.#segs = new Uint8Array(Math.max(1, blkifIndirectPages(o.maxIndirectSegments)) * PAGE_SIZE);
    this.#segsView = new DataView(this.#segs.buffer);
    o.port.onEvent(() => this.service());
  }

  /**
   * The ring's indexes and this queue's state, for a harness that reports a stalled guest: which
   * side stopped (requests not consumed, answers not published, or an event not asked for).
   */
  snapshot(): BackQueueSnapshot {
    const r = this.#ring;
    return {
      port: this.#o.port.port, reqProd: r.reqProd, reqCons: r.reqCons, reqEvent: r.reqEvent, rspProdPvt: r.rspProdPvt, rspProd: r.rspProd, rspEvent: r.rspEvent,
      inflight: this.#inflight, state: this.#halted ? 'halted' : this.#stopped ? 'stopped' : this.#paused ? 'paused' : this.#barrier ? 'barrier' : 'serving',
    };
  }

  /**
   * Consume whatever the frontend published, until the ring is empty and it knows to wake us, or
   * this call took SERVICE_REQUESTS (then the rest in a later turn).
   */
  service(): void {
    if (this.#servicing || this.#stopped || this.#halted || this.#paused) return;
    this.#servicing = true;
    const ring = this.#ring;
    let budget = SERVICE_REQUESTS;
    try {
      for (;;) {
        const rp = ring.reqProd;
        if (ring.requestProdOverflow(rp)) {
          this.#halt(ring.requestProdOverflowMessage(rp));
          return;
        }
        let work = 0;
        while (ring.reqCons !== rp && this.#barrier === null && !ring.requestConsOverflow(ring.reqCons)) {
          if (budget === 0) {
            // req_event is not set, so no event comes for the rest: we come back for it ourselves.
            this.#push();
            return this.#continue();
          }
          budget--;
          ring.copyRequest(ring.reqCons, this.#slot);
          ring.reqCons = ring.reqCons + 1;
          // Segments are read from the slot copy where they are used (#rw), not decoded here.
          const req = decodeBlkifRequest(this.#slotView, 0, false);
          this.#dispatch(req);
          // Publish as we go, so the frontend can refill the ring while we work on the rest.
          work += Math.max(PUSH_AFTER_SMALL, Math.min(req.kind === 'discard' ? 0 : req.nrSegments, PUSH_AFTER_SEGMENTS));
          if (work >= PUSH_AFTER_SEGMENTS) {
            this.#push();
            work = 0;
          }
        }
        this.#push();
        if (this.#barrier !== null || ring.requestConsOverflow(ring.reqCons)) return; // a completion resumes us
        if (!ring.finalCheckForRequests()) return;
      }
    } finally {
      this.#servicing = false;
    }
  }

  #halt(why: string): void {
    this.#halted = true;
    this.#o.log(`halting ring of d${this.#o.frontendId}: ${why}`);
    this.#o.onFatal(why);
  }

  #push(): void {
    if (this.#stopped) return;
    if (this.#ring.pushResponsesAndCheckNotify()) this.#o.port.notify();
  }

  #respond(id: bigint, operation: number, status: number): void {
    if (this.#stopped) return;
    const ring = this.#ring;
    const rsp = this.#rsp;
    rsp.id = id;
    rsp.operation = operation;
    rsp.status = status;
    encodeBlkifResponse(ring.view, ring.slotOffset(ring.rspProdPvt), rsp);
    ring.rspProdPvt = ring.rspProdPvt + 1;
    this.#o.stats.requests++;
    if (status !== BLKIF_RSP_OKAY) this.#o.stats.errors++;
  }

  #refuse(req: BlkifRequest, r: Refused): void {
    if (this.#logged < 8) {
      this.#logged++;
      this.#o.log(`d${this.#o.frontendId}: request ${req.id} (op ${req.operation}) refused: ${r.why}`);
    }
    this.#respond(req.id, req.operation, r.status);
  }

  #dispatch(req: BlkifRequest): void {
    try {
      this.#run(req);
    } catch (e) {
      if (e instanceof Refused) return this.#refuse(req, e);
      // A mapping or disk error: the request fails, the ring goes on.
      this.#refuse(req, new Refused(BLKIF_RSP_ERROR, (e as Error).message));
    }
  }

  #run(req: BlkifRequest): void {
    const disk = this.#disk;
    switch (req.kind) {
      case 'discard': {
        if (!this.#o.discard || !disk.features.discard) throw new Refused(BLKIF_RSP_EOPNOTSUPP, 'discard is not offered');
        const secure = (req.flag & BLKIF_DISCARD_SECURE) !== 0;
        if (secure && !disk.features.secureDiscard) throw new Refused(BLKIF_RSP_EOPNOTSUPP, 'secure discard is not offered');
        checkSectors(req.sectorNumber, req.nrSectors, disk.sectors);
        this.#o.stats.dsReq++;
        return this.#finish(req, disk.discard(req.sectorNumber, req.nrSectors, secure), []);
      }
      case 'indirect': {
        if (this.#o.maxIndirectSegments === 0) throw new Refused(BLKIF_RSP_EOPNOTSUPP, 'indirect requests are not offered');
        if (req.indirectOp !== BLKIF_OP_READ && req.indirectOp !== BLKIF_OP_WRITE) {
          throw new Refused(BLKIF_RSP_ERROR, `indirect operation ${req.indirectOp} is neither read nor write`);
        }
        checkCount(req.nrSegments, 1, this.#o.maxIndirectSegments);
        this.#copyIndirectSegments(req.indirectGrefs, req.nrSegments);
        return this.#rw(req, req.indirectOp, this.#segsView, 0, req.nrSegments, false);
      }
      case 'segments': {
        const op = req.operation;
        if (op === BLKIF_OP_READ || op === BLKIF_OP_WRITE) {
          checkCount(req.nrSegments, 1, BLKIF_MAX_SEGMENTS_PER_REQUEST);
          return this.#rw(req, op, this.#slotView, BLKIF_REQ_SEG, req.nrSegments, false);
        }
        if (op === BLKIF_OP_FLUSH_DISKCACHE || op === BLKIF_OP_WRITE_BARRIER) {
          if (!disk.features.flush) throw new Refused(BLKIF_RSP_EOPNOTSUPP, 'the disk has no cache to flush');
          checkCount(req.nrSegments, 0, BLKIF_MAX_SEGMENTS_PER_REQUEST);
          if (op === BLKIF_OP_WRITE_BARRIER) return this.#barrierRequest(req);
          if (req.nrSegments === 0) return this.#flush(req);
          return this.#rw(req, BLKIF_OP_WRITE, this.#slotView, BLKIF_REQ_SEG, req.nrSegments, true);
        }
        throw new Refused(BLKIF_RSP_EOPNOTSUPP, `unknown operation ${op}`);
      }
    }
  }

  /** Barriers wait for everything before them and hold back everything after them. */
  #barrierRequest(req: BlkifRequest & { kind: 'segments' }): void {
    if (this.#inflight > 0) {
      this.#barrier = { req, slot: this.#slot.slice() };
      return;
    }
    this.#barrier = 'running';
    if (req.nrSegments === 0) this.#flush(req);
    else this.#rw(req, BLKIF_OP_WRITE, this.#slotView, BLKIF_REQ_SEG, req.nrSegments, true);
    if (this.#inflight === 0) this.#barrier = null;
  }

  #flush(req: BlkifRequest): void {
    this.#o.stats.fReq++;
    this.#finish(req, this.#disk.flush(), []);
  }

  /**
   * Copy the segment list out of the indirect pages into #segs, where #rw reads it: one memcpy a
   * page (copyBytes). A frontend writing the pages meanwhile can tear the copy; that harms only
   * itself, as #rw checks every segment it reads from #segs, never from the shared page.
   */
  #copyIndirectSegments(grefs: readonly number[], n: number): void {
    const pages = blkifIndirectPages(n);
    for (let p = 0; p < pages; p++) {
      const held: Held = [];
      try {
        const page = this.#map(grefs[p]!, false, held);
        const bytes = Math.min(BLKIF_SEGS_PER_INDIRECT_FRAME, n - p * BLKIF_SEGS_PER_INDIRECT_FRAME) * BLKIF_SEGMENT_SIZE;
        copyBytes(this.#segs, new Uint8Array(page.mem, page.offset, bytes), p * PAGE_SIZE);
      } finally {
        this.#release(held);
      }
    }
  }

  /**
   * Read or write through the `n` segments at `base` of `segs` (a private copy: the ring slot
   * or the indirect pages). Segments on adjacent frames of the frontend (os.io's I/O pages)
   * become one run, which the disk copies in one go.
   */
  #rw(req: BlkifRequest, op: number, segs: DataView, base: number, n: number, flushAfter: boolean): void {
    const disk = this.#disk;
    let sectors = 0;
    for (let i = 0, off = base; i < n; i++, off += BLKIF_SEGMENT_SIZE) {
      const first = segs.getUint8(off + BLKIF_SEG_FIRST_SECT);
      const last = segs.getUint8(off + BLKIF_SEG_LAST_SECT);
      if (last >= SECTORS_PER_PAGE || last < first) {
        throw new Refused(BLKIF_RSP_ERROR, `segment sectors ${first}..${last} do not lie in a page`);
      }
      sectors += last - first + 1;
    }
    checkSectors(req.sectorNumber, sectors, disk.sectors);
    const reading = op === BLKIF_OP_READ;
    if (!reading && disk.readOnly) throw new Refused(BLKIF_RSP_ERROR, 'write to a read-only disk');
    const stats = this.#o.stats;
    if (flushAfter) stats.fReq++;
    else if (reading) stats.rdReq++;
    else stats.wrReq++;
    if (reading) stats.rdSect += sectors;
    else stats.wrSect += sectors;
    const held: Held = [];
    const runs: Uint8Array[] = [];
    let runMem: ArrayBufferLike | null = null;
    let runStart = 0;
    let runEnd = 0;
    try {
      for (let i = 0, off = base; i < n; i++, off += BLKIF_SEGMENT_SIZE) {
        const page = this.#map(segs.getUint32(off + BLKIF_SEG_GREF, true), reading, held);
        const start = page.offset + segs.getUint8(off + BLKIF_SEG_FIRST_SECT) * SECTOR_SIZE;
        const end = page.offset + (segs.getUint8(off + BLKIF_SEG_LAST_SECT) + 1) * SECTOR_SIZE;
        if (page.mem === runMem && start === runEnd) {
          runEnd = end;
          continue;
        }
        if (runMem) runs.push(new Uint8Array(runMem, runStart, runEnd - runStart));
        runMem = page.mem;
        runStart = start;
        runEnd = end;
      }
      if (runMem) runs.push(new Uint8Array(runMem, runStart, runEnd - runStart));
    } catch (e) {
      this.#release(held);
      throw e;
    }
    let result: Promise<void> | void;
    try {
      result = reading ? disk.read(req.sectorNumber, runs) : disk.write(req.sectorNumber, runs);
      if (flushAfter) result = result ? result.then(() => disk.flush()) : disk.flush();
    } catch (e) {
      this.#release(held);
      throw e;
    }
    this.#finish(req, result, held);
  }

  /**
   * The page of `gref`, recorded in `held`: from the persistent pool when negotiated, else
   * mapped now and unmapped after the request.
   */
  #map(gref: number, writable: boolean, held: Held): MappedPage {
    const pool = this.#o.pool;
    if (pool) {
      const g = pool.acquire(gref);
      if (g) {
        held.push(g);
        return g;
      }
    }
    const m = this.#o.hc.grantMap(this.#o.frontendId, gref, !writable);
    this.#o.stats.transientMaps++;
    held.push(m.handle);
    return mappedPage(m.page);
  }

  #release(held: Held): void {
    for (const h of held) {
      if (typeof h === 'number') this.#o.hc.grantUnmap(h);
      else this.#o.pool!.release(h);
    }
  }

  /** Answer now if the disk finished synchronously, else when it does. */
  #finish(req: BlkifRequest, result: Promise<void> | void, held: Held): void {
    if (result === undefined) {
      this.#release(held);
      this.#respond(req.id, req.operation, BLKIF_RSP_OKAY);
      return;
    }
    this.#inflight++;
    const era = this.#era;
    result.then(
      () => BLKIF_RSP_OKAY,
      (e: unknown) => {
        this.#o.log(`d${this.#o.frontendId}: request ${req.id} failed: ${(e as Error).message}`);
        return BLKIF_RSP_ERROR;
      },
    ).then((status) => {
      this.#release(held);
      this.#respond(req.id, req.operation, status);
      this.#inflight--;
      if (era !== this.#era && this.#old && --this.#old.left === 0) {
        this.#old.done();
        this.#old = null;
      }
      if (this.#barrier === 'running' && this.#inflight === 0) this.#barrier = null;
      this.#afterCompletion();
    });
  }

  #afterCompletion(): void {
    if (this.#inflight === 0 && this.#drained) {
      this.#drained();
      return;
    }
    if (this.#pushQueued) return;
    this.#pushQueued = true;
    queueMicrotask(() => {
      this.#pushQueued = false;
      this.#push();
      const waiting = this.#barrier;
      if (waiting !== null && waiting !== 'running' && this.#inflight === 0) {
        this.#barrier = null;
        this.#servicing = true;
        try {
          this.#slot.set(waiting.slot);
          this.#dispatch(waiting.req);
        } finally {
          this.#servicing = false;
        }
        this.#push();
      }
      this.#checkIdle();
      // Not service() here: completions that come in microtasks (a disk answering from memory)
      // would start it again and again without dom0's loop ever getting a turn.
      this.#continue();
    });
  }

  #checkIdle(): void {
    if (this.#paused && this.#inflight === 0 && this.#barrier === null && this.#idle) {
      const idle = this.#idle;
      this.#idle = null;
      idle();
    }
  }

  /**
   * Stop taking requests (they wait in the ring) and resolve once every request taken has been
   * answered: the disk is quiescent, as tapdisk is after `tap-ctl pause`.
   */
  pause(): Promise<void> {
    this.#paused = true;
    const idle = new Promise<void>((resolve) => (this.#idle = resolve));
    this.#checkIdle();
    return idle;
  }

  /** Serve `disk` from now on and take requests again (tap-ctl unpause with a new image). */
  resume(disk: Disk): void {
    this.#disk = disk;
    this.#paused = false;
    this.#idle = null;
    this.service();
  }

  /**
   * Serve `disk` from the next request on, without pausing: requests in flight finish on the
   * old disk, and the promise resolves once they have. The caller waits for that before a
   * second swap (only the last era's requests are told apart).
   */
  swap(disk: Disk): Promise<void> {
    this.#disk = disk;
    this.#era++;
    if (this.#inflight === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#old = { left: this.#inflight, done: resolve }));
  }

  /** Stop consuming and wait for requests in flight; the caller then unmaps the ring and the pool. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#o.port.close();
    if (this.#inflight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
  }
}

function checkCount(n: number, min: number, max: number): void {
  if (n < min || n > max) throw new Refused(BLKIF_RSP_ERROR, `${n} segments: must be ${min}..${max}`);
}

/** sector + count within the disk; a hostile sector_number may be >= 2^53, which still compares as huge. */
function checkSectors(sector: number, count: number, diskSectors: number): void {
  if (count > diskSectors || sector > diskSectors - count) {
    throw new Refused(BLKIF_RSP_ERROR, `sectors ${sector}+${count} are past the end of the disk (${diskSectors} sectors)`);
  }
}
