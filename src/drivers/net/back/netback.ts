// netback: the backend half of a virtual network interface (Linux's xen-netback, xenbus side).
// It publishes what it offers and goes InitWait; when the frontend has written its rings
// (Initialised, or Connected as Linux netfront says it) it maps them, binds the event
// channels, plugs the vif into dom0's switch and goes Connected. It follows the frontend
// through Closing and Closed, unplugging and unmapping, and waits for a reconnection until the
// toolstack takes the device away. It refuses as Linux does: no request-rx-copy (netback only
// copies), no feature-rx-notify (mandatory), more queues than offered. A frontend that breaks
// the tx rules is disabled (xenvif_fatal_tx_err): the vif drops everything and stays so until
// the frontend reconnects.
import {
  NET_FRAME_PLAIN, NETIF_CTRL_SLOT_SIZE, NETIF_RX_SLOT_SIZE, NETIF_TX_SLOT_SIZE, NETIF_XS, XEN_NETIF_CTRL_HASH_ALGORITHM_NONE, type NetFrameInfo,
} from '../../../abi/netif.js';
import { BackRing } from '../../../abi/ring.js';
import { XenbusState } from '../../../abi/xenbus.js';
import { XenError } from '../../../errors.js';
import type { BoundPort } from '../../../hypervisor/port.js';
import type { XsWatch } from '../../../xenstore/client/client.js';
import { macAnnouncement } from '../../../network/announce.js';
import { parseMac } from '../../../network/mac.js';
import type { FramePass, FrameSender, FrameTail, PortDevice, PortFeatures, PortLocking, SwitchPort, VirtualSwitch } from '../../../network/port.js';
import { BackendLifecycle } from '../../backend.js';
import type { DriverContext } from '../../evtchn.js';
import { mapRing, type MappedRing } from '../../ringpages.js';
import { readFlag, readUint } from '../../xenbus.js';
import { DEFAULT_MAX_QUEUES, VIF_BACKEND_XS, XL_DEFAULT_BRIDGE, netifQueueKey, parseRateNode, type NetRate } from '../protocol.js';
import { Credit } from './credit.js';
import { CtrlRing, QueueSelector } from './ctrl.js';
import { McastFilter } from './mcast.js';
import { emptyNetbackStats, type NetbackStats } from './stats.js';
import { RX_QUEUE_DEFAULTS, RxPath, type RxFeatures, type RxQueueLimits } from './rx.js';
import { TxPath } from './tx.js';

export interface NetbackOptions {
  /** multi-queue-max-queues (default 4). */
  readonly maxQueues?: number;
  /**
   * Let every vif with no locking-mode node send from any MAC (the switch checks the source
   * against `mac` otherwise); a vif's own locking-mode (see VIF_BACKEND_XS) goes before it.
   */
  readonly macSpoof?: boolean;
  /** The rx queue's bound and timeouts (xen-netback's rx_queue_max, rx_drain/stall_timeout_msecs). */
  readonly rxQueue?: Partial<RxQueueLimits>;
}

interface Queue {
  readonly tx: TxPath;
  readonly rx: RxPath;
  readonly ports: BoundPort[];
}

interface Connection {
  readonly queues: Queue[];
  readonly rings: MappedRing[];
  readonly selector: QueueSelector;
  readonly mcast: McastFilter;
  /** rate and request-multicast-control, re-read when they change (xen_register_watchers). */
  readonly watches: XsWatch[];
  ctrl: CtrlRing | null;
  ctrlPort: BoundPort | null;
  readonly features: PortFeatures;
  port: SwitchPort | null;
  /** The MAC its port was plugged with (the backend's mac node). */
  mac: string | undefined;
  /** Queues stalled now (vif->stalled_queues): the carrier is off while any is. */
  stalledQueues: number;
}

const MAX_EVTCHN_PORT = 0xffff;
const MAX_GREF = 0xffffffff;
const NO_FEATURES: PortFeatures = { csumOffload: false, gsoTcpv4: false, gsoTcpv6: false };

