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
import { BackendLifecycle } from '../../backend.js';
import type { DriverContext } from '../../evtchn.js';
import { mapRing, type MappedRing } from '../../ringpages.js';
import { XEN_IO_PROTO_ABI_NATIVE, readFlag, readUint } from '../../xenbus.js';
import { BackQueue, emptyBlkbackStats, type BackQueueSnapshot, type BlkbackStats } from './queue.js';
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
  #disk: Disk;
  #switching: Promise<unknown> = Promise.resolve();
  readonly #o: Required<Omit<BlkbackOptions, 'maxPersistentGrants'>> & { maxPersistentGrants?: number };
  readonly #life: BackendLifecycle;
  #conn: Connection | null = null;
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
    const be = this;
    this.#life = new BackendLifecycle(ctx.xs, dir, frontendDir, this.#log, {
      get connected() {
        return be.#conn !== null;
      },
      wantsConnect: (s) => s === XenbusState.Initialised && this.#life.state !== XenbusState.Connected,
      connect: () => this.#connect(),
      disconnect: () => this.#disconnect(),
      disconnectOnClosing: false,
      closed: () => this.#disk.close(),
    });
  }

  /**
   * Serve `disk` on the backend device at `dir` (which the toolstack created, with
   * frontend-id and frontend): publish features, go InitWait, follow the frontend.
   */
  static async start(ctx: DriverContext, dir: string, disk: Disk, opts: BlkbackOptions = {}): Promise<BlkBack> {
    const [frontendId, frontendDir] = await Promise.all([readUint(ctx.xs, `${dir}/frontend-id`, 0x7fef), ctx.xs.read(`${dir}/frontend`)]);
    await ctx.hc.connect(frontendId);
    const be = new BlkBack(ctx, dir, disk, frontendId, frontendDir, opts);
    await be.#publishFeatures();
    await be.#life.start();
    return be;
  }

  get state(): XenbusState {
    return this.#life.state;
  }

  get connected(): boolean {
    return this.#conn !== null;
  }

  /** Each connected ring's indexes and state (BackQueue.snapshot). */
  get rings(): BackQueueSnapshot[] {
    return this.#conn?.queues.map((q) => q.snapshot()) ?? [];
  }

  /** Persistently mapped grants, per ring. */
  get persistentGrants(): number[] {
    return this.#conn?.pools.map((p) => p.size) ?? [];
  }

  async #publishFeatures(): Promise<void> {
    const d = this.#disk;
    const o = this.#o;
    // One transaction, its writes sent at once (xenstored takes them in order).
    await this.#ctx.xs.transaction(async (t) => {
      const w = (k: string, v: string | number | boolean) => t.write(`${this.dir}/${k}`, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
      // A key of a feature not offered goes: a backend started again on the directory (a restart,
      // other options) must not leave its predecessor's offer for the frontend to take.
      const rm = (k: string) => t.rm(`${this.dir}/${k}`);
      const discard = d.features.discard && (await t.readOptional(`${this.dir}/${BLKIF_XS.discardEnable}`)) !== '0';
      await Promise.all([
        w(BLKIF_XS.featureFlushCache, d.features.flush), w(BLKIF_XS.featureBarrier, d.features.flush), w(BLKIF_XS.featureDiscard, discard),
        ...(discard
          ? [w(BLKIF_XS.discardGranularity, SECTOR_SIZE), w(BLKIF_XS.discardAlignment, 0), w(BLKIF_XS.discardSecure, d.features.secureDiscard)]
          : [rm(BLKIF_XS.discardGranularity), rm(BLKIF_XS.discardAlignment), rm(BLKIF_XS.discardSecure)]),
        w(BLKIF_XS.featurePersistent, o.persistent),
        o.maxIndirectSegments > 0 ? w(BLKIF_XS.featureMaxIndirectSegments, o.maxIndirectSegments) : rm(BLKIF_XS.featureMaxIndirectSegments),
        w(BLKIF_XS.maxRingPageOrder, o.maxRingPageOrder), w(BLKIF_XS.multiQueueMaxQueues, o.maxQueues),
      ]);
    });
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
    await this.#life.switch(XenbusState.Connected);
    // Requests published before we were listening.
    for (const q of conn.queues) q.service();
  }

  async #protocolError(why: string): Promise<void> {
    await this.#disconnect();
    await this.#life.fatal(`the frontend broke the ring protocol: ${why}`);
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

  /** The disk served now. */
  get disk(): Disk {
    return this.#disk;
  }

  /**
   * Switch the disk under the guest, as XCP pauses tapdisk to snapshot: every ring stops taking
   * requests and drains what it took, `open(old)` gives the disk to serve from then on (the
   * same size), the rings go on with it. The guest sees only latency. If `open` fails, the rings
   * go on with the old disk. Returns how long I/O was paused (ms). The old disk is not closed.
   */
  switchDisk(open: (old: Disk) => Promise<Disk>): Promise<number> {
    const run = this.#switching.then(async () => {
      const queues = this.#conn?.queues ?? [];
      const t0 = performance.now();
      await Promise.all(queues.map((q) => q.pause()));
      let next = this.#disk;
      try {
        next = await open(this.#disk);
        if (next.sectors !== this.#disk.sectors) {
          const got = next.sectors;
          await next.close().catch(() => {});
          next = this.#disk;
          throw new XenError('EINVAL', `${this.dir}: the new disk has ${got} sectors, not ${this.#disk.sectors}`);
        }
        this.#disk = next;
      } finally {
        for (const q of queues) q.resume(next);
      }
      return performance.now() - t0;
    });
    this.#switching = run.catch(() => {});
    return run;
  }

  /**
   * Switch to `next` without pausing the guest's I/O (a snapshot, whose new disk reads what the
   * old one wrote however late): requests taken from now on go to `next`, those in flight finish
   * on the old disk. Refused if the disk served is no longer `old`. Resolves once the switch is
   * made, with how long it took (ms) and `drained`, which resolves once the old disk has no
   * request left; a later switch waits for that.
   */
  swapDisk(next: Disk, old: Disk): Promise<{ pausedMs: number; drained: Promise<void> }> {
    const run = this.#switching.then(() => {
      const t0 = performance.now();
      if (this.#disk !== old) throw new XenError('EBUSY', `${this.dir}: the disk served changed meanwhile`);
      if (next.sectors !== old.sectors) throw new XenError('EINVAL', `${this.dir}: the new disk has ${next.sectors} sectors, not ${old.sectors}`);
      this.#disk = next;
      const drained = Promise.all((this.#conn?.queues ?? []).map((q) => q.swap(next))).then(() => undefined);
      return { pausedMs: performance.now() - t0, drained };
    });
    this.#switching = run.then((r) => r.drained).catch(() => {});
    return run;
  }

  /** Take the device away: disconnect, stop following the frontend, close the disk. */
  close(): Promise<void> {
    return this.#life.close();
  }
}
