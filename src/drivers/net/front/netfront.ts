// netfront: the frontend half of a virtual network interface, in the guest (Linux's xen-netfront).
// This module is its xenbus negotiation (the lifecycle is ../../frontend.ts) and the checks on
// what the guest sends; the rings are ./datapath.ts. It reads the backend's offer (feature-rx-
// copy, which it requires, feature-split-event-channels, multi-queue-max-queues, the offloads),
// writes its rings and features, and follows the backend: when it restarts (back to InitWait) the
// rings are made again and frames in flight are sent again; when the device goes (its nodes
// removed, or the backend's), everything pending fails with Disconnected.
import { NETIF_XS, XEN_NETIF_GSO_TYPE_TCPV4, XEN_NETIF_MAX_TX_SIZE, NET_FRAME_PLAIN, type NetFrameInfo } from '../../../abi/netif.js';
import { XenbusState } from '../../../abi/xenbus.js';
import type { DriverContext } from '../../evtchn.js';
import { FrontendLifecycle, type FrontendStatus } from '../../frontend.js';
import { frontendPath, readFlag, readUint } from '../../xenbus.js';
import { NetDatapath } from './datapath.js';
import { BackendMisbehaved, Disconnected, InvalidLength, Unimplemented, type NetError } from './errors.js';
import type { Net, NetOffloads, NetStats } from './net.js';

export interface NetfrontOptions {
  /** Queues, capped by the backend's multi-queue-max-queues (default 1). */
  readonly queues?: number;
}

export type NetfrontStatus = FrontendStatus;

/** How long an orderly close waits for frames in flight. */
const CLOSE_TIMEOUT_MS = 5000;
const MAX_QUEUES = 16;
const DEFAULT_MTU = 1500;
/** An 802.1Q tag may come on top of the Ethernet header. */
const VLAN_HLEN = 4;
/** Linux's ETH_HLEN: the shortest frame there is. */
const ETH_HLEN = 14;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const NO_OFFLOADS: NetOffloads = Object.freeze({ csum: false, gsoTcpv4: false, gsoTcpv6: false });

/** The frontend's mac node, lowercased, if it is a MAC address. */
function checkMac(node: string | undefined, devid: number, dir: string): string {
  const mac = (node ?? '').toLowerCase();
  if (!MAC_RE.test(mac)) throw new Disconnected(`vif${devid}: ${dir}/mac = ${JSON.stringify(mac.slice(0, 40))} is not a MAC address`);
  return mac;
}

/** What the backend offers: its nodes as netback writes them before it waits (InitWait). */
interface Offer {
  readonly rxCopy: boolean;
  readonly maxQueues: number;
  readonly split: boolean;
  readonly sg: boolean;
  readonly gsoTcpv4: boolean;
  readonly gsoTcpv6: boolean;
  readonly mtu: number;
}

export class NetFront implements Net {
  readonly dir: string;
  readonly #ctx: DriverContext;
  #o: NetfrontOptions = {};
  /** The backend's offer read ahead while held (hold), for the first handshake. */
  #prefetched: Promise<Offer> | null = null;
  /** The offer the handshake under way read (talk), which finishConnect takes up. */
  #offer: Offer | null = null;
  readonly #data: NetDatapath;
  readonly #life: FrontendLifecycle<NetError>;
  #offloads = NO_OFFLOADS;
  #mtu = DEFAULT_MTU;
  #queues = 0;
  #split = false;
  #mac: string;

