// blkfront: the frontend half of a virtual block device, in the guest (Linux's xen-blkfront). This
// module is its xenbus negotiation (the lifecycle is ../../frontend.ts): it negotiates with the
// backend (rings of 2^order pages, one or more queues, persistent grants, indirect descriptors),
// follows the backend's state, and checks each guest I/O before handing it to the data path
// (./datapath.ts), which cuts it into ring requests and copies data through granted I/O pages.
// When the backend goes away under it (Closing, Closed, or back to InitWait after a restart) the
// data path revokes its grants and keeps every request that was in flight to issue again once a
// backend connects, as Linux's blkif_recover does; when the device itself goes (its nodes removed,
// or the backend's), everything pending fails with Disconnected.
import {
  BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST, BLKIF_MAX_SEGMENTS_PER_REQUEST, BLKIF_OP_DISCARD, BLKIF_OP_FLUSH_DISKCACHE,
  BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_OP_WRITE_BARRIER, BLKIF_SEGS_PER_INDIRECT_FRAME, BLKIF_XS, VDISK_CDROM,
  VDISK_READONLY, VDISK_REMOVABLE, blkifQueueKey, blkifRingRefKey,
} from '../../../abi/blkif.js';
import { SECTOR_SIZE } from '../../../storage/disk.js';
import type { DriverContext } from '../../evtchn.js';
import { FrontendLifecycle, type FrontendStatus } from '../../frontend.js';
import { XEN_IO_PROTO_ABI_NATIVE, frontendPath, readFlag, readUint } from '../../xenbus.js';
import { DEFAULT_MAX_INDIRECT_SEGMENTS, FRONT_MAX_RING_PAGE_ORDER } from '../protocol.js';
import type { Block, BlockInfo } from './block.js';
import { FrontDatapath } from './datapath.js';
import { Disconnected, IoError, type BlockError } from './errors.js';
import { asList, byteLength, checkIo, isEmptyIo } from './requests.js';

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

export type BlkfrontStatus = FrontendStatus;

const MAX_QUEUES = 64;
/** Segments that fit the indirect pages of one request. */
const MAX_INDIRECT = BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * BLKIF_SEGS_PER_INDIRECT_FRAME;

export class BlkFront implements Block {
  readonly dir: string;
  readonly #ctx: DriverContext;
  readonly #o: BlkfrontOptions;
  readonly #data: FrontDatapath;
  readonly #life: FrontendLifecycle<BlockError>;
  #info: BlkfrontInfo | null = null;
  #persistent = false;
  #order = 0;
  #queues = 0;

