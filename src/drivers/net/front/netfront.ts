// netfront: the frontend half of a virtual network interface, in the guest (Linux's
// xen-netfront). This module is its xenbus lifecycle and the checks on what the guest sends;
// the rings are ./datapath.ts. It reads the backend's offer (feature-rx-copy, which it
// requires, feature-split-event-channels, multi-queue-max-queues, the offloads), writes its rings
// and features, and follows the backend: when it restarts (back to InitWait) the rings are
// made again and frames in flight are sent again; when the device goes (its nodes removed, or
// the backend's), everything pending fails with Disconnected.
import { NETIF_XS, XEN_NETIF_GSO_TYPE_TCPV4, XEN_NETIF_MAX_TX_SIZE, NET_FRAME_PLAIN, type NetFrameInfo } from '../../../abi/netif.js';
import { XenbusState } from '../../../abi/xenbus.js';
import type { DriverContext } from '../../evtchn.js';
import { frontendPath, readFlag, readState, readUint, switchState, watchState } from '../../xenbus.js';
import { NetDatapath } from './datapath.js';
import { BackendMisbehaved, Disconnected, InvalidLength, Unimplemented, type NetError } from './errors.js';
import type { Net, NetOffloads, NetStats } from './net.js';

export interface NetfrontOptions {
  /** Queues, capped by the backend's multi-queue-max-queues (default 1). */
  readonly queues?: number;
}

export type NetfrontStatus = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** How long an orderly close waits for frames in flight and for the backend to let go. */
const CLOSE_TIMEOUT_MS = 5000;
const MAX_QUEUES = 16;
const DEFAULT_MTU = 1500;
/** An 802.1Q tag may come on top of the Ethernet header. */
const VLAN_HLEN = 4;
/** Linux's ETH_HLEN: the shortest frame there is. */
const ETH_HLEN = 14;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const NO_OFFLOADS: NetOffloads = Object.freeze({ csum: false, gsoTcpv4: false, gsoTcpv6: false });

export class NetFront implements Net {
  readonly dir: string;
  readonly #ctx: DriverContext;
  readonly #o: NetfrontOptions;
  readonly #data: NetDatapath;
  #state = XenbusState.Initialising;
  #status: NetfrontStatus = 'connecting';
  #offloads = NO_OFFLOADS;
  #mtu = DEFAULT_MTU;
  #queues = 0;
  #split = false;
  #closing = false;
  #stopWatches: (() => Promise<void>)[] = [];
  #onConnected: { resolve: () => void; reject: (e: Error) => void } | null = null;
  #onBackendClosed: (() => void) | null = null;

  private constructor(ctx: DriverContext, readonly devid: number, readonly domid: number, readonly mac: string,
    readonly backendDir: string, readonly backendId: number, opts: NetfrontOptions) {
    this.#ctx = ctx;
    this.#o = opts;
    this.dir = frontendPath(domid, 'vif', devid);
    this.#data = new NetDatapath(ctx, `vif${devid}`, (e) => this.#final(e));
  }

  /** Connect to vif `devid` of domain `domid`; resolves once the handshake is done. */
  static async connect(ctx: DriverContext, domid: number, devid: number, opts: NetfrontOptions = {}): Promise<NetFront> {
    const dir = frontendPath(domid, 'vif', devid);
    const backendDir = await ctx.xs.readOptional(`${dir}/backend`);
    if (backendDir === undefined) throw new Disconnected(`vif${devid}: no such network device (${dir})`);
    const backendId = await readUint(ctx.xs, `${dir}/backend-id`, 0x7fef);
    const mac = ((await ctx.xs.readOptional(`${dir}/${NETIF_XS.mac}`)) ?? '').toLowerCase();
    if (!MAC_RE.test(mac)) throw new Disconnected(`vif${devid}: ${dir}/mac = ${JSON.stringify(mac.slice(0, 40))} is not a MAC address`);
    const f = new NetFront(ctx, devid, domid, mac, backendDir, backendId, opts);
    await f.#start();
    return f;
  }

  get status(): NetfrontStatus {
    return this.#status;
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
    this.#data.listeners.add(handler);
    return () => this.#data.listeners.delete(handler);
  }