  private constructor(ctx: DriverContext, readonly devid: number, readonly domid: number, mac: string,
    readonly backendDir: string, readonly backendId: number) {
    this.#ctx = ctx;
    this.#mac = mac;
    this.dir = frontendPath(domid, 'vif', devid);
    this.#data = new NetDatapath(ctx, `vif${devid}`, (e) => this.#life.final(e));
    const data = this.#data;
    this.#life = new FrontendLifecycle<NetError>(ctx.xs, `vif${devid}`, this.dir, backendDir, {
      disconnected: (message) => new Disconnected(message),
      talk: () => this.#talk(),
      finishConnect: () => this.#finishConnect(),
      teardown: (recover) => data.teardown(recover ? null : new Disconnected(`vif${devid}: the backend disconnected`)),
      close: (err) => data.close(err),
      retryRevoke: () => data.retryRevoke(),
      drain: async (err) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((r) => (timer = setTimeout(r, CLOSE_TIMEOUT_MS)));
        await Promise.race([data.drain(err), timeout]);
        clearTimeout(timer);
      },
      finalised: (err) => {
        if (err instanceof BackendMisbehaved) void this.#life.switch(XenbusState.Closing).catch(() => {});
      },
    });
  }

  /** Connect to vif `devid` of domain `domid`; resolves once the handshake is done. */
  static async connect(ctx: DriverContext, domid: number, devid: number, opts: NetfrontOptions = {}): Promise<NetFront> {
    return (await NetFront.hold(ctx, domid, devid)).proceed(opts);
  }

  /**
   * The handshake as far as it goes without the rings (no RAM frame is touched): the device's
   * nodes read, the backend followed, its offer read if it waits already. An incoming
   * migration's parked runtime does this while its frames arrive; proceed() is the rest.
   */
  static async hold(ctx: DriverContext, domid: number, devid: number): Promise<NetFront> {
    const dir = frontendPath(domid, 'vif', devid);
    // The reads are pipelined: a connect is a few xenstore round trips, not one per node.
    const [backendDir, backendIdRead, macRead] = await Promise.allSettled([
      ctx.xs.readOptional(`${dir}/backend`), readUint(ctx.xs, `${dir}/backend-id`, 0x7fef), ctx.xs.readOptional(`${dir}/${NETIF_XS.mac}`),
    ]);
    if (backendDir.status === 'rejected') throw backendDir.reason;
    if (backendDir.value === undefined) throw new Disconnected(`vif${devid}: no such network device (${dir})`);
    if (backendIdRead.status === 'rejected') throw backendIdRead.reason;
    if (macRead.status === 'rejected') throw macRead.reason;
    const backendId = backendIdRead.value;
    const f = new NetFront(ctx, devid, domid, checkMac(macRead.value, devid, dir), backendDir.value, backendId);
    if ((await f.#life.hold()) === XenbusState.InitWait) {
      const offer = f.#readOffer();
      f.#prefetched = offer;
      // A queue's grant room and event channels too (the default of one queue); best effort:
      // the handshake reads and allocates what is missing.
      await offer.then((o) => f.#data.reserve(backendId, 1, o.split)).catch(() => {});
    }
    return f;
  }

  /** A held device (hold) connects with `opts`: its rings, then the backend's answer. */
  async proceed(opts: NetfrontOptions = {}): Promise<NetFront> {
    this.#o = opts;
    await this.#life.release();
    return this;
  }

  /** Every node of the backend's offer, in one round trip. */
  async #readOffer(): Promise<Offer> {
    const xs = this.#ctx.xs;
    const be = this.backendDir;
    const flag = (k: string) => readFlag(xs, `${be}/${k}`);
    const [rxCopy, maxQueues, split, sg, gsoTcpv4, gsoTcpv6, mtu] = await Promise.all([
      flag(NETIF_XS.featureRxCopy), readUint(xs, `${be}/${NETIF_XS.multiQueueMaxQueues}`, 0xffff, 1), flag(NETIF_XS.featureSplitEventChannels),
      flag(NETIF_XS.featureSg), flag(NETIF_XS.featureGsoTcpv4), flag(NETIF_XS.featureGsoTcpv6),
      readUint(xs, `${be}/mtu`, 65535 - ETH_HLEN, DEFAULT_MTU).catch(() => DEFAULT_MTU),
    ]);
    return { rxCopy, maxQueues, split, sg, gsoTcpv4, gsoTcpv6, mtu };
  }

  get mac(): string {
    return this.#mac;
  }

  /**
   * xen_net_read_mac again, connected (Linux reads it on every connect): a shell's vif, connected
   * before its domain was created, has the MAC its create wrote. One that is not a MAC closes
   * the device.
   */
  async readMac(): Promise<void> {
    try {
      this.#mac = checkMac(await this.#ctx.xs.readOptional(`${this.dir}/${NETIF_XS.mac}`), this.devid, this.dir);
    } catch (e) {
      const err = e instanceof Disconnected ? e : new Disconnected(`vif${this.devid}: ${(e as Error).message}`);
      this.#life.final(err);
      throw err;
    }
  }

  get status(): NetfrontStatus {
    return this.#life.status;
  }

  get mtu(): number {
    return this.#mtu;
  }

  get offloads(): NetOffloads {
    return this.#offloads;
  }

  /** Queues and whether the event channels are split, as negotiated. */
  get negotiated(): { readonly queues: number; readonly split: boolean } {
    return { queues: this.#queues, split: this.#split };
  }

  stats(): NetStats {
    return { ...this.#data.stats };
  }

  listen(handler: (frame: Uint8Array, info: NetFrameInfo) => void): () => void {
    return this.#data.listen(handler);
  }

  write(frames: Uint8Array | readonly Uint8Array[], info: NetFrameInfo = NET_FRAME_PLAIN): Promise<void> {
    if (this.#life.refusing) return Promise.reject(new Disconnected(`vif${this.devid}: the device is closed`));
    const list: readonly Uint8Array[] = frames instanceof Uint8Array ? [frames] : frames;
    const err = this.#check(list, info);
    if (err) {
      this.#data.stats.txErrors += list.length;
      return Promise.reject(err);
    }
    if (list.length === 0) return Promise.resolve();
    return this.#data.submit(list, info);
  }

  writeInPlace(len: number, info: NetFrameInfo, fill: (frame: Uint8Array) => void): boolean {
    if (this.#life.refusing || this.#checkInfo(info) || this.#checkLength(len, info)) return false;
    return this.#data.writeInPlace(len, info, fill);
  }

  #check(list: readonly Uint8Array[], info: NetFrameInfo): NetError | null {
    const err = this.#checkInfo(info);
    if (err) return err;
    for (const f of list) {
      const bad = this.#checkLength(f.length, info);
      if (bad) return bad;
    }
    return null;
  }

  #checkLength(len: number, info: NetFrameInfo): NetError | null {
    const max = info.gso ? XEN_NETIF_MAX_TX_SIZE : this.#mtu + ETH_HLEN + VLAN_HLEN;
    return len < ETH_HLEN || len > max ? new InvalidLength(`vif${this.devid}: a ${len}-byte frame (${ETH_HLEN}..${max} bytes)`) : null;
  }

  #checkInfo(info: NetFrameInfo): NetError | null {
    const gso = info.gso;
    if (gso) {
      const ok = gso.type === XEN_NETIF_GSO_TYPE_TCPV4 ? this.#offloads.gsoTcpv4 : this.#offloads.gsoTcpv6;
      if (!ok) return new Unimplemented(`vif${this.devid}: the backend did not negotiate GSO of type ${gso.type}`);
      if (!Number.isInteger(gso.size) || gso.size < 1 || gso.size > 0xffff) return new InvalidLength(`vif${this.devid}: GSO segment size ${gso.size}`);
    }
    if (info.csumBlank && !this.#offloads.csum) return new Unimplemented(`vif${this.devid}: the backend did not negotiate checksum offload`);
    return null;
  }

  /**
   * talk_to_netback: rings, event channels and features, then Initialised. The backend's whole
   * offer is read here, once it waits (netback writes it before), for this and finishConnect.
   */
  async #talk(): Promise<void> {
    const xs = this.#ctx.xs;
    const pre = this.#prefetched;
    this.#prefetched = null;
    const offer = await (pre?.catch(() => this.#readOffer()) ?? this.#readOffer());
    this.#offer = offer;
    const { rxCopy, split } = offer;
    if (!rxCopy) return this.#life.final(new Disconnected(`vif${this.devid}: the backend does not offer feature-rx-copy`));
    const maxQueues = Math.max(1, offer.maxQueues);
    const nq = Math.min(Math.max(1, this.#o.queues ?? 1), maxQueues, MAX_QUEUES);
    this.#queues = nq;
    this.#split = split;
    const queues = await this.#data.connect(this.backendId, nq, split);
    const nodes: [string, number][] = [];
    for (const [i, q] of queues.entries()) {
      const prefix = nq === 1 ? '' : `queue-${i}/`;
      nodes.push([`${prefix}${NETIF_XS.txRingRef}`, q.txRef], [`${prefix}${NETIF_XS.rxRingRef}`, q.rxRef]);
      if (split) nodes.push([`${prefix}${NETIF_XS.eventChannelTx}`, q.txPort], [`${prefix}${NETIF_XS.eventChannelRx}`, q.rxPort]);
      else nodes.push([`${prefix}${NETIF_XS.eventChannel}`, q.txPort]);
    }
    if (nq > 1) nodes.push([NETIF_XS.multiQueueNumQueues, nq]);
    nodes.push([NETIF_XS.requestRxCopy, 1], [NETIF_XS.featureRxNotify, 1], [NETIF_XS.featureSg, 1], [NETIF_XS.featureGsoTcpv4, 1],
      [NETIF_XS.featureGsoTcpv6, 1], [NETIF_XS.featureNoCsumOffload, 0], [NETIF_XS.featureIpv6CsumOffload, 1]);
    // Pipelined, the state last, without a transaction (Linux's costs two more round trips, in
    // a resume's downtime): xenstored answers a connection's requests in order, so the backend,
    // which acts on the state, finds the rest written.
    await Promise.all([...nodes.map(([path, v]) => xs.write(`${this.dir}/${path}`, String(v))), this.#life.initialised()]);
  }

  /** The backend is Connected: what it offers is what we may use; send what waits, go Connected. */
  async #finishConnect(): Promise<void> {
    const { sg, gsoTcpv4, gsoTcpv6, mtu } = this.#offer ?? (await this.#readOffer());
    this.#offloads = Object.freeze({
      csum: true, // netback always takes IPv4 checksum offload (netif.h: feature-no-csum-offload is the frontend's)
      gsoTcpv4: sg && gsoTcpv4,
      gsoTcpv6: sg && gsoTcpv6,
    });
    this.#mtu = mtu;
    // As Linux's xennet_connect: the rings are filled and kicked, then the state says Connected.
    this.#data.start();
    await this.#life.connected();
  }

  /**
   * Orderly close (Mirage's disconnect): new frames are refused, frames in flight finish, then
   * Closing, Closed, and the grants go once the backend has let go of them.
   */
  disconnect(): Promise<void> {
    return this.#life.disconnect();
  }

  /** For a suspend: stop issuing (frames in flight are not waited for: NetDatapath.quiesce). */
  quiesce(): Promise<void> {
    return this.#data.quiesce();
  }

  /** The suspend was cancelled: carry on where it stopped. */
  release(): void {
    this.#data.release();
  }
}
