// blkfront: the frontend half of a virtual block device, in the guest (Linux's xen-blkfront).
// It negotiates with the backend over xenbus (rings of 2^order pages, one or more queues,
// persistent grants, indirect descriptors), splits each guest I/O into ring requests, and
// copies data through granted I/O pages. When the backend goes away under it (Closing, Closed,
// or back to InitWait after a restart) it revokes its grants, keeps every request that was in
// flight, and issues them again once a backend connects, as Linux's blkif_recover does; when
// the device itself goes (its nodes removed, or the backend's), everything pending fails with
// Disconnected.
import {
  BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST, BLKIF_MAX_SEGMENTS_PER_REQUEST, BLKIF_OP_DISCARD, BLKIF_OP_FLUSH_DISKCACHE,
  BLKIF_OP_INDIRECT, BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_OP_WRITE_BARRIER, BLKIF_RSP_EOPNOTSUPP, BLKIF_RSP_OKAY,
  BLKIF_SEGMENT_SIZE, BLKIF_SEGS_PER_INDIRECT_FRAME, BLKIF_XS, VDISK_CDROM, VDISK_READONLY, VDISK_REMOVABLE,
  blkifIndirectPages, blkifQueueKey, blkifRingRefKey, encodeBlkifSegment, type BlkifRequestSegments, type BlkifSegment,
} from '../../abi/blkif.js';
import { PAGE_SIZE } from '../../abi/xen.js';
import { XenbusState } from '../../abi/xenbus.js';
import { XenError } from '../../errors.js';
import type { DriverContext } from '../evtchn.js';
import { revokeRing, type GrantedRing } from '../ringpages.js';
import {
  XEN_IO_PROTO_ABI_NATIVE, frontendPath, readFlag, readState, readUint, switchState, watchState,
} from '../xenbus.js';
import type { Block, BlockInfo } from './block.js';
import { Disconnected, IoError, OutOfRange, ReadOnly, type BlockError } from './errors.js';
import { FrontPages, type IoPage } from './front-pages.js';
import { FrontQueue } from './front-queue.js';
import { DEFAULT_MAX_INDIRECT_SEGMENTS, SECTOR_BYTES, SECTOR_SHIFT, defaultPersistentLimit } from './params.js';

export interface BlkfrontOptions {
  /** Use persistent grants when the backend offers them (default true). */
  readonly persistent?: boolean;
  /** Segments per indirect request, capped by the backend's offer; 0 never uses indirect (default 256). */
  readonly maxIndirectSegments?: number;
  /** Ring pages as an order, capped by the backend's max-ring-page-order (default 0: one page). */
  readonly ringPageOrder?: number;
  /** Queues, capped by the backend's multi-queue-max-queues (default 1: one vCPU). */
  readonly queues?: number;
}

/** What was negotiated, and what the backend said about the disk. */
export interface BlkfrontInfo extends BlockInfo {
  readonly cdrom: boolean;
  readonly removable: boolean;
  readonly flush: boolean;
  readonly barrier: boolean;
  readonly discard: boolean;
  readonly secureDiscard: boolean;
  readonly persistent: boolean;
  /** Segments per request: 11, or the indirect maximum. */
  readonly maxSegments: number;
  readonly ringPages: number;
  readonly queues: number;
}

export type BlkfrontStatus = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** One guest I/O; it completes when all its chunks are answered. */
interface Io {
  readonly op: number;
  readonly sector: number;
  readonly bufs: readonly Uint8Array[];
  /** Every buffer is whole pages of the guest's RAM (bar the last one's tail): grant them, copy nothing. */
  readonly direct: boolean;
  /** Discard: sectors; secure flag. */
  readonly count: number;
  readonly secure: boolean;
  chunksLeft: number;
  error: BlockError | null;
  readonly resolve: () => void;
  readonly reject: (e: BlockError) => void;
}

/** The part of an I/O one ring request carries: `len` bytes from byte `offset`. */
interface Chunk {
  readonly io: Io;
  readonly offset: number;
  readonly len: number;
}

interface Shadow {
  readonly chunk: Chunk;
  readonly operation: number;
  /** The guest's own frames (nothing to copy back), or bounce pages. */
  readonly direct: boolean;
  readonly pages: IoPage[];
  readonly indirect: IoPage[];
}

