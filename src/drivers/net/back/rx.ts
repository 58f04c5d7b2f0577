// Guest receive: the rx ring of one queue (xen-netback's rx.c, by copy: feature-rx-copy).
// A frame from the switch is copied at once into buffers the frontend posted when nothing waits
// before it; otherwise it joins the queue (xenvif_rx_queue_tail), which holds at most
// rx_queue_max bytes: a frame that finds the queue at the bound is dropped and counted, so a
// frontend that keeps one slot free forever holds that much backend memory and no more
// (XSA-392). Held frames go out in order as the frontend posts buffers (its rx event), and are
// dropped once older than the drain timeout (xenvif_rx_queue_drop_expired). A queue whose head
// has waited for buffers longer than the stall timeout since the last frame went in is stalled:
// netback turns the vif's carrier off, so the switch's frames are dropped at once, until the
// frontend has the buffers again (xenvif_queue_carrier_off/on). Responses go out once per batch
// (the frames of one turn), with ring.h's event hold-off. The frames a sender hands over in one
// pass of its ring (FramePass) are staged as they come and copied as one grant-copy batch when
// the pass ends, as xenvif_rx_action copies a batch of queued skbs with one GNTTABOP_copy.
// Back-pressure: a unicast frame from a sender that can wait (FrameSender: another vif's tx),
// which finds no room and is held, pauses that sender until what is held has gone out, as
// Linux's netback stops the queue (netif_tx_stop_queue) rather than drop; a frontend that
// takes nothing for stopTimeoutMs while senders wait is stuck: they go on, and it pauses no one
// (its frames are held to the bound and dropped past it) until it takes frames again.
import {
  NETIF_RSP_ERROR, NETIF_RX_SLOT_SIZE, NETRXF_csum_blank, NETRXF_data_validated, NETRXF_extra_info, NETRXF_more_data,
  XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, XEN_NETIF_EXTRA_FLAG_MORE, XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_EXTRA_TYPE_HASH,
  NETIF_RX_REQ_GREF, NETIF_RX_REQ_ID, encodeNetifExtraInfo, encodeNetifRxResponse, type NetFrameInfo, type NetifExtraGso,
  type NetifExtraHash, type NetifExtraInfo, type NetifRxResponse,
} from '../../../abi/netif.js';
import { LE } from '../../../abi/fields.js';
import { gntstName } from '../../../abi/grant_table.js';
import { SRING_REQ_EVENT, type BackRing } from '../../../abi/ring.js';
import { PAGE_SIZE } from '../../../abi/xen.js';
import { GrantCopyBatch } from '../../../hypervisor/grant.js';
import type { Hypercalls } from '../../../hypervisor/hypercalls.js';
import type { FramePass, FrameSender, FrameTail } from '../../../network/port.js';
import { FATAL_SKB_SLOTS, GSO_MAX_SIZE, rxSlotsFor } from '../protocol.js';
import { HeldBytes } from './heldbytes.js';
import type { NetbackStats } from './stats.js';

/** The most rx buffers one frame takes (a GSO super-frame). */
const RX_MAX_SLOTS = rxSlotsFor(GSO_MAX_SIZE);
/** The most copy ops one frame takes: a piece per buffer, plus a split wherever a sender's slot crosses into the next buffer. */
const RX_MAX_OPS = RX_MAX_SLOTS + FATAL_SKB_SLOTS + 1;
/** Frames, and rx buffers, staged for one copy at most (a ring's worth; a staged frame holds its buffers' requests). */
const STAGE_FRAMES = 256;
const STAGE_BUFS = 256 + RX_MAX_SLOTS;
const STAGE_OPS = STAGE_BUFS + RX_MAX_OPS;

/** xen-netback's defaults: XENVIF_RX_QUEUE_BYTES, rx_drain_timeout_msecs, rx_stall_timeout_msecs. */
export const RX_QUEUE_DEFAULTS = { queueMax: (256 / 2) * PAGE_SIZE, drainTimeoutMs: 10_000, stallTimeoutMs: 60_000, stopTimeoutMs: 500 } as const;

