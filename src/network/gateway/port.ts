// The gateway's side of its bridge port: one PortDevice whose frames are shared by several
// TCP/IP stacks (src/tcpip) with one MAC, each a Net over the port, as slirp's virtual hosts
// share its one interface. Frames out are queued and sent from a microtask, so a stack that
// answers inside deliver() never re-enters the bridge while it forwards; a write resolves once
// its frames went into the bridge (the stack may reuse a frame then), and rejects for those
// that were dropped.
import { NETIF_RSP_DROPPED, NET_FRAME_PLAIN, type NetFrameInfo } from '../../abi/netif.js';
import { TxError } from '../../drivers/net/front/errors.js';
import type { Net, NetOffloads, NetStats } from '../../drivers/net/front/net.js';
import type { PortDevice, PortFeatures, SwitchPort } from '../port.js';

/** Frames waiting for the microtask that sends them, at most: more are dropped (counted). */
const MAX_QUEUED = 4096;

const OFFLOADS: NetOffloads = { csum: true, gsoTcpv4: true, gsoTcpv6: false };

interface Queued {
  readonly frame: Uint8Array;
  readonly info: NetFrameInfo;
  readonly done: ((sent: boolean) => void) | undefined;
}

export interface GatewayPortCounters {
  rxFrames: number;
  /** Frames the gateway's stacks threw on: a bug of ours, which costs that frame only, not its sender. */
  rxFailed: number;
  txFrames: number;
  txDropped: number;
}

export class GatewayPort implements PortDevice {
  readonly features: PortFeatures = { csumOffload: true, gsoTcpv4: true, gsoTcpv6: false };
  readonly counters: GatewayPortCounters = { rxFrames: 0, rxFailed: 0, txFrames: 0, txDropped: 0 };
  /** Set once plugged in; frames sent before are dropped. */
  switchPort: SwitchPort | undefined;
  #queue: Queued[] = [];
  #scheduled = false;

  constructor(readonly name: string, readonly mac: string, readonly mtu: number, private readonly onFrame: (frame: Uint8Array, info: NetFrameInfo) => void) {}

  deliver(frame: Uint8Array, info: NetFrameInfo): boolean {
    this.counters.rxFrames++;
    try {
      this.onFrame(frame, info);
    } catch {
      // Thrown up through the bridge it would end the sending guest's netback batch: a guest's
      // frame must not reach past dom0's stack, whatever that stack's bug.
      this.counters.rxFailed++;
      return false;
    }
    return true;
  }

  /** Queue a frame; `done` hears whether it went into the bridge (false: dropped). */
  send(frame: Uint8Array, info: NetFrameInfo, done?: (sent: boolean) => void): void {
    if (this.#queue.length >= MAX_QUEUED) {
      this.counters.txDropped++;
      done?.(false);
      return;
    }
    this.#queue.push({ frame, info, done });
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.#flush());
    }
  }

  #flush(): void {
    this.#scheduled = false;
    const q = this.#queue;
    this.#queue = [];
    for (const { frame, info, done } of q) {
      if (!this.switchPort) {
        this.counters.txDropped++;
        done?.(false);
        continue;
      }
      this.counters.txFrames++;
      this.switchPort.input(frame, info);
      done?.(true);
    }
  }

  /** A Net over this port for one of the gateway's stacks: its frames come from `feed`. */
  net(): GatewayNet {
    return new GatewayNet(this);
  }
}

/** One stack's view of the gateway port (Mirage's NETWORK signature). */
export class GatewayNet implements Net {
  readonly devid = 0;
  readonly offloads = OFFLOADS;
  #handler: ((frame: Uint8Array, info: NetFrameInfo) => void) | undefined;
  #tx = 0;
  #rx = 0;

  constructor(private readonly port: GatewayPort) {}

  get mac(): string {
    return this.port.mac;
  }

  get mtu(): number {
    return this.port.mtu;
  }

  write(frames: Uint8Array | readonly Uint8Array[], info: NetFrameInfo = NET_FRAME_PLAIN): Promise<void> {
    const list = frames instanceof Uint8Array ? [frames] : frames;
    if (list.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let left = list.length;
      let dropped = 0;
      const done = (sent: boolean) => {
        if (!sent) dropped++;
        if (--left > 0) return;
        if (dropped === 0) resolve();
        else reject(new TxError(`${this.port.name}: ${dropped} of ${list.length} frames dropped (queue full or port unplugged)`, NETIF_RSP_DROPPED));
      };
      for (const f of list) {
        this.#tx++;
        this.port.send(f, info, done);
      }
    });
  }

  listen(handler: (frame: Uint8Array, info: NetFrameInfo) => void): () => void {
    this.#handler = handler;
    return () => {
      if (this.#handler === handler) this.#handler = undefined;
    };
  }

  /** A frame from the bridge for this stack. */
  feed(frame: Uint8Array, info: NetFrameInfo): void {
    this.#rx++;
    this.#handler?.(frame, info);
  }

  stats(): NetStats {
    return { rxBytes: 0, rxPackets: this.#rx, txBytes: 0, txPackets: this.#tx, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 };
  }

  disconnect(): Promise<void> {
    this.#handler = undefined;
    return Promise.resolve();
  }
}
