// blkback: the backend half of a virtual block device (Linux's xen-blkback, xenbus side).
// It publishes the disk's features and goes InitWait; when the frontend is Initialised it
// maps the frontend's ring(s), binds the event channel(s) and goes Connected; it follows the
// frontend through Closing and Closed, unmapping everything, and waits for a reconnection
// until the toolstack takes the device away (online = 0, or the nodes removed).
import { BLKIF_SLOT_SIZE, BLKIF_XS, VDISK_CDROM, VDISK_READONLY, blkifQueueKey, blkifRingRefKey } from '../../../abi/blkif.js';
import { BackRing } from '../../../abi/ring.js';
import { XenbusState } from '../../../abi/xenbus.js';
import { XenError } from '../../../errors.js';
import { SECTOR_SIZE, type Disk } from '../../../storage/disk.js';
import type { DriverContext } from '../../evtchn.js';
import { mapRing, type MappedRing } from '../../ringpages.js';
import { XEN_IO_PROTO_ABI_NATIVE, readFlag, readUint, switchState, watchState } from '../../xenbus.js';
import { BackQueue, emptyBlkbackStats, type BlkbackStats } from './queue.js';
import {
  DEFAULT_MAX_INDIRECT_SEGMENTS, DEFAULT_MAX_QUEUES, DEFAULT_MAX_RING_PAGE_ORDER, defaultPersistentLimit,
} from '../protocol.js';
import { PersistentGrants } from './pgrants.js';

export interface BlkbackOptions {
  /** Offer feature-persistent (default true). */
  readonly persistent?: boolean;
  /** Persistently mapped grants per ring before LRU eviction (default: Linux's 1056, or ring slots x 11). */
  readonly maxPersistentGrants?: number;
  /** feature-max-indirect-segments; 0 offers no indirect requests (default 256). */
  readonly maxIndirectSegments?: number;
  /** max-ring-page-order (default 4). */
  readonly maxRingPageOrder?: number;
  /** multi-queue-max-queues (default 4). */
  readonly maxQueues?: number;
}

interface Connection {
  readonly queues: BackQueue[];
  readonly rings: MappedRing[];
  readonly pools: PersistentGrants[];
}

const MAX_EVTCHN_PORT = 0xffff;

export class BlkBack {
  readonly frontendId: number;
  readonly frontendDir: string;
  readonly stats: BlkbackStats = emptyBlkbackStats();
  readonly #ctx: DriverContext;
  readonly #disk: Disk;
  readonly #o: Required<Omit<BlkbackOptions, 'maxPersistentGrants'>> & { maxPersistentGrants?: number };
  #state = XenbusState.Initialising;
  #conn: Connection | null = null;
  #stopWatch: (() => Promise<void>) | null = null;
  #closed = false;
  #log: (line: string) => void;