/** How long an orderly close waits for the backend to let go before revoking what it can. */
const CLOSE_TIMEOUT_MS = 5000;
const MAX_RING_PAGE_ORDER = 4;
const MAX_QUEUES = 64;
/** Segments that fit the indirect pages of one request. */
const MAX_INDIRECT = BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * BLKIF_SEGS_PER_INDIRECT_FRAME;
const NO_PAGES: IoPage[] = Object.freeze([]) as unknown as IoPage[];

function asList(b: Uint8Array | readonly Uint8Array[]): readonly Uint8Array[] {
  return b instanceof Uint8Array ? [b] : b;
}

/** Copy `len` bytes between the buffer list (from byte `offset`) and consecutive pages. */
function copySg(bufs: readonly Uint8Array[], offset: number, pages: readonly IoPage[], len: number, toPages: boolean): void {
  let bi = 0;
  let bo = offset;
  while (bo >= bufs[bi]!.byteLength) bo -= bufs[bi++]!.byteLength;
  let pi = 0;
  let po = 0;
  while (len > 0) {
    const b = bufs[bi]!;
    const n = Math.min(len, b.byteLength - bo, PAGE_SIZE - po);
    const page = pages[pi]!.page;
    if (toPages) page.set(b.subarray(bo, bo + n), po);
    else b.set(page.subarray(po, po + n), bo);
    len -= n;
    bo += n;
    po += n;
    if (bo === b.byteLength) {
      bi++;
      bo = 0;
    }
    if (po === PAGE_SIZE) {
      pi++;
      po = 0;
    }
  }
}