export class NetBack implements PortDevice {
  readonly frontendId: number;
  readonly frontendDir: string;
  readonly handle: number;
  readonly name: string;
  readonly stats: NetbackStats = emptyNetbackStats();
  readonly #ctx: DriverContext;
  readonly #switch: VirtualSwitch;
  readonly #maxQueues: number;
  readonly #macSpoof: boolean;
  readonly #rxLimits: RxQueueLimits;
  readonly #life: BackendLifecycle;
  #conn: Connection | null = null;
  /** The last plug (#plug): the next waits for it. */
  #plugging: Promise<void> = Promise.resolve();
  /** Why the frontend was disabled as malicious, until it reconnects. */
  #disabled: string | null = null;
  #log: (line: string) => void;

  private constructor(ctx: DriverContext, readonly dir: string, sw: VirtualSwitch, frontendId: number, frontendDir: string, handle: number, name: string, opts: NetbackOptions) {
    this.#ctx = ctx;
    this.#switch = sw;
    this.frontendId = frontendId;
    this.frontendDir = frontendDir;
    this.handle = handle;
    this.name = name;
    this.#maxQueues = opts.maxQueues ?? DEFAULT_MAX_QUEUES;
    this.#macSpoof = opts.macSpoof ?? false;
    this.#rxLimits = { ...RX_QUEUE_DEFAULTS, ...opts.rxQueue };
    const log = ctx.log ?? (() => {});
    this.#log = (line) => log(`netback ${name}: ${line}`);
    const be = this;
    this.#life = new BackendLifecycle(ctx.xs, dir, frontendDir, this.#log, {
      get connected() {
        return be.#conn !== null;
      },
      // Connecting on Initialised too (as blkback does). A Connected we find on starting was
      // left by an earlier backend: its rings are mid-stream, and the frontend starts over
      // when it sees us InitWait.
      wantsConnect: (s, first) => !this.#conn && !(first && s === XenbusState.Connected),
      connect: () => this.#connect(),
      disconnect: () => this.#disconnect(),
      disconnectOnClosing: true,
    });
  }

  /**
   * Serve the vif at backend directory `dir` (which the toolstack created, with frontend-id,
   * frontend and handle), plugging it into `sw` once connected.
   */
  static async start(ctx: DriverContext, dir: string, sw: VirtualSwitch, opts: NetbackOptions = {}): Promise<NetBack> {
    const xs = ctx.xs;
    const [frontendId, frontendDir, handle, vifname] = await Promise.all([
      readUint(xs, `${dir}/frontend-id`, 0x7fef), xs.read(`${dir}/frontend`), readUint(xs, `${dir}/${VIF_BACKEND_XS.handle}`, 0xffff),
      xs.readOptional(`${dir}/${VIF_BACKEND_XS.vifname}`),
    ]);
    await ctx.hc.connect(frontendId);
    const be = new NetBack(ctx, dir, sw, frontendId, frontendDir, handle, vifname ?? `vif${frontendId}.${handle}`, opts);
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

  /** Why the vif was disabled (the frontend broke the ring rules), or null. */
  get disabled(): string | null {
    return this.#disabled;
  }

  get queues(): number {
    return this.#conn?.queues.length ?? 0;
  }

  /** netif_carrier_ok: connected, not disabled, and no rx queue stalled. */
  get carrier(): boolean {
    return this.#conn !== null && this.#disabled === null && this.#conn.stalledQueues === 0;
  }

  /** Frames held for the frontend in all its rx queues, and their bytes. */
  get rxHeld(): { frames: number; bytes: number } {
    const sum = { frames: 0, bytes: 0 };
    for (const q of this.#conn?.queues ?? []) {
      const h = q.rx.held;
      sum.frames += h.frames;
      sum.bytes += h.bytes;
    }
    return sum;
  }

  // ---------------- PortDevice ----------------

  get features(): PortFeatures {
    return this.#conn?.features ?? NO_FEATURES;
  }

  deliver(frame: Uint8Array, info: NetFrameInfo, pass?: FramePass, sender?: FrameSender): boolean {
    return this.#deliver(frame, info, undefined, pass, sender);
  }

  /** A frame with its tail in the sender's grants: copied grant to grant into this frontend's buffers. */
  deliverTail(frame: Uint8Array, info: NetFrameInfo, tail: FrameTail, sender?: FrameSender): boolean {
    return this.#deliver(frame, info, tail, undefined, sender);
  }

  #deliver(frame: Uint8Array, info: NetFrameInfo, tail: FrameTail | undefined, pass?: FramePass, sender?: FrameSender): boolean {
    const conn = this.#conn;
    // Carrier off (a stalled queue): dropped here, before any queue holds it.
    if (!conn || this.#disabled !== null || conn.stalledQueues !== 0) {
      this.stats.txDropped++;
      return false;
    }
    if (!conn.mcast.passes(frame)) {
      this.stats.txDropped++;
      return false;
    }
    const s = conn.selector;
    // A hash reads headers past the ones the switch read: the frame's bytes must be here.
    if (tail && (s.numQueues > 1 || s.algorithm !== XEN_NETIF_CTRL_HASH_ALGORITHM_NONE)) {
      if (!tail.fill()) {
        this.stats.txDropped++;
        return false;
      }
      tail = undefined;
    }
    const q = s.select(frame);
    return conn.queues[q]!.rx.deliver(frame, info, s.hashType, s.hashValue, tail, pass, sender);
  }

  // ---------------- xenbus ----------------

  async #publishFeatures(): Promise<void> {
    // One transaction, its writes sent at once (xenstored takes them in order).
    await this.#ctx.xs.transaction((t) => Promise.all(([
      [NETIF_XS.featureSg, 1], [NETIF_XS.featureGsoTcpv4, 1], [NETIF_XS.featureGsoTcpv6, 1], [NETIF_XS.featureIpv6CsumOffload, 1],
      [NETIF_XS.featureRxCopy, 1], [NETIF_XS.featureRxFlip, 0], [NETIF_XS.featureMulticastControl, 1],
      [NETIF_XS.featureDynamicMulticastControl, 1], [NETIF_XS.featureSplitEventChannels, 1], [NETIF_XS.multiQueueMaxQueues, this.#maxQueues],
      [NETIF_XS.featureCtrlRing, 1],
    ] as const).map(([k, v]) => t.write(`${this.dir}/${k}`, String(v)))));
  }

  async #connect(): Promise<void> {
    const { xs, hc, evtchn } = this.#ctx;
    const fe = this.frontendDir;
    const be = this.dir;
    if (!(await readFlag(xs, `${fe}/${NETIF_XS.requestRxCopy}`))) {
      throw new XenError('EOPNOTSUPP', `${fe}/${NETIF_XS.requestRxCopy} is not 1: netback only copies into the guest`);
    }
    // As Linux since 4.x: frames held for rx buffers wait for the frontend's event when it posts them.
    if (!(await readFlag(xs, `${fe}/${NETIF_XS.featureRxNotify}`))) {
      throw new XenError('EOPNOTSUPP', `${fe}/${NETIF_XS.featureRxNotify} is not 1: it is mandatory`);
    }
    const nq = await readUint(xs, `${fe}/${NETIF_XS.multiQueueNumQueues}`, 0xffff, 1);
    if (nq === 0 || nq > this.#maxQueues) {
      throw new XenError('EINVAL', `the guest asked for ${nq} queues, the most offered is ${this.#maxQueues}`);
    }
    const rate = await this.#readRate();
    const flag = (k: string) => readFlag(xs, `${fe}/${k}`);
    const sg = await flag(NETIF_XS.featureSg);
    const rxFeatures: RxFeatures = {
      sg,
      gsoTcpv4: sg && (await flag(NETIF_XS.featureGsoTcpv4)),
      gsoTcpv6: sg && (await flag(NETIF_XS.featureGsoTcpv6)),
    };
    const features: PortFeatures = {
      csumOffload: !(await flag(NETIF_XS.featureNoCsumOffload)),
      gsoTcpv4: rxFeatures.gsoTcpv4,
      gsoTcpv6: rxFeatures.gsoTcpv6,
    };
    const selector = new QueueSelector(nq);
    const mcast = new McastFilter();
    mcast.enabled = await flag(NETIF_XS.requestMulticastControl);
    const conn: Connection = { queues: [], rings: [], selector, mcast, watches: [], ctrl: null, ctrlPort: null, features, port: null, mac: undefined, stalledQueues: 0 };
    this.#conn = conn;
    this.#disabled = null;
    const onFatal = (why: string) => this.#disable(why);
    for (let q = 0; q < nq; q++) {
      const qdir = nq === 1 ? fe : `${fe}/${netifQueueKey(q)}`;
      const txRef = await readUint(xs, `${qdir}/${NETIF_XS.txRingRef}`, MAX_GREF);
      const rxRef = await readUint(xs, `${qdir}/${NETIF_XS.rxRingRef}`, MAX_GREF);
      const split = await xs.readOptional(`${qdir}/${NETIF_XS.eventChannelTx}`);
      const txRemote = await readUint(xs, `${qdir}/${split === undefined ? NETIF_XS.eventChannel : NETIF_XS.eventChannelTx}`, MAX_EVTCHN_PORT);
      const rxRemote = split === undefined ? txRemote : await readUint(xs, `${qdir}/${NETIF_XS.eventChannelRx}`, MAX_EVTCHN_PORT);
      const txMapped = mapRing(hc, this.frontendId, [txRef]);
      conn.rings.push(txMapped);
      const rxMapped = mapRing(hc, this.frontendId, [rxRef]);
      conn.rings.push(rxMapped);
      const txPort = await evtchn.bindInterdomain(this.frontendId, txRemote);
      const rxPort = split === undefined ? txPort : await evtchn.bindInterdomain(this.frontendId, rxRemote);
      const common = { hc, frontendId: this.frontendId, stats: this.stats, onFatal, log: this.#log };
      const tx = new TxPath({
        ...common,
        ring: new BackRing(txMapped.bytes, NETIF_TX_SLOT_SIZE),
        credit: new Credit(rate),
        mcast,
        notify: () => txPort.notify(),
        output: (frame, info, tail, pass, sender) => conn.port?.input(frame, info, tail, pass, sender),
      });
      const rx = new RxPath({
        ...common,
        ring: new BackRing(rxMapped.bytes, NETIF_RX_SLOT_SIZE),
        features: rxFeatures,
        limits: this.#rxLimits,
        notify: () => rxPort.notify(),
        onStall: (stalled) => this.#stall(conn, stalled),
      });
      // The rx event says buffers were posted (xenvif_rx_interrupt); one channel carries both.
      if (split === undefined) {
        txPort.onEvent(() => {
          tx.service();
          rx.service();
        });
      } else {
        txPort.onEvent(() => tx.service());
        rxPort.onEvent(() => rx.service());
      }
      conn.queues.push({ tx, rx, ports: split === undefined ? [txPort] : [txPort, rxPort] });
    }
    if (await flag(NETIF_XS.featureCtrlRing)) await this.#connectCtrl(conn);
    // One watch on the backend directory for rate and the locking nodes: a driver domain is an
    // unprivileged xenstore client under the 128-watch quota, so each vif may cost only a few
    // (this one, multicast control, the frontend's state), as Linux's netback does.
    const lockingNodes = new Set([VIF_BACKEND_XS.lockingMode, VIF_BACKEND_XS.ipv4Allowed, VIF_BACKEND_XS.ipv6Allowed].map((k) => `${be}/${k}`));
    conn.watches.push(await xs.watch(be, (ev) => {
      // The event at registration names the directory itself: anything may have changed.
      const all = ev.path === be;
      if (all || ev.path === `${be}/${VIF_BACKEND_XS.rate}`) void this.#rateChanged(conn);
      if (all || lockingNodes.has(ev.path)) void this.#lockingChanged(conn);
    }));
    conn.watches.push(await xs.watch(`${fe}/${NETIF_XS.requestMulticastControl}`, () => void this.#mcastChanged(conn)));
    await this.#plug(conn);
    await this.#life.switch(XenbusState.Connected);
    // Packets published before we were listening.
    for (const q of conn.queues) q.tx.service();
  }

  /**
   * Plug the vif into the bridge its nodes name now, with their MAC and locking (unplugging it
   * first if it was plugged): on connecting, and when the toolstack rewrote them (replug). One at
   * a time, each reading the nodes afresh, so the last to run plugs what the nodes say last.
   */
  #plug(conn: Connection): Promise<void> {
    const run = this.#plugging.then(async () => {
      const xs = this.#ctx.xs;
      const [bridge, mac, locking] = await Promise.all([
        xs.readOptional(`${this.dir}/${VIF_BACKEND_XS.bridge}`), xs.readOptional(`${this.dir}/${VIF_BACKEND_XS.mac}`), this.#readLocking(),
      ]);
      if (this.#conn !== conn || this.#disabled !== null) return;
      conn.port?.unplug();
      conn.port = null;
      conn.mac = mac;
      conn.port = this.#switch.plug(this, { bridge: bridge ?? XL_DEFAULT_BRIDGE, ...(mac !== undefined && { mac }), macSpoof: this.#macSpoof, ...(locking && { locking }) });
    });
    this.#plugging = run.catch(() => {});
    return run;
  }

  /**
   * vif-bridge run again ("online") after the toolstack rewrote the backend's bridge, mac or
   * locking nodes of a connected vif: plugged anew as they say (a shell's vif, shells.ts, is
   * plugged where its create wants it). A vif not connected reads them when it connects.
   */
  async replug(): Promise<void> {
    const conn = this.#conn;
    if (conn) await this.#plug(conn);
  }

  /**
   * Announce the vif's MAC from its port, as QEMU's announce-self does once a migrated guest
   * runs (a RARP broadcast, network/announce.ts): the bridges on the way, a VXLAN link's far
   * side included, learn where the guest is now while it resumes, before its own gratuitous
   * ARP. It goes in as the guest's frames do, so a locked vif's rules drop it (they allow only
   * ARP and IP from its addresses). False when the vif is not plugged or has no MAC.
   */
  announce(): boolean {
    const conn = this.#conn;
    if (!conn?.port || conn.mac === undefined) return false;
    conn.port.input(macAnnouncement(parseMac(conn.mac)), NET_FRAME_PLAIN);
    return true;
  }

  async #connectCtrl(conn: Connection): Promise<void> {
    const { xs, hc, evtchn } = this.#ctx;
    const fe = this.frontendDir;
    const ref = await readUint(xs, `${fe}/${NETIF_XS.ctrlRingRef}`, MAX_GREF);
    const remote = await readUint(xs, `${fe}/${NETIF_XS.eventChannelCtrl}`, MAX_EVTCHN_PORT);
    const mapped = mapRing(hc, this.frontendId, [ref]);
    conn.rings.push(mapped);
    const port = await evtchn.bindInterdomain(this.frontendId, remote);
    const ctrl = new CtrlRing({
      ring: new BackRing(mapped.bytes, NETIF_CTRL_SLOT_SIZE),
      hc, frontendId: this.frontendId, selector: conn.selector,
      notify: () => port.notify(),
      onFatal: (why) => this.#disable(why),
    });
    conn.ctrl = ctrl;
    conn.ctrlPort = port;
    port.onEvent(() => ctrl.service());
    ctrl.service();
  }

  /**
   * xen_net_read_rate: the backend's rate node, or null (no limit) when it is absent, or, as
   * Linux says, "Failed to parse network rate limit. Traffic unlimited." when it is malformed.
   */
  async #readRate(): Promise<NetRate | null> {
    const node = await this.#ctx.xs.readOptional(`${this.dir}/${VIF_BACKEND_XS.rate}`);
    if (node === undefined) return null;
    try {
      return parseRateNode(node);
    } catch (e) {
      this.#log(`${(e as Error).message}: traffic unlimited`);
      return null;
    }
  }

  /** xen_net_rate_changed: every queue takes the new rate at once. */
  async #rateChanged(conn: Connection): Promise<void> {
    const rate = await this.#readRate().catch(() => undefined);
    if (rate === undefined || this.#conn !== conn) return;
    for (const q of conn.queues) q.tx.rateChanged(rate);
  }

  /**
   * The vif's locking mode from its backend nodes (undefined: none, the MAC check alone);
   * EINVAL for a mode that is not one, or an address that is not one (the switch checks those).
   */
  async #readLocking(): Promise<PortLocking | undefined> {
    const xs = this.#ctx.xs;
    const mode = await xs.readOptional(`${this.dir}/${VIF_BACKEND_XS.lockingMode}`);
    if (mode === undefined) return undefined;
    if (mode !== 'locked' && mode !== 'unlocked' && mode !== 'disabled') {
      throw new XenError('EINVAL', `${this.dir}/${VIF_BACKEND_XS.lockingMode} is '${mode.slice(0, 20)}', not locked, unlocked or disabled`);
    }
    const list = async (k: string) => ((await xs.readOptional(`${this.dir}/${k}`)) ?? '').split(' ').filter((a) => a !== '');
    return { mode, ipv4Allowed: await list(VIF_BACKEND_XS.ipv4Allowed), ipv6Allowed: await list(VIF_BACKEND_XS.ipv6Allowed) };
  }

  /** VIF.set_locking_mode (and the allowed addresses) on a connected vif: the port takes it at once; one that does not parse locks the vif out. */
  async #lockingChanged(conn: Connection): Promise<void> {
    let locking: PortLocking | undefined;
    try {
      locking = await this.#readLocking();
      if (this.#conn !== conn) return;
      conn.port?.setLocking(locking);
    } catch (e) {
      if (this.#conn !== conn) return;
      this.#log(`locking mode: ${(e as Error).message}: the vif is disabled`);
      conn.port?.setLocking({ mode: 'disabled' });
    }
  }

  /** xen_mcast_ctrl_changed (feature-dynamic-multicast-control): filtering on or off. */
  async #mcastChanged(conn: Connection): Promise<void> {
    const on = await readFlag(this.#ctx.xs, `${this.frontendDir}/${NETIF_XS.requestMulticastControl}`).catch(() => undefined);
    if (on === undefined || this.#conn !== conn) return;
    conn.mcast.enabled = on;
  }

  /** The rate each queue's transmit runs at now (null: unlimited). */
  get rate(): NetRate | null {
    return this.#conn?.queues[0]?.tx.rate ?? null;
  }

  /** xenvif_queue_carrier_off/on: the carrier is off while any queue is stalled. */
  #stall(conn: Connection, stalled: boolean): void {
    const before = conn.stalledQueues;
    conn.stalledQueues += stalled ? 1 : -1;
    if (before === 0 && stalled) this.#log('Guest Rx stalled');
    if (conn.stalledQueues === 0 && !stalled) this.#log('Guest Rx ready');
  }

  /** xenvif_fatal_tx_err: the frontend is malicious; the vif stops until it reconnects. */
  #disable(why: string): void {
    const conn = this.#conn;
    if (!conn || this.#disabled !== null) return;
    this.#disabled = why;
    this.stats.fatal++;
    this.#log(`d${this.frontendId} disabled: ${why}`);
    for (const q of conn.queues) {
      q.tx.stop();
      q.rx.stop();
    }
    conn.ctrl?.stop();
    conn.port?.unplug();
    conn.port = null;
  }

  /** Unplug, stop every ring, unmap it all (xenvif_disconnect_data; idempotent). */
  async #disconnect(): Promise<void> {
    const conn = this.#conn;
    if (!conn) return;
    this.#conn = null;
    conn.port?.unplug();
    conn.port = null;
    for (const w of conn.watches) await w.unwatch().catch(() => {});
    conn.mcast.clear();
    for (const q of conn.queues) {
      q.tx.stop();
      q.rx.stop();
      for (const p of q.ports) p.close();
    }
    conn.ctrl?.stop();
    conn.ctrlPort?.close();
    for (const r of conn.rings) r.unmap();
  }

  /** Take the device away: disconnect and stop following the frontend. */
  close(): Promise<void> {
    return this.#life.close();
  }
}