  private constructor(ctx: DriverContext, readonly dir: string, disk: Disk, frontendId: number, frontendDir: string, opts: BlkbackOptions) {
    this.#ctx = ctx;
    this.#disk = disk;
    this.frontendId = frontendId;
    this.frontendDir = frontendDir;
    this.#o = {
      persistent: opts.persistent ?? true,
      maxIndirectSegments: opts.maxIndirectSegments ?? DEFAULT_MAX_INDIRECT_SEGMENTS,
      maxRingPageOrder: opts.maxRingPageOrder ?? DEFAULT_MAX_RING_PAGE_ORDER,
      maxQueues: opts.maxQueues ?? DEFAULT_MAX_QUEUES,
      ...(opts.maxPersistentGrants !== undefined && { maxPersistentGrants: opts.maxPersistentGrants }),
    };
    const log = ctx.log ?? (() => {});
    this.#log = (line) => log(`blkback ${dir}: ${line}`);
  }

  /**
   * Serve `disk` on the backend device at `dir` (which the toolstack created, with
   * frontend-id and frontend): publish features, go InitWait, follow the frontend.
   */
  static async start(ctx: DriverContext, dir: string, disk: Disk, opts: BlkbackOptions = {}): Promise<BlkBack> {
    const frontendId = await readUint(ctx.xs, `${dir}/frontend-id`, 0x7fef);
    const frontendDir = await ctx.xs.read(`${dir}/frontend`);
    await ctx.hc.connect(frontendId);
    const be = new BlkBack(ctx, dir, disk, frontendId, frontendDir, opts);
    await be.#publishFeatures();
    await be.#switch(XenbusState.InitWait);
    be.#stopWatch = await watchState(ctx.xs, frontendDir, (s) => be.#frontendChanged(s), (e) => be.#log(`frontend watch: ${(e as Error).message}`));
    return be;
  }

  get state(): XenbusState {
    return this.#state;
  }

  get connected(): boolean {
    return this.#conn !== null;
  }

  /** Persistently mapped grants, per ring. */
  get persistentGrants(): number[] {
    return this.#conn?.pools.map((p) => p.size) ?? [];
  }

  async #publishFeatures(): Promise<void> {
    const d = this.#disk;
    const o = this.#o;
    await this.#ctx.xs.transaction(async (t) => {
      const w = (k: string, v: string | number | boolean) => t.write(`${this.dir}/${k}`, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
      await w(BLKIF_XS.featureFlushCache, d.features.flush);
      await w(BLKIF_XS.featureBarrier, d.features.flush);
      const discard = d.features.discard && (await t.readOptional(`${this.dir}/${BLKIF_XS.discardEnable}`)) !== '0';
      await w(BLKIF_XS.featureDiscard, discard);
      if (discard) {
        await w(BLKIF_XS.discardGranularity, SECTOR_SIZE);
        await w(BLKIF_XS.discardAlignment, 0);
        await w(BLKIF_XS.discardSecure, d.features.secureDiscard);
      }
      await w(BLKIF_XS.featurePersistent, o.persistent);
      if (o.maxIndirectSegments > 0) await w(BLKIF_XS.featureMaxIndirectSegments, o.maxIndirectSegments);
      await w(BLKIF_XS.maxRingPageOrder, o.maxRingPageOrder);
      await w(BLKIF_XS.multiQueueMaxQueues, o.maxQueues);
    });
  }

  async #switch(s: XenbusState): Promise<void> {
    if (this.#closed) return;
    this.#state = s;
    await switchState(this.#ctx.xs, this.dir, s);
  }

  /** Linux blkback's frontend_changed. */
  async #frontendChanged(s: XenbusState): Promise<void> {
    if (this.#closed) return;
    switch (s) {
      case XenbusState.Initialising:
        if (this.#state === XenbusState.Closed) await this.#switch(XenbusState.InitWait);
        return;
      case XenbusState.Initialised:
        if (this.#state === XenbusState.Connected) return;
        await this.#disconnect();
        try {
          await this.#connect();
        } catch (e) {
          await this.#disconnect();
          await this.#fatal(`connecting to the frontend's rings: ${(e as Error).message}`);
        }
        return;
      case XenbusState.Connected:
        // The frontend only reaches Connected after we did; seen while we are not, it is the
        // state an earlier backend left behind, and the frontend will start over.
        return;
      case XenbusState.Closing:
        await this.#switch(XenbusState.Closing);
        return;
      case XenbusState.Closed:
        // A frontend left Closed by an earlier backend: stay InitWait, it starts over when it sees us.
        if (this.#state === XenbusState.InitWait && !this.#conn) return;
        await this.#disconnect();
        await this.#switch(XenbusState.Closed);
        if ((await this.#ctx.xs.readOptional(`${this.dir}/online`)) === '0') await this.close();
        return;
      default:
        // Unknown: the frontend's nodes are gone (its domain, or the device, was removed).
        await this.close();
    }
  }

  /** xenbus_dev_fatal: say why and close the device from our side. */
  async #fatal(why: string): Promise<void> {
    this.#log(why);
    await this.#ctx.xs.write(`${this.dir}/error`, why).catch(() => {});
    await this.#switch(XenbusState.Closing);
  }

  async #connect(): Promise<void> {
    const { xs, hc, evtchn } = this.#ctx;
    const fe = this.frontendDir;
    const o = this.#o;
    const nq = await readUint(xs, `${fe}/${BLKIF_XS.multiQueueNumQueues}`, o.maxQueues, 1);
    if (nq === 0) throw new XenError('EINVAL', `${BLKIF_XS.multiQueueNumQueues} is 0`);
    const order = await readUint(xs, `${fe}/${BLKIF_XS.ringPageOrder}`, o.maxRingPageOrder, 0);
    const protocol = await xs.readOptional(`${fe}/${BLKIF_XS.protocol}`);
    if (protocol !== undefined && protocol !== XEN_IO_PROTO_ABI_NATIVE) {
      throw new XenError('EINVAL', `protocol ${JSON.stringify(protocol.slice(0, 32))} is not ${XEN_IO_PROTO_ABI_NATIVE}`);
    }
    const persistent = o.persistent && (await readFlag(xs, `${fe}/${BLKIF_XS.featurePersistent}`));
    const discard = (await xs.readOptional(`${this.dir}/${BLKIF_XS.featureDiscard}`)) === '1';
    const conn: Connection = { queues: [], rings: [], pools: [] };
    this.#conn = conn;
    for (let q = 0; q < nq; q++) {
      const qdir = nq === 1 ? fe : `${fe}/${blkifQueueKey(q)}`;
      const refs: number[] = [];
      if (order === 0) refs.push(await readUint(xs, `${qdir}/${BLKIF_XS.ringRef}`, 0xffffffff));
      else for (let i = 0; i < 1 << order; i++) refs.push(await readUint(xs, `${qdir}/${blkifRingRefKey(i)}`, 0xffffffff));
      const remotePort = await readUint(xs, `${qdir}/${BLKIF_XS.eventChannel}`, MAX_EVTCHN_PORT);
      const mapped = mapRing(hc, this.frontendId, refs);
      conn.rings.push(mapped);
      const ring = new BackRing(mapped.bytes, BLKIF_SLOT_SIZE);
      const port = await evtchn.bindInterdomain(this.frontendId, remotePort);
      const pool = persistent ? new PersistentGrants(hc, this.frontendId, o.maxPersistentGrants ?? defaultPersistentLimit(ring.nrEnts, o.maxIndirectSegments)) : null;
      if (pool) conn.pools.push(pool);
      conn.queues.push(new BackQueue({
        ring, port, hc, pool,
        frontendId: this.frontendId,
        disk: this.#disk,
        maxIndirectSegments: o.maxIndirectSegments,
        discard,
        stats: this.stats,
        onFatal: (why) => void this.#protocolError(why),
        log: this.#log,
      }));
    }
    const d = this.#disk;
    const cdrom = (await xs.readOptional(`${this.dir}/${BLKIF_XS.deviceType}`)) === 'cdrom';
    await xs.transaction(async (t) => {
      await t.write(`${this.dir}/${BLKIF_XS.sectors}`, String(d.sectors));
      await t.write(`${this.dir}/${BLKIF_XS.sectorSize}`, String(SECTOR_SIZE));
      await t.write(`${this.dir}/${BLKIF_XS.physicalSectorSize}`, String(SECTOR_SIZE));
      await t.write(`${this.dir}/${BLKIF_XS.info}`, String((d.readOnly ? VDISK_READONLY : 0) | (cdrom ? VDISK_CDROM : 0)));
    });
    await this.#switch(XenbusState.Connected);
    // Requests published before we were listening.
    for (const q of conn.queues) q.service();
  }

  async #protocolError(why: string): Promise<void> {
    await this.#disconnect();
    await this.#fatal(`the frontend broke the ring protocol: ${why}`);
  }

  /** Stop every ring, wait for its requests, unmap it all (xen_blkif_disconnect; idempotent). */
  async #disconnect(): Promise<void> {
    const conn = this.#conn;
    if (!conn) return;
    this.#conn = null;
    await Promise.all(conn.queues.map((q) => q.stop()));
    for (const p of conn.pools) p.clear();
    for (const r of conn.rings) r.unmap();
  }

  /** Take the device away: disconnect, stop following the frontend, close the disk. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#disconnect();
    this.#closed = true;
    await this.#stopWatch?.();
    await this.#disk.close();
  }
}