  private constructor(ctx: DriverContext, readonly vdev: string, readonly devid: number, readonly domid: number,
    readonly backendDir: string, readonly backendId: number, opts: BlkfrontOptions) {
    this.#ctx = ctx;
    this.#o = opts;
    this.dir = frontendPath(domid, 'vbd', devid);
    this.#data = new FrontDatapath(ctx, vdev, devid, (e) => this.#life.final(e));
    const data = this.#data;
    this.#life = new FrontendLifecycle<BlockError>(ctx.xs, vdev, this.dir, backendDir, {
      disconnected: (message) => new Disconnected(message),
      talk: () => this.#talk(),
      finishConnect: () => this.#finishConnect(),
      reconnected: () => this.#readSize(),
      teardown: (recover) => data.teardown(recover),
      close: (err) => data.close(err),
      retryRevoke: () => data.retryRevoke(),
      drain: (err) => data.drain(err),
    });
  }

  /** Connect to device `devid` of domain `domid`; resolves once the handshake is done. */
  static async connect(ctx: DriverContext, domid: number, devid: number, vdev: string, opts: BlkfrontOptions = {}): Promise<BlkFront> {
    const dir = frontendPath(domid, 'vbd', devid);
    const backendDir = await ctx.xs.readOptional(`${dir}/backend`);
    if (backendDir === undefined) throw new Disconnected(`${vdev}: no such block device (${dir})`);
    const backendId = await readUint(ctx.xs, `${dir}/backend-id`, 0x7fef);
    const f = new BlkFront(ctx, vdev, devid, domid, backendDir, backendId, opts);
    await f.#life.start();
    return f;
  }

  get status(): BlkfrontStatus {
    return this.#life.status;
  }

  /** Everything negotiated (null before the first connection). */
  get negotiated(): BlkfrontInfo | null {
    return this.#info;
  }

  /** Persistent grants given to the current backend. */
  get persistentGrants(): number {
    return this.#data.persistentGrants;
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
    if (i && !i.flush && !i.barrier && this.#life.status !== 'closed') return Promise.resolve();
    return this.#submit(i?.flush === false ? BLKIF_OP_WRITE_BARRIER : BLKIF_OP_FLUSH_DISKCACHE, 0, [], 0, false);
  }

  discard(sector: number, count: number, secure = false): Promise<void> {
    return this.#submit(BLKIF_OP_DISCARD, sector, [], count, secure);
  }

  /** Check an I/O against the device; the data path queues it until a ring takes it. */
  #submit(op: number, sector: number, bufs: readonly Uint8Array[], count: number, secure: boolean): Promise<void> {
    if (this.#life.refusing) return Promise.reject(new Disconnected(`${this.vdev}: the device is closed`));
    const bytes = byteLength(bufs);
    const err = checkIo(this.vdev, this.#info!, op, sector, bytes, count);
    if (err) return Promise.reject(err);
    if (isEmptyIo(op, bytes, count)) return Promise.resolve();
    return this.#data.submit(op, sector, bufs, bytes, count, secure);
  }

  /** talk_to_blkback: rings, event channels and features, then Initialised. */
  async #talk(): Promise<void> {
    const xs = this.#ctx.xs;
    const be = this.backendDir;
    const maxOrder = await readUint(xs, `${be}/${BLKIF_XS.maxRingPageOrder}`, 31, 0);
    const maxQueues = Math.max(1, await readUint(xs, `${be}/${BLKIF_XS.multiQueueMaxQueues}`, 0xffff, 1));
    const persistent = (this.#o.persistent ?? true) && (await readFlag(xs, `${be}/${BLKIF_XS.featurePersistent}`));
    const order = Math.min(this.#o.ringPageOrder ?? 0, maxOrder, FRONT_MAX_RING_PAGE_ORDER);
    const nq = Math.min(Math.max(1, this.#o.queues ?? 1), maxQueues, MAX_QUEUES);
    this.#persistent = persistent;
    this.#order = order;
    this.#queues = nq;
    const queues = await this.#data.connectRings(this.backendId, persistent, order, nq);
    await xs.transaction(async (t) => {
      const w = (path: string, v: string | number) => t.write(`${this.dir}/${path}`, String(v));
      for (const [i, q] of queues.entries()) {
        const prefix = nq === 1 ? '' : `${blkifQueueKey(i)}/`;
        if (order === 0) await w(`${prefix}${BLKIF_XS.ringRef}`, q.refs[0]!);
        else for (const [p, ref] of q.refs.entries()) await w(`${prefix}${blkifRingRefKey(p)}`, ref);
        await w(`${prefix}${BLKIF_XS.eventChannel}`, q.port);
      }
      if (order > 0) {
        await w(BLKIF_XS.ringPageOrder, order);
        await w(BLKIF_XS.numRingPages, 1 << order);
      }
      if (nq > 1) await w(BLKIF_XS.multiQueueNumQueues, nq);
      await w(BLKIF_XS.protocol, XEN_IO_PROTO_ABI_NATIVE);
      await w(BLKIF_XS.featurePersistent, persistent ? 1 : 0);
    });
    await this.#life.initialised();
  }

  /** blkfront_connect: read what the backend says about the disk, go Connected, issue what waits. */
  async #finishConnect(): Promise<void> {
    const xs = this.#ctx.xs;
    const be = this.backendDir;
    const sectorSize = await readUint(xs, `${be}/${BLKIF_XS.sectorSize}`, 1 << 16, SECTOR_SIZE);
    if (sectorSize !== SECTOR_SIZE) {
      // We do not write feature-large-sector-size, so the backend must use 512 (blkif.h).
      return this.#life.final(new IoError(`${this.vdev}: backend sector-size ${sectorSize} is not ${SECTOR_SIZE}`));
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
      queues: this.#queues,
    };
    // The data path first, as Linux's blkfront_connect: connected() lets requests in at once.
    this.#data.start(this.#info.maxSegments, beIndirect);
    await this.#life.connected();
  }

  /** The backend re-announced Connected: the disk may have been resized. */
  async #readSize(): Promise<void> {
    const sizeSectors = await readUint(this.#ctx.xs, `${this.backendDir}/${BLKIF_XS.sectors}`, Number.MAX_SAFE_INTEGER);
    if (this.#info) this.#info = { ...this.#info, sizeSectors };
  }

  /**
   * Orderly close (Mirage's disconnect): new I/O is refused, I/O in flight finishes, then
   * Closing, Closed, and the grants go once the backend has let go of them.
   */
  disconnect(): Promise<void> {
    return this.#life.disconnect();
  }

  /** For a suspend: stop issuing; resolves once the requests in flight are answered. */
  quiesce(): Promise<void> {
    return this.#data.quiesce();
  }

  /** The suspend was cancelled: carry on where it stopped. */
  release(): void {
    this.#data.release();
  }
}