  write(frames: Uint8Array | readonly Uint8Array[], info: NetFrameInfo = NET_FRAME_PLAIN): Promise<void> {
    if (this.#closing || this.#status === 'closed') return Promise.reject(new Disconnected(`vif${this.devid}: the device is closed`));
    const list: readonly Uint8Array[] = frames instanceof Uint8Array ? [frames] : frames;
    const err = this.#check(list, info);
    if (err) {
      this.#data.stats.txErrors += list.length;
      return Promise.reject(err);
    }
    if (list.length === 0) return Promise.resolve();
    return this.#data.submit(list, info);
  }

  #check(list: readonly Uint8Array[], info: NetFrameInfo): NetError | null {
    const gso = info.gso;
    if (gso) {
      const ok = gso.type === XEN_NETIF_GSO_TYPE_TCPV4 ? this.#offloads.gsoTcpv4 : this.#offloads.gsoTcpv6;
      if (!ok) return new Unimplemented(`vif${this.devid}: the backend did not negotiate GSO of type ${gso.type}`);
      if (!Number.isInteger(gso.size) || gso.size < 1 || gso.size > 0xffff) return new InvalidLength(`vif${this.devid}: GSO segment size ${gso.size}`);
    }
    if (info.csumBlank && !this.#offloads.csum) return new Unimplemented(`vif${this.devid}: the backend did not negotiate checksum offload`);
    const max = gso ? XEN_NETIF_MAX_TX_SIZE : this.#mtu + ETH_HLEN + VLAN_HLEN;
    for (const f of list) {
      if (f.length < ETH_HLEN || f.length > max) {
        return new InvalidLength(`vif${this.devid}: a ${f.length}-byte frame (${ETH_HLEN}..${max} bytes)`);
      }
    }
    return null;
  }

  async #start(): Promise<void> {
    const xs = this.#ctx.xs;
    const connected = new Promise<void>((resolve, reject) => (this.#onConnected = { resolve, reject }));
    this.#state = await readState(xs, this.dir);
    if (this.#state !== XenbusState.Initialising) await this.#switch(XenbusState.Initialising);
    const onError = (e: unknown) => this.#final(new Disconnected(`vif${this.devid}: ${(e as Error).message}`));
    this.#stopWatches.push(await watchState(xs, this.dir, (s) => {
      if (s === XenbusState.Unknown) this.#final(new Disconnected(`vif${this.devid}: the device was removed`));
    }, onError));
    this.#stopWatches.push(await watchState(xs, this.backendDir, (s) => this.#backendChanged(s), onError));
    await connected;
  }

  async #switch(s: XenbusState): Promise<void> {
    this.#state = s;
    await switchState(this.#ctx.xs, this.dir, s);
  }