export interface RxQueueLimits {
  /** rx_queue_max: bytes held for the frontend at most. */
  readonly queueMax: number;
  /** A held frame older than this is dropped (rx_drain_timeout_msecs). */
  readonly drainTimeoutMs: number;
  /** No buffers for the held head this long since the last frame went in: stalled (rx_stall_timeout_msecs; 0: never). */
  readonly stallTimeoutMs: number;
  /**
   * How long senders paused for want of room here wait at most for the held frames to move:
   * past it the frontend counts as stuck and pauses no one until it takes frames again (the
   * bound on what one receiver that posts no buffers costs its senders).
   */
  readonly stopTimeoutMs: number;
}

/**
 * What a held frame counts against rx_queue_max at least: its copy's buffer and view and its
 * record take about 360 bytes of heap for a 64-byte frame (Node 20), so a queue of small frames
 * counted by their length alone held 8,192 of them, 2.9 MB, and 16 such queues (16 flooded
 * receivers) took 45 of the 48 MiB heap of a 64 MiB driver domain.
 */
export const HELD_MIN_COST = 512;

/** A frame held for the frontend: a copy (in the queue's HeldBytes), since the switch's views are valid during the call only. */
interface Held {
  readonly frame: Uint8Array;
  readonly info: NetFrameInfo;
  readonly hashType: number;
  readonly hashValue: number;
  readonly expires: number;
  /** The GSO it goes out with (none if the frontend did not negotiate it). */
  readonly gso: NetFrameInfo['gso'];
  readonly dataSlots: number;
  /** Rx slots it takes with its extra-infos (rx_slots_needed). */
  readonly needed: number;
}

export interface RxFeatures {
  /** feature-sg: a frame may span several rx buffers. */
  readonly sg: boolean;
  /** feature-gso-tcpv4/v6: GSO super-frames may be given whole, with a GSO extra-info. */
  readonly gsoTcpv4: boolean;
  readonly gsoTcpv6: boolean;
}

export interface RxPathOptions {
  readonly ring: BackRing;
  readonly hc: Hypercalls;
  readonly frontendId: number;
  readonly stats: NetbackStats;
  readonly features: RxFeatures;
  /** Tell the frontend responses are out (its rx event channel). */
  readonly notify: () => void;
  /** The frontend published an impossible req_prod: disable the vif. */
  readonly onFatal: (why: string) => void;
  /** The queue stalled (true) or is ready again (false): the vif's carrier follows. */
  readonly onStall: (stalled: boolean) => void;
  readonly limits: RxQueueLimits;
  /** A clock in ms; performance.now by default. */
  readonly now?: () => number;
  readonly log: (line: string) => void;
}