export class BlkFront implements Block {
  readonly dir: string;
  readonly #ctx: DriverContext;
  readonly #o: BlkfrontOptions;
  readonly #pages: FrontPages;
  #queues: FrontQueue<Shadow>[] = [];
  /** Rings whose pages the backend still mapped when the connection went. */
  #deadRings: GrantedRing[] = [];
  #state = XenbusState.Initialising;
  #status: BlkfrontStatus = 'connecting';
  #info: BlkfrontInfo | null = null;
  #persistent = false;
  #order = 0;
  #work: Chunk[] = [];
  #rr = 0;
  #pumpQueued = false;
  /** A GNTTABOP_setup_table is under way. */
  #growing = false;
  #growFailed = false;
  #closing = false;
  #stopWatches: (() => Promise<void>)[] = [];
  #onConnected: { resolve: () => void; reject: (e: Error) => void } | null = null;
  #onBackendClosed: (() => void) | null = null;
  #onDrained: (() => void) | null = null;
  /**
   * The request and segments #issue fills in for a read or write (segs[n] holds n segments):
   * post() encodes them into the slot at once, so nothing is allocated for them per I/O.
   */
  readonly #req: BlkifRequestSegments = { kind: 'segments', operation: 0, nrSegments: 0, handle: 0, id: 0n, sectorNumber: 0, seg: [] };
  readonly #segs: BlkifSegment[][] = Array.from({ length: BLKIF_MAX_SEGMENTS_PER_REQUEST + 1 }, (_, n) =>
    Array.from({ length: n }, () => ({ gref: 0, firstSect: 0, lastSect: 0 })));
  readonly #done = (s: Shadow, operation: number, status: number): void => this.#complete(s, operation, status);

  private constructor(ctx: DriverContext, readonly vdev: string, readonly devid: number, readonly domid: number,
    readonly backendDir: string, readonly backendId: number, opts: BlkfrontOptions) {
    this.#ctx = ctx;
    this.#o = opts;
    this.dir = frontendPath(domid, 'vbd', devid);
    this.#pages = new FrontPages(ctx.hc);
  }

  /** Connect to device `devid` of domain `domid`; resolves once the handshake is done. */
  static async connect(ctx: DriverContext, domid: number, devid: number, vdev: string, opts: BlkfrontOptions = {}): Promise<BlkFront> {
    const dir = frontendPath(domid, 'vbd', devid);
    const backendDir = await ctx.xs.readOptional(`${dir}/backend`);
    if (backendDir === undefined) throw new Disconnected(`${vdev}: no such block device (${dir})`);
    const backendId = await readUint(ctx.xs, `${dir}/backend-id`, 0x7fef);
    const f = new BlkFront(ctx, vdev, devid, domid, backendDir, backendId, opts);
    await f.#start();
    return f;
  }

  get status(): BlkfrontStatus {
    return this.#status;
  }

  /** Everything negotiated (null before the first connection). */
  get negotiated(): BlkfrontInfo | null {
    return this.#info;
  }

  /** Persistent grants given to the current backend. */
  get persistentGrants(): number {
    return this.#pages.persistentGrants;
  }

  info(): BlockInfo {
    const i = this.#info!;
    return { readWrite: i.readWrite, sectorSize: i.sectorSize, sizeSectors: i.sizeSectors };
  }

  read(sector: number, buffers: Uint8Array | readonly Uint8Array[]): Promise<void> {
    return this.#submit(BLKIF_OP_READ, sector, asList(buffers), 0, false);
  }

  write(sector: number, buffers: Uint8Array | readonly Uint8Array[]): Promise<void> {
    return this.#submit(BLKIF_OP_WRITE, sector, asList(buffers), 0, false);
  }

  flush(): Promise<void> {
    const i = this.#info;
    if (i && !i.flush && !i.barrier && this.#status !== 'closed') return Promise.resolve();
    return this.#submit(i?.flush === false ? BLKIF_OP_WRITE_BARRIER : BLKIF_OP_FLUSH_DISKCACHE, 0, [], 0, false);
  }

  discard(sector: number, count: number, secure = false): Promise<void> {
    return this.#submit(BLKIF_OP_DISCARD, sector, [], count, secure);
  }

  // ---------------- xenbus ----------------

  async #start(): Promise<void> {
    const xs = this.#ctx.xs;
    const connected = new Promise<void>((resolve, reject) => (this.#onConnected = { resolve, reject }));
    this.#state = await readState(xs, this.dir);
    // A device used before (and closed) starts over from Initialising, which tells the backend.
    if (this.#state !== XenbusState.Initialising) await this.#switch(XenbusState.Initialising);
    const onError = (e: unknown) => this.#final(new Disconnected(`${this.vdev}: ${(e as Error).message}`));
    this.#stopWatches.push(await watchState(xs, this.dir, (s) => {
      if (s === XenbusState.Unknown) this.#final(new Disconnected(`${this.vdev}: the device was removed`));
    }, onError));
    this.#stopWatches.push(await watchState(xs, this.backendDir, (s) => this.#backendChanged(s), onError));
    await connected;
  }

  async #switch(s: XenbusState): Promise<void> {
    this.#state = s;
    await switchState(this.#ctx.xs, this.dir, s);
  }

  /** Linux blkfront's backend_changed, plus recovery when the backend restarts under us. */
  async #backendChanged(s: XenbusState): Promise<void> {
    if (this.#status === 'closed') return;
    this.#retryRevoke();
    switch (s) {
      case XenbusState.InitWait:
        if (this.#state === XenbusState.Initialised || this.#state === XenbusState.Connected) this.#teardown(!this.#closing);
        if (this.#closing) return this.#onBackendClosed?.();
        return this.#talk();
      case XenbusState.Connected:
        if (this.#state === XenbusState.Initialised) return this.#finishConnect();
        if (this.#state === XenbusState.Connected) return this.#readSize();
        return;
      case XenbusState.Closing:
      case XenbusState.Closed:
        if (this.#state !== XenbusState.Closed) {
          this.#teardown(!this.#closing);
          await this.#switch(XenbusState.Closed);
        }
        if (s === XenbusState.Closed) this.#onBackendClosed?.();
        return;
      case XenbusState.Unknown:
        return this.#final(new Disconnected(`${this.vdev}: the backend is gone`));
      default:
        return;
    }
  }

  /** talk_to_blkback: rings, event channels and features, then Initialised. */
  async #talk(): Promise<void> {
    const { xs, hc, evtchn } = this.#ctx;
    const be = this.backendDir;
    const maxOrder = await readUint(xs, `${be}/${BLKIF_XS.maxRingPageOrder}`, 31, 0);
    const maxQueues = Math.max(1, await readUint(xs, `${be}/${BLKIF_XS.multiQueueMaxQueues}`, 0xffff, 1));
    const persistent = (this.#o.persistent ?? true) && (await readFlag(xs, `${be}/${BLKIF_XS.featurePersistent}`));
    const order = Math.min(this.#o.ringPageOrder ?? 0, maxOrder, MAX_RING_PAGE_ORDER);
    const nq = Math.min(Math.max(1, this.#o.queues ?? 1), maxQueues, MAX_QUEUES);
    this.#pages.connect(this.backendId, persistent);
    this.#persistent = persistent;
    this.#order = order;
    for (let i = 0; i < nq; i++) {
      const q = await FrontQueue.create<Shadow>(hc, (d) => evtchn.allocUnbound(d), this.backendId, order);
      q.port.onEvent(() => this.#onEvent(q));
      this.#queues.push(q);
    }
    const queues = this.#queues;
    await xs.transaction(async (t) => {
      const w = (path: string, v: string | number) => t.write(`${this.dir}/${path}`, String(v));
      for (const [i, q] of queues.entries()) {
        const prefix = nq === 1 ? '' : `${blkifQueueKey(i)}/`;
        if (order === 0) await w(`${prefix}${BLKIF_XS.ringRef}`, q.granted.refs[0]!);
        else for (const [p, ref] of q.granted.refs.entries()) await w(`${prefix}${blkifRingRefKey(p)}`, ref);
        await w(`${prefix}${BLKIF_XS.eventChannel}`, q.port.port);
      }
      if (order > 0) {
        await w(BLKIF_XS.ringPageOrder, order);
        await w(BLKIF_XS.numRingPages, 1 << order);
      }
      if (nq > 1) await w(BLKIF_XS.multiQueueNumQueues, nq);
      await w(BLKIF_XS.protocol, XEN_IO_PROTO_ABI_NATIVE);
      await w(BLKIF_XS.featurePersistent, persistent ? 1 : 0);
    });
    await this.#switch(XenbusState.Initialised);
  }

  /** blkfront_connect: read what the backend says about the disk, go Connected, issue what waits. */
  async #finishConnect(): Promise<void> {
    const xs = this.#ctx.xs;
    const be = this.backendDir;
    const sectorSize = await readUint(xs, `${be}/${BLKIF_XS.sectorSize}`, 1 << 16, SECTOR_BYTES);
    if (sectorSize !== SECTOR_BYTES) {
      // We do not write feature-large-sector-size, so the backend must use 512 (blkif.h).
      return this.#final(new IoError(`${this.vdev}: backend sector-size ${sectorSize} is not ${SECTOR_BYTES}`));
    }
    const info = await readUint(xs, `${be}/${BLKIF_XS.info}`, 0xffffffff, 0);
    const beIndirect = await readUint(xs, `${be}/${BLKIF_XS.featureMaxIndirectSegments}`, 0xffffffff, 0);
    const indirect = Math.min(this.#o.maxIndirectSegments ?? DEFAULT_MAX_INDIRECT_SEGMENTS, beIndirect, MAX_INDIRECT);
    this.#info = {
      readWrite: (info & VDISK_READONLY) === 0,
      sectorSize,
      sizeSectors: await readUint(xs, `${be}/${BLKIF_XS.sectors}`, Number.MAX_SAFE_INTEGER),
      cdrom: (info & VDISK_CDROM) !== 0,
      removable: (info & VDISK_REMOVABLE) !== 0,
      flush: await readFlag(xs, `${be}/${BLKIF_XS.featureFlushCache}`),
      barrier: await readFlag(xs, `${be}/${BLKIF_XS.featureBarrier}`),
      discard: await readFlag(xs, `${be}/${BLKIF_XS.featureDiscard}`),
      secureDiscard: await readFlag(xs, `${be}/${BLKIF_XS.discardSecure}`),
      persistent: this.#persistent,
      maxSegments: indirect > BLKIF_MAX_SEGMENTS_PER_REQUEST ? indirect : BLKIF_MAX_SEGMENTS_PER_REQUEST,
      ringPages: 1 << this.#order,
      queues: this.#queues.length,
    };
    // The pool blkback keeps by default for what it offered (params.ts), whatever we use of it.
    this.#pages.limitDirect(defaultPersistentLimit(this.#queues[0]!.ring.nrEnts, beIndirect));
    await this.#switch(XenbusState.Connected);
    this.#status = 'connected';
    this.#onConnected?.resolve();
    this.#onConnected = null;
    this.#pump();
  }

  /** The backend re-announced Connected: the disk may have been resized. */
  async #readSize(): Promise<void> {
    const sizeSectors = await readUint(this.#ctx.xs, `${this.backendDir}/${BLKIF_XS.sectors}`, Number.MAX_SAFE_INTEGER);
    if (this.#info) this.#info = { ...this.#info, sizeSectors };
  }

  /**
   * The connection is gone: stop listening, take the requests out of the rings (to issue again
   * if `recover`, else to fail), revoke the grants the backend no longer maps.
   */
  #teardown(recover: boolean): void {
    const hc = this.#ctx.hc;
    const again: Chunk[] = [];
    for (const q of this.#queues) {
      q.port.close();
      for (const s of q.takeInFlight()) {
        for (const p of s.pages) this.#pages.abandon(p);
        for (const p of s.indirect) this.#pages.abandon(p);
        again.push(s.chunk);
      }
      if (!revokeRing(hc, q.granted)) this.#deadRings.push(q.granted);
    }
    this.#queues = [];
    this.#pages.revokeAll();
    if (this.#status === 'connected') this.#status = 'reconnecting';
    if (recover) this.#work.unshift(...again);
    else for (const c of again) this.#chunkDone(c, new Disconnected(`${this.vdev}: the backend disconnected`));
    this.#onDrained?.();
  }

  /** Retry what an earlier connection left granted; the current connection's grants stay. */
  #retryRevoke(): void {
    this.#deadRings = this.#deadRings.filter((r) => !revokeRing(this.#ctx.hc, r));
    this.#pages.retryRevoking();
  }

  /** The device is gone for good: fail everything, stop watching. */
  #final(err: BlockError): void {
    if (this.#status === 'closed') return;
    this.#teardown(false);
    this.#status = 'closed';
    for (const c of this.#work.splice(0)) this.#chunkDone(c, err);
    this.#onConnected?.reject(err);
    this.#onConnected = null;
    this.#onBackendClosed?.();
    for (const stop of this.#stopWatches.splice(0)) void stop();
  }

  /**
   * Orderly close (Mirage's disconnect): new I/O is refused, I/O in flight finishes, then
   * Closing, Closed, and the grants go once the backend has let go of them.
   */
  async disconnect(): Promise<void> {
    if (this.#closing || this.#status === 'closed') return;
    this.#closing = true;
    const err = new Disconnected(`${this.vdev}: disconnected by the guest`);
    for (const c of this.#work.splice(0)) this.#chunkDone(c, err);
    if (this.#inFlight() > 0) await new Promise<void>((resolve) => (this.#onDrained = resolve));
    const backendClosed = new Promise<void>((resolve) => (this.#onBackendClosed = resolve));
    const timer = setTimeout(() => this.#onBackendClosed?.(), CLOSE_TIMEOUT_MS);
    await this.#switch(XenbusState.Closing).catch(() => {});
    await backendClosed;
    clearTimeout(timer);
    this.#retryRevoke();
    this.#final(err);
  }

  // ---------------- data path ----------------

  #submit(op: number, sector: number, bufs: readonly Uint8Array[], count: number, secure: boolean): Promise<void> {
    if (this.#closing || this.#status === 'closed') return Promise.reject(new Disconnected(`${this.vdev}: the device is closed`));
    const info = this.#info!;
    let bytes = 0;
    for (const b of bufs) bytes += b.byteLength;
    if (bytes % SECTOR_BYTES !== 0) {
      return Promise.reject(new XenError('EINVAL', `${this.vdev}: I/O of ${bytes} bytes is not whole ${SECTOR_BYTES}-byte sectors`));
    }
    const sectors = op === BLKIF_OP_DISCARD ? count : bytes >> SECTOR_SHIFT;
    if (!Number.isSafeInteger(sector) || !Number.isSafeInteger(sectors) || sector < 0 || sectors < 0 || sector + sectors > info.sizeSectors) {
      return Promise.reject(new OutOfRange(`${this.vdev}: sectors ${sector}+${sectors} are outside the device (${info.sizeSectors} sectors)`));
    }
    if ((op === BLKIF_OP_WRITE || op === BLKIF_OP_DISCARD) && !info.readWrite) {
      return Promise.reject(new ReadOnly(`${this.vdev} is read-only`));
    }
    if (op === BLKIF_OP_DISCARD && !info.discard) return Promise.reject(new IoError(`${this.vdev}: the backend does not discard`, true));
    if ((op === BLKIF_OP_READ || op === BLKIF_OP_WRITE || op === BLKIF_OP_DISCARD) && sectors === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const chunkBytes = info.maxSegments * PAGE_SIZE;
      const n = op === BLKIF_OP_READ || op === BLKIF_OP_WRITE ? Math.ceil(bytes / chunkBytes) : 1;
      const direct = (op === BLKIF_OP_READ || op === BLKIF_OP_WRITE) && this.#inGuestPages(bufs);
      const io: Io = { op, sector, bufs, direct, count, secure, chunksLeft: n, error: null, resolve, reject };
      if (n === 1) this.#work.push({ io, offset: 0, len: bytes });
      else for (let off = 0; off < bytes; off += chunkBytes) this.#work.push({ io, offset: off, len: Math.min(chunkBytes, bytes - off) });
      // Everything submitted in this turn of the event loop goes out in one push.
      if (!this.#pumpQueued) {
        this.#pumpQueued = true;
        queueMicrotask(() => {
          this.#pumpQueued = false;
          this.#pump();
        });
      }
    });
  }

  /** Buffers that are whole pages of this guest's RAM (os.io), the last one possibly ending mid-page. */
  #inGuestPages(bufs: readonly Uint8Array[]): boolean {
    const ram = this.#ctx.hc.memory.buffers.memory;
    for (let i = 0; i < bufs.length; i++) {
      const b = bufs[i]!;
      if (b.buffer !== ram || b.byteOffset % PAGE_SIZE !== 0) return false;
      if (i < bufs.length - 1 && b.byteLength % PAGE_SIZE !== 0) return false;
    }
    return true;
  }

  #inFlight(): number {
    let n = 0;
    for (const q of this.#queues) n += q.inFlight;
    return n;
  }

  /** Issue waiting chunks while a ring has room and pages can be had; publish them. */
  #pump(): void {
    if (this.#status !== 'connected') return;
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
      const maxBytes = this.#info!.maxSegments * PAGE_SIZE;
      if (chunk.len > maxBytes) {
        // Issued again after a reconnection that negotiated smaller requests.
        this.#work.splice(0, 1, { io: chunk.io, offset: chunk.offset, len: maxBytes }, { io: chunk.io, offset: chunk.offset + maxBytes, len: chunk.len - maxBytes });
        chunk.io.chunksLeft++;
        continue;
      }
      if (!this.#issue(q, chunk)) {
        if (this.#pages.tableFull && this.#growTable()) break; // pumped again once it has grown
        if (this.#inFlight() > 0) break; // pages come back with the responses
        this.#work.shift();
        this.#chunkDone(chunk, new IoError(`${this.vdev}: out of I/O memory for a ${chunk.len}-byte request (raise memory=)`));
        continue;
      }
      this.#work.shift();
    }
    for (const c of queues) if (c.flush()) queueMicrotask(() => this.#onEvent(c));
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
        this.#pump();
      },
      (e: unknown) => {
        this.#growing = false;
        this.#growFailed = true;
        this.#ctx.log?.(`blkfront ${this.vdev}: growing the grant table failed: ${(e as Error).message}`);
        this.#pump();
      },
    );
    return true;
  }

  /** Put one chunk on `q`; false if pages ran out. */
  #issue(q: FrontQueue<Shadow>, chunk: Chunk): boolean {
    const io = chunk.io;
    const handle = this.devid & 0xffff;
    if (io.op !== BLKIF_OP_READ && io.op !== BLKIF_OP_WRITE) {
      const shadow: Shadow = { chunk, operation: io.op, direct: false, pages: NO_PAGES, indirect: NO_PAGES };
      if (io.op === BLKIF_OP_DISCARD) {
        q.post({ kind: 'discard', operation: BLKIF_OP_DISCARD, flag: io.secure ? 1 : 0, handle, id: 0n, sectorNumber: io.sector, nrSectors: io.count }, shadow);
      } else {
        q.post({ kind: 'segments', operation: io.op, nrSegments: 0, handle, id: 0n, sectorNumber: 0, seg: [] }, shadow);
      }
      return true;
    }
    const nseg = Math.ceil(chunk.len / PAGE_SIZE);
    const indirect = nseg > BLKIF_MAX_SEGMENTS_PER_REQUEST;
    const reading = io.op === BLKIF_OP_READ;
    const ownPages = io.direct ? this.#guestPages(chunk, nseg, reading) : null;
    const direct = ownPages !== null;
    const pages = ownPages ?? this.#take(nseg, reading);
    if (!pages) return false;
    const ind = indirect ? this.#take(blkifIndirectPages(nseg), false) : NO_PAGES;
    if (!ind) {
      for (const p of pages) this.#pages.put(p);
      return false;
    }
    if (!direct && !reading) copySg(io.bufs, chunk.offset, pages, chunk.len, true);
    const sectorNumber = io.sector + chunk.offset / SECTOR_BYTES;
    const shadow: Shadow = { chunk, operation: indirect ? BLKIF_OP_INDIRECT : io.op, direct, pages, indirect: ind };
    // Direct segments go into the reused request; indirect ones, one at a time, into their pages.
    const segs = indirect ? null : this.#segs[nseg]!;
    const seg: BlkifSegment | null = segs ? null : { gref: 0, firstSect: 0, lastSect: 0 };
    for (let i = 0; i < nseg; i++) {
      const s = segs ? segs[i]! : seg!;
      s.gref = pages[i]!.ref;
      s.lastSect = (Math.min(PAGE_SIZE, chunk.len - i * PAGE_SIZE) >> SECTOR_SHIFT) - 1;
      if (!segs) encodeBlkifSegment(ind[Math.floor(i / BLKIF_SEGS_PER_INDIRECT_FRAME)]!.view, (i % BLKIF_SEGS_PER_INDIRECT_FRAME) * BLKIF_SEGMENT_SIZE, s);
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
  #guestPages(chunk: Chunk, nseg: number, backendWrites: boolean): IoPage[] | null {
    const bufs = chunk.io.bufs;
    let bi = 0;
    let bo = chunk.offset;
    while (bo >= bufs[bi]!.byteLength) bo -= bufs[bi++]!.byteLength;
    const out = new Array<IoPage>(nseg);
    for (let i = 0; i < nseg; i++) {
      const b = bufs[bi]!;
      const at = b.byteOffset + bo;
      let p: IoPage | null;
      try {
        p = this.#pages.direct(at / PAGE_SIZE, backendWrites);
      } catch {
        p = null; // a frame that cannot be granted: bounce pages still work
      }
      if (!p) {
        for (let j = 0; j < i; j++) this.#pages.put(out[j]!);
        return null;
      }
      out[i] = p;
      bo += PAGE_SIZE;
      // On to the next buffer that holds data (an empty one has no page of its own).
      while (bi < bufs.length && bo >= bufs[bi]!.byteLength) {
        bi++;
        bo = 0;
      }
    }
    return out;
  }

  #take(n: number, backendWrites: boolean): IoPage[] | null {
    const out: IoPage[] = [];
    for (let i = 0; i < n; i++) {
      const p = this.#pages.take(backendWrites);
      if (!p) {
        for (const q of out) this.#pages.put(q);
        return null;
      }
      out.push(p);
    }
    return out;
  }

  #onEvent(q: FrontQueue<Shadow>): void {
    if (this.#status === 'closed') return;
    try {
      q.poll(this.#done);
    } catch (e) {
      this.#ctx.log?.(`blkfront ${this.vdev}: ${(e as Error).message}`);
      this.#final(new IoError(`${this.vdev}: ${(e as Error).message}`));
      return;
    }
    this.#pump();
    if (this.#onDrained && this.#inFlight() === 0) this.#onDrained();
  }

  #complete(s: Shadow, operation: number, status: number): void {
    const { chunk } = s;
    const io = chunk.io;
    let err: BlockError | null = null;
    if (operation !== s.operation) {
      err = new IoError(`${this.vdev}: backend answered operation ${operation} to a request of operation ${s.operation}`);
    } else if (status === BLKIF_RSP_OKAY) {
      if (io.op === BLKIF_OP_READ && !s.direct) copySg(io.bufs, chunk.offset, s.pages, chunk.len, false);
    } else {
      const unsupported = status === BLKIF_RSP_EOPNOTSUPP;
      err = new IoError(`${this.vdev}: operation ${io.op} at sector ${io.sector} failed: ${unsupported ? 'BLKIF_RSP_EOPNOTSUPP' : 'BLKIF_RSP_ERROR'}`, unsupported);
    }
    for (let i = 0; i < s.pages.length; i++) this.#pages.put(s.pages[i]!);
    for (let i = 0; i < s.indirect.length; i++) this.#pages.put(s.indirect[i]!);
    this.#chunkDone(chunk, err);
  }

  #chunkDone(c: Chunk, err: BlockError | null): void {
    const io = c.io;
    if (err) io.error ??= err;
    if (--io.chunksLeft > 0) return;
    if (io.error) io.reject(io.error);
    else io.resolve();
  }
}