  /** Linux netfront's netback_changed, plus recovery when the backend restarts under us. */
  async #backendChanged(s: XenbusState): Promise<void> {
    if (this.#status === 'closed') return;
    this.#data.retryRevoke();
    switch (s) {
      case XenbusState.InitWait:
        if (this.#state === XenbusState.Initialised || this.#state === XenbusState.Connected) this.#teardown(!this.#closing);
        if (this.#closing) return this.#onBackendClosed?.();
        return this.#talk();
      case XenbusState.Connected:
        if (this.#state === XenbusState.Initialised) return this.#finishConnect();
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
        return this.#final(new Disconnected(`vif${this.devid}: the backend is gone`));
      default:
        return;
    }
  }

  /** talk_to_netback: rings, event channels and features, then Initialised. */
  async #talk(): Promise<void> {
    const xs = this.#ctx.xs;
    const be = this.backendDir;
    if (!(await readFlag(xs, `${be}/${NETIF_XS.featureRxCopy}`))) {
      return this.#final(new Disconnected(`vif${this.devid}: the backend does not offer feature-rx-copy`));
    }
    const maxQueues = Math.max(1, await readUint(xs, `${be}/${NETIF_XS.multiQueueMaxQueues}`, 0xffff, 1));
    const nq = Math.min(Math.max(1, this.#o.queues ?? 1), maxQueues, MAX_QUEUES);
    const split = await readFlag(xs, `${be}/${NETIF_XS.featureSplitEventChannels}`);
    this.#queues = nq;
    this.#split = split;
    const queues = await this.#data.connect(this.backendId, nq, split);
    await xs.transaction(async (t) => {
      const w = (path: string, v: number) => t.write(`${this.dir}/${path}`, String(v));
      for (const [i, q] of queues.entries()) {
        const prefix = nq === 1 ? '' : `queue-${i}/`;
        await w(`${prefix}${NETIF_XS.txRingRef}`, q.txRef);
        await w(`${prefix}${NETIF_XS.rxRingRef}`, q.rxRef);
        if (split) {
          await w(`${prefix}${NETIF_XS.eventChannelTx}`, q.txPort);
          await w(`${prefix}${NETIF_XS.eventChannelRx}`, q.rxPort);
        } else {
          await w(`${prefix}${NETIF_XS.eventChannel}`, q.txPort);
        }
      }
      if (nq > 1) await w(NETIF_XS.multiQueueNumQueues, nq);
      await w(NETIF_XS.requestRxCopy, 1);
      await w(NETIF_XS.featureRxNotify, 1);
      await w(NETIF_XS.featureSg, 1);
      await w(NETIF_XS.featureGsoTcpv4, 1);
      await w(NETIF_XS.featureGsoTcpv6, 1);
      await w(NETIF_XS.featureNoCsumOffload, 0);
      await w(NETIF_XS.featureIpv6CsumOffload, 1);
    });
    await this.#switch(XenbusState.Initialised);
  }

  /** The backend is Connected: what it offers is what we may use; go Connected, send what waits. */
  async #finishConnect(): Promise<void> {
    const xs = this.#ctx.xs;
    const be = this.backendDir;
    const flag = (k: string) => readFlag(xs, `${be}/${k}`);
    const sg = await flag(NETIF_XS.featureSg);
    this.#offloads = Object.freeze({
      csum: true, // netback always takes IPv4 checksum offload (netif.h: feature-no-csum-offload is the frontend's)
      gsoTcpv4: sg && (await flag(NETIF_XS.featureGsoTcpv4)),
      gsoTcpv6: sg && (await flag(NETIF_XS.featureGsoTcpv6)),
    });
    this.#mtu = await readUint(xs, `${be}/mtu`, 65535 - ETH_HLEN, DEFAULT_MTU).catch(() => DEFAULT_MTU);
    await this.#switch(XenbusState.Connected);
    this.#status = 'connected';
    this.#onConnected?.resolve();
    this.#onConnected = null;
    this.#data.start();
  }

  /** The connection is gone: frames in flight are sent again if `recover`, else they fail. */
  #teardown(recover: boolean): void {
    this.#data.teardown(recover ? null : new Disconnected(`vif${this.devid}: the backend disconnected`));
    if (this.#status === 'connected') this.#status = 'reconnecting';
  }

  /** The device is gone for good (or the backend broke the protocol): fail everything, stop watching. */
  #final(err: NetError): void {
    if (this.#status === 'closed') return;
    this.#data.close(err);
    this.#status = 'closed';
    this.#onConnected?.reject(err);
    this.#onConnected = null;
    this.#onBackendClosed?.();
    for (const stop of this.#stopWatches.splice(0)) void stop();
    if (err instanceof BackendMisbehaved) void this.#switch(XenbusState.Closing).catch(() => {});
  }

  /**
   * Orderly close (Mirage's disconnect): new frames are refused, frames in flight finish, then
   * Closing, Closed, and the grants go once the backend has let go of them.
   */
  async disconnect(): Promise<void> {
    if (this.#closing || this.#status === 'closed') return;
    this.#closing = true;
    const err = new Disconnected(`vif${this.devid}: disconnected by the guest`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, CLOSE_TIMEOUT_MS)));
    await Promise.race([this.#data.drain(err), timeout]);
    clearTimeout(timer);
    const backendClosed = new Promise<void>((resolve) => (this.#onBackendClosed = resolve));
    timer = setTimeout(() => this.#onBackendClosed?.(), CLOSE_TIMEOUT_MS);
    await this.#switch(XenbusState.Closing).catch(() => {});
    await backendClosed;
    clearTimeout(timer);
    this.#data.retryRevoke();
    this.#final(err);
  }
}