export class RxPath {
  readonly #o: RxPathOptions;
  readonly #ring: BackRing;
  readonly #slot = new Uint8Array(NETIF_RX_SLOT_SIZE);
  readonly #slotView = new DataView(this.#slot.buffer);
  readonly #rsp: NetifRxResponse = { id: 0, offset: 0, flags: 0, status: 0 };
  /**
   * The copy of the staged frames into the frontend's buffers; the ids, grefs, bytes and status
   * of those buffers; each op's buffer; per staged frame, its first buffer, its buffers, its
   * info, GSO and hash, its length.
   */
  readonly #copy = new GrantCopyBatch(STAGE_OPS);
  readonly #ids = new Uint16Array(STAGE_BUFS);
  readonly #grefs = new Uint32Array(STAGE_BUFS);
  readonly #fill = new Uint16Array(STAGE_BUFS);
  readonly #bufStatus = new Int8Array(STAGE_BUFS);
  readonly #opBuf = new Uint16Array(STAGE_OPS);
  readonly #fBuf0 = new Uint16Array(STAGE_FRAMES);
  readonly #fSlots = new Uint8Array(STAGE_FRAMES);
  readonly #fInfo: NetFrameInfo[] = [];
  readonly #fGso: NetFrameInfo['gso'][] = [];
  readonly #fHashType = new Int32Array(STAGE_FRAMES);
  readonly #fHashValue = new Uint32Array(STAGE_FRAMES);
  readonly #fLen = new Uint32Array(STAGE_FRAMES);
  #staged = 0;
  #bufs = 0;
  /** The sender's pass the staged frames came with (their bytes are in its memory). */
  #pass: FramePass | null = null;
  /** The staged frames' copy is asked for at the end of the sender's pass. */
  #deferred = false;
  /**
   * The sender's pass is over: its frames are copied and published at once, not in the
   * microtask that coalesces a turn's other deliveries, so the frontend has them while the
   * backend's thread goes on with other events.
   */
  readonly #finishDeferred = (): void => {
    this.#deferred = false;
    if (!this.#stopped) this.flush();
  };
  readonly #gso: NetifExtraGso = { kind: 'gso', type: XEN_NETIF_EXTRA_TYPE_GSO, flags: 0, size: 0, gsoType: 0, features: 0 };
  readonly #hash: NetifExtraHash = { kind: 'hash', type: XEN_NETIF_EXTRA_TYPE_HASH, flags: 0, hashType: 0, algorithm: XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, value: 0 };
  /** The shared ring's header, for req_event. */
  readonly #words: Int32Array;
  readonly #now: () => number;
  /** The rx queue: held frames from #head on, and their bytes (rx_queue_len). */
  #held: Held[] = [];
  #head = 0;
  #heldBytes = 0;
  /** What the held frames count against rx_queue_max: their bytes, at least HELD_MIN_COST each. */
  #heldCost = 0;
  /** The held frames' copies: room for rx_queue_max bytes, a frame past it, and a frame's room wasted where the ring wraps. */
  readonly #heldCopies: HeldBytes;
  /** When a frame last went in while frames were held (last_rx_time). */
  #lastRx = 0;
  /** Frames went in since the queue was last empty: the stall clock starts from the first held one. */
  #wentIn = false;
  #stalled = false;
  /** Senders paused for want of room here (back-pressure): resumed once what is held has gone out, or the frontend is stuck. */
  readonly #paused = new Set<FrameSender>();
  /** When the held frames last moved (or the first was held): paused senders wait stopTimeoutMs from it at most. */
  #movedAt = 0;
  /** The frontend took nothing while senders waited: it pauses no one until it takes a frame. */
  #stuck = false;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #pushQueued = false;
  #stopped = false;
  #logged = 0;

  constructor(o: RxPathOptions) {
    this.#o = o;
    this.#ring = o.ring;
    const b = o.ring.bytes;
    this.#words = new Int32Array(b.buffer, b.byteOffset, SRING_REQ_EVENT / 4 + 1);
    this.#now = o.now ?? (() => performance.now());
    this.#lastRx = this.#now();
    this.#heldCopies = new HeldBytes(o.limits.queueMax + 2 * GSO_MAX_SIZE);
  }

  /** Frames held for the frontend, and their bytes. */
  get held(): { frames: number; bytes: number } {
    return { frames: this.#held.length - this.#head, bytes: this.#heldBytes };
  }

  get stalled(): boolean {
    return this.#stalled;
  }

  /**
   * Take `frame` for the frontend (xenvif_start_xmit): copied into its posted buffers now when
   * nothing is held before it and it has enough, else held; false (dropped, counted) when the
   * queue is at its bound or the frame is not one this frontend can take. `hashType` >= 0: the
   * frontend's Toeplitz hash of the frame (see QueueSelector), which goes with it as a HASH
   * extra-info, after the GSO one if any (xenvif_rx_next_skb). With a `tail`, the frame's
   * bytes past tail.head are copied straight from the sender's pinned grants into the buffers (one
   * copy), or brought into the view first if the frame has to be held. With a `pass`, the
   * frame is staged and copied, with the others of the pass, when the pass ends. A `sender`
   * is paused when the frame has to be held (back-pressure).
   */
  deliver(frame: Uint8Array, info: NetFrameInfo, hashType = -1, hashValue = 0, tail?: FrameTail, pass?: FramePass, sender?: FrameSender): boolean {
    const stats = this.#o.stats;
    if (this.#stopped) {
      stats.txDropped++;
      return false;
    }
    const f = this.#o.features;
    const gso = info.gso && ((info.gso.type === 1 && f.gsoTcpv4) || (info.gso.type === 2 && f.gsoTcpv6)) ? info.gso : undefined;
    const dataSlots = rxSlotsFor(frame.length);
    if ((dataSlots > 1 && !f.sg) || (info.gso && !gso) || dataSlots > RX_MAX_SLOTS) {
      // The switch splits GSO frames for ports without it; one that still arrives is not ours to take.
      stats.txDropped++;
      return false;
    }
    const needed = dataSlots + (gso ? 1 : 0) + (hashType >= 0 ? 1 : 0);
    const defer = pass !== undefined && tail === undefined;
    // A frame that cannot join the staged ones (copied now, or from another buffer) waits for their copy.
    if (this.#staged !== 0 && (pass !== this.#pass || !defer || this.#staged === STAGE_FRAMES || this.#bufs + dataSlots > STAGE_BUFS)) this.#finish();
    if (this.#head === this.#held.length) {
      const room = this.#room(needed);
      if (room < 0) return false;
      if (room > 0) {
        this.#wentIn = true;
        this.#stuck = false;
        if (!defer) {
          this.#stage(frame, false, info, hashType, hashValue, dataSlots, gso, tail);
          return this.#finish(tail?.domid);
        }
        this.#pass = pass;
        this.#stage(frame, true, info, hashType, hashValue, dataSlots, gso);
        if (!this.#deferred) {
          this.#deferred = true;
          pass.defer(this.#finishDeferred);
        }
        return true;
      }
    }
    // xenvif_rx_queue_tail: held while under the bound, else dropped. A held frame is a copy: its tail comes into dom0 first.
    if (this.#heldCost >= this.#o.limits.queueMax || (tail && !tail.fill())) {
      if (sender && this.#heldCost > 0) {
        this.#pause(sender);
        this.#arm(this.#now());
      }
      stats.txDropped++;
      return false;
    }
    const now = this.#now();
    if (this.#head === this.#held.length) {
      this.#movedAt = now;
      if (this.#wentIn) {
        this.#wentIn = false;
        this.#lastRx = now;
      }
    }
    this.#held.push({ frame: this.#heldCopies.copy(frame) ?? frame.slice(), info, hashType, hashValue, expires: now + this.#o.limits.drainTimeoutMs, gso, dataSlots, needed });
    this.#heldBytes += frame.length;
    this.#heldCost += Math.max(frame.length, HELD_MIN_COST);
    if (sender) this.#pause(sender);
    this.#arm(now);
    return true;
  }

  /** Back-pressure: `sender` takes nothing more until what is held has gone out (not while the frontend is stuck). */
  #pause(sender: FrameSender): void {
    if (this.#stuck) return;
    this.#paused.add(sender);
    sender.pause();
  }

  #resumeSenders(): void {
    if (this.#paused.size === 0) return;
    for (const s of this.#paused) s.resume();
    this.#paused.clear();
  }

  /**
   * The frontend posted buffers, or a held frame's time is up (xenvif_kthread_guest_rx's pass):
   * held frames go out while there is room, expired ones are dropped, the stall state follows.
   */
  service(): void {
    if (this.#staged !== 0) this.#finish();
    if (this.#stopped || this.#head === this.#held.length && !this.#stalled && this.#paused.size === 0) return;
    let now = 0;
    for (;;) {
      let sent = false;
      while (this.#head < this.#held.length) {
        const h = this.#held[this.#head]!;
        const room = this.#room(h.needed);
        if (room < 0) return;
        if (room === 0) break;
        this.#stage(h.frame, false, h.info, h.hashType, h.hashValue, h.dataSlots, h.gso);
        this.#finish();
        this.#shift();
        sent = true;
      }
      now = this.#now();
      if (sent) {
        this.#lastRx = now;
        this.#movedAt = now;
        this.#stuck = false;
      }
      // xenvif_rx_queue_drop_expired; a frame behind the expired ones may fit: look again.
      let expired = false;
      while (this.#head < this.#held.length && this.#held[this.#head]!.expires <= now) {
        this.#shift();
        this.#o.stats.txDropped++;
        expired = true;
      }
      if (!expired) break;
    }
    const limits = this.#o.limits;
    if (this.#head === this.#held.length) {
      this.#resumeSenders();
    } else if (this.#paused.size !== 0 && now >= this.#movedAt + limits.stopTimeoutMs) {
      this.#stuck = true;
      if (this.#logged < 8) {
        this.#logged++;
        this.#o.log(`d${this.#o.frontendId}: no rx buffers for ${limits.stopTimeoutMs} ms: its senders go on, its frames are held to the bound`);
      }
      this.#resumeSenders();
    }
    if (limits.stallTimeoutMs > 0) {
      const needed = this.#head < this.#held.length ? this.#held[this.#head]!.needed : 0;
      const slots = this.#ring.hasUnconsumedRequests();
      if (!this.#stalled && slots < needed && now > this.#lastRx + limits.stallTimeoutMs) {
        this.#stalled = true;
        this.#o.onStall(true);
      } else if (this.#stalled && slots >= needed) {
        this.#stalled = false;
        this.#lastRx = now;
        this.#o.onStall(false);
      }
    }
    this.#arm(now);
  }

  #shift(): void {
    const h = this.#held[this.#head]!;
    this.#heldCopies.release(h.frame);
    this.#heldBytes -= h.frame.length;
    this.#heldCost -= Math.max(h.frame.length, HELD_MIN_COST);
    this.#head++;
    if (this.#head === this.#held.length) {
      this.#held = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#held.length) {
      this.#held = this.#held.slice(this.#head);
      this.#head = 0;
    }
  }

  /**
   * xenvif_rx_ring_slots_available: 1 when `needed` buffers are posted; 0 when not, with
   * req_event set so that the next one posted wakes us; -1 when req_prod is impossible (the vif
   * is disabled).
   */
  #room(needed: number): number {
    const ring = this.#ring;
    for (;;) {
      const prod = ring.reqProd;
      if (ring.requestProdOverflow(prod)) {
        this.stop();
        this.#o.onFatal(`rx ${ring.requestProdOverflowMessage(prod)}`);
        this.#o.stats.txDropped++;
        return -1;
      }
      if (ring.hasUnconsumedRequests() >= needed) return 1;
      Atomics.store(this.#words, SRING_REQ_EVENT / 4, (prod + 1) | 0);
      if (ring.reqProd === prod) return 0;
    }
  }

  /** The next wake-up: the held head's expiry, when it would count as stalled, or when paused senders stop waiting. */
  #arm(now: number): void {
    let at = Infinity;
    if (this.#head < this.#held.length) {
      at = this.#held[this.#head]!.expires;
      const limits = this.#o.limits;
      if (limits.stallTimeoutMs > 0 && !this.#stalled) at = Math.min(at, this.#lastRx + limits.stallTimeoutMs + 1);
      if (this.#paused.size !== 0) at = Math.min(at, this.#movedAt + limits.stopTimeoutMs);
    }
    if (at === this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = undefined;
    if (at === Infinity) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.service();
    }, Math.max(1, at - now));
    this.#timer.unref();
  }

  /**
   * Stage a frame for the buffers at req_cons: their requests consumed, the ops that copy it
   * added to the batch. The batch reads its bytes in the view from the frame itself, or, for
   * a `deferred` one, from its sender's pass buffer; a `tail`'s go grant to grant from the
   * sender's pages.
   */
  #stage(frame: Uint8Array, deferred: boolean, info: NetFrameInfo, hashType: number, hashValue: number, dataSlots: number, gso: NetFrameInfo['gso'], tail?: FrameTail): void {
    const ring = this.#ring;
    const extras = (gso ? 1 : 0) + (hashType >= 0 ? 1 : 0);
    const b = this.#copy;
    const pass = deferred ? this.#pass! : null;
    if (this.#staged === 0) b.reset(pass ? pass.memory : frame, true);
    if (tail) b.usePins(tail.pins);
    const base = pass ? frame.byteOffset - pass.memory.byteOffset : 0;
    const b0 = this.#bufs;
    let consumed = ring.reqCons;
    for (let i = b0; i < b0 + dataSlots; i++) {
      ring.copyRequest(consumed, this.#slot);
      // The extra-infos take the slots after the first: their requests are consumed, their responses are the extras.
      consumed += i === b0 ? 1 + extras : 1;
      this.#ids[i] = this.#slotView.getUint16(NETIF_RX_REQ_ID, LE);
      this.#grefs[i] = this.#slotView.getUint32(NETIF_RX_REQ_GREF, LE);
      this.#fill[i] = 0;
      this.#bufStatus[i] = 0;
    }
    ring.reqCons = consumed;
    // The frame's bytes in order, cut at the buffers' page boundaries: first those in the view...
    let pos = this.#pieces(b0, -1, base, tail ? tail.head : frame.length, 0);
    // ...then the tail's, each sender slot from the sender's pin of its grant.
    if (tail) {
      const t = tail.pins;
      for (let k = 0; k < t.count; k++) pos = this.#pieces(b0, k, t.offset[k]!, t.len[k]!, pos);
    }
    const f = this.#staged;
    this.#fBuf0[f] = b0;
    this.#fSlots[f] = dataSlots;
    this.#fInfo[f] = info;
    this.#fGso[f] = gso;
    this.#fHashType[f] = hashType;
    this.#fHashValue[f] = hashValue;
    this.#fLen[f] = frame.length;
    this.#staged = f + 1;
    this.#bufs = b0 + dataSlots;
  }

  /**
   * Copy the staged frames, one batch (grant-to-grant ops from `srcDomid`'s grants), then
   * their responses in ring order, published at the end of the turn (or by the caller, when
   * `publishing`). False if a buffer of the last frame did not take its copy.
   */
  #finish(srcDomid?: number, publishing = false): boolean {
    const n = this.#staged;
    if (n === 0) return true;
    const stats = this.#o.stats;
    const b = this.#copy;
    this.#staged = 0;
    this.#bufs = 0;
    this.#pass = null;
    if (this.#o.hc.grantCopyLocal(this.#o.frontendId, b, srcDomid) !== 0) {
      for (let k = 0; k < b.count; k++) {
        const st = b.status[k]!;
        const buf = this.#opBuf[k]!;
        if (st !== 0 && this.#bufStatus[buf] === 0) this.#bufStatus[buf] = st;
      }
    }
    let ok = true;
    for (let f = 0; f < n; f++) {
      const b0 = this.#fBuf0[f]!;
      const dataSlots = this.#fSlots[f]!;
      const info = this.#fInfo[f]!;
      const gso = this.#fGso[f];
      const hashType = this.#fHashType[f]!;
      const extras = (gso ? 1 : 0) + (hashType >= 0 ? 1 : 0);
      ok = true;
      for (let i = 0; i < dataSlots; i++) {
        const st = this.#bufStatus[b0 + i]!;
        if (st !== 0) {
          ok = false;
          if (this.#logged < 8) {
            this.#logged++;
            this.#o.log(`d${this.#o.frontendId}: rx buffer ${this.#ids[b0 + i]} (gref ${this.#grefs[b0 + i]}): ${gntstName(st)}`);
          }
        }
        let flags = i < dataSlots - 1 ? NETRXF_more_data : 0;
        if (i === 0) {
          if (info.csumBlank) flags |= NETRXF_csum_blank | NETRXF_data_validated;
          else if (info.dataValidated) flags |= NETRXF_data_validated;
          if (extras) flags |= NETRXF_extra_info;
        }
        this.#respond(this.#ids[b0 + i]!, flags, st === 0 ? this.#fill[b0 + i]! : NETIF_RSP_ERROR);
        if (i === 0 && gso) {
          this.#gso.flags = hashType >= 0 ? XEN_NETIF_EXTRA_FLAG_MORE : 0;
          this.#gso.size = gso.size;
          this.#gso.gsoType = gso.type;
          this.#extra(this.#gso);
        }
        if (i === 0 && hashType >= 0) {
          this.#hash.hashType = hashType;
          this.#hash.value = this.#fHashValue[f]!;
          this.#extra(this.#hash);
        }
      }
      if (ok) {
        stats.txPackets++;
        stats.txBytes += this.#fLen[f]!;
      } else {
        stats.txErrors++;
      }
    }
    if (!publishing) this.#schedulePush();
    return ok;
  }

  /**
   * Ops for `len` bytes of the frame from position `pos` on, into the buffers from `b0` on:
   * from the batch's buffer (pin -1, `from` its offset there) or from the sender's pinned op
   * `pin` (the batch's usePins) at offset `from` in its page; cut where a buffer fills. Returns
   * the position after them.
   */
  #pieces(b0: number, pin: number, from: number, len: number, pos: number): number {
    const b = this.#copy;
    while (len > 0) {
      const buf = b0 + Math.floor(pos / PAGE_SIZE);
      const inBuf = pos % PAGE_SIZE;
      const n = Math.min(len, PAGE_SIZE - inBuf);
      this.#opBuf[b.count] = buf;
      if (pin >= 0) b.addFromPinned(pin, from, this.#grefs[buf]!, inBuf, n);
      else b.add(this.#grefs[buf]!, inBuf, n, from);
      this.#fill[buf] = inBuf + n;
      pos += n;
      from += n;
      len -= n;
    }
    return pos;
  }

  #extra(x: NetifExtraInfo): void {
    const ring = this.#ring;
    encodeNetifExtraInfo(ring.view, ring.slotOffset(ring.rspProdPvt), x);
    ring.rspProdPvt = ring.rspProdPvt + 1;
  }

  #respond(id: number, flags: number, status: number): void {
    const ring = this.#ring;
    const rsp = this.#rsp;
    rsp.id = id;
    rsp.offset = 0;
    rsp.flags = flags;
    rsp.status = status;
    encodeNetifRxResponse(ring.view, ring.slotOffset(ring.rspProdPvt), rsp);
    ring.rspProdPvt = ring.rspProdPvt + 1;
  }

  /** One push and at most one event for the frames delivered in this turn. */
  #schedulePush(): void {
    if (this.#pushQueued) return;
    this.#pushQueued = true;
    queueMicrotask(() => {
      this.#pushQueued = false;
      if (!this.#stopped) this.flush();
    });
  }

  /** Publish the responses written so far (a staged frame's once it is copied). */
  flush(): void {
    if (this.#staged !== 0) this.#finish(undefined, true);
    if (this.#ring.pushResponsesAndCheckNotify()) this.#o.notify();
  }

  /** The vif is down: the held frames are let go (xenvif_rx_queue_purge). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#held = [];
    this.#head = 0;
    this.#heldBytes = 0;
    this.#heldCost = 0;
    this.#heldCopies.clear();
    this.#staged = 0;
    this.#bufs = 0;
    this.#pass = null;
    this.#resumeSenders();
  }
}
