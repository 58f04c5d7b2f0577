// netfront's data path: the queues (a tx and an rx ring each, their event channels, split or
// shared, and their rx pages), the transmit arena the queues send from, frames waiting for ring
// room, the listeners and the counters. The
// xenbus lifecycle (./netfront.ts) connects it and takes it down; a backend that breaks the
// protocol is reported through onBroken. Everything that may let frames out (a write, tx
// responses, a connection) goes through one #kick, so a turn's writes are published together;
// a frame built in place is published as it is posted (see TxQueue.publish).
import { NETIF_RSP_DROPPED, NETIF_RSP_OKAY, NETIF_TX_SLOT_SIZE, type NetFrameInfo } from '../../../abi/netif.js';
import { ringSize } from '../../../abi/ring.js';
import { PAGE_SIZE } from '../../../abi/xen.js';
import { DOUBLE_ZERO, zeroDoubles } from '../../../double-fields.js';
import type { BoundPort } from '../../../hypervisor/port.js';
import type { DriverContext } from '../../evtchn.js';
import { grantRing, revokeRing, type GrantedRing } from '../../ringpages.js';
import { oncePerTurn } from '../../turn.js';
import { TxArena, type TxRun } from './arena.js';
import { BackendMisbehaved, TxError, type NetError } from './errors.js';
import type { NetStats } from './net.js';
import { NetPages } from './pages.js';
import { NETFRONT_CONNECT_FRAMES } from '../protocol.js';
import { RxQueue } from './rx.js';
import { TxQueue, type TxFrame } from './tx.js';
import { SuspendGate } from '../../quiesce.js';

/** What the lifecycle writes to xenstore for one queue. */
export interface QueueRefs {
  readonly txRef: number;
  readonly rxRef: number;
  readonly txPort: number;
  /** The same as txPort unless the channels are split. */
  readonly rxPort: number;
}

interface Queue {
  readonly tx: TxQueue;
  readonly rx: RxQueue;
  readonly txPort: BoundPort;
  readonly rxPort: BoundPort;
  readonly rings: GrantedRing[];
  readonly pages: NetPages[];
}

/** One write's frames: its promise settles once every frame is answered (the first error wins). */
class TxBatch {
  #err: NetError | null = null;
  constructor(
    private left: number,
    private readonly resolve: () => void,
    private readonly reject: (e: NetError) => void,
  ) {}

  done(e: NetError | null): void {
    this.#err ??= e;
    if (--this.left === 0) (this.#err ? this.reject(this.#err) : this.resolve());
  }
}

/** A frame of a write (or built in place: no batch): an object of a class, so a frame costs no closures. */
class Pending implements TxFrame {
  left = 0;
  status = NETIF_RSP_OKAY;
  run: TxRun | undefined = undefined;
  constructor(
    public data: Uint8Array,
    readonly info: NetFrameInfo,
    readonly batch: TxBatch | undefined,
    readonly dp: NetDatapath,
  ) {}

  settle(f: TxFrame): void {
    this.dp.settled(f, this.batch);
  }

  fail(e: NetError): void {
    if (this.run) this.dp.freeRun(this.run);
    this.run = undefined;
    this.batch?.done(e);
  }

  /** Its arena is going: keep its bytes (to send again) in memory of its own. */
  detach(): void {
    if (this.run && this.data === this.run.bytes) this.data = this.data.slice();
    this.run = undefined;
  }
}

type MutableStats = { -readonly [K in keyof NetStats]: NetStats[K] };

/**
 * Frames handed up from an rx ring before what they made the stacks send is pushed out. A
 * sleeping backend hears of a turn's transmits once, at the end of the turn (a wake-up per
 * frame costs more than it gains), so a batch of 30 HTTP requests was answered in full before
 * dom0 heard of the first answer, and the client, dom0 and the server took turns: one thread
 * ran at a time (their CPU shares added up to one core). Pushing every few frames lets the next
 * hop start on the first answers while the rest are made. Linux's netfront notifies at every
 * transmit that finds the backend asleep, and hands up at most NAPI's 64 frames per poll.
 */
export const RX_PUSH_BUDGET = 8;

/** Grant references one queue takes: two ring pages and the rx buffers. */
const REFS_PER_QUEUE = NETFRONT_CONNECT_FRAMES;
/**
 * Pages the transmit arena may grow to: twice a tx ring's slots, so that a ring full of frames
 * in flight leaves room to build the next ones (a 1 MiB TCP window is 256 pages of GSO frames).
 */
const ARENA_PAGES = 2 * ringSize(PAGE_SIZE, NETIF_TX_SLOT_SIZE);

export class NetDatapath {
  readonly stats: MutableStats = zeroDoubles({ rxBytes: DOUBLE_ZERO, rxPackets: 0, txBytes: DOUBLE_ZERO, txPackets: 0, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 }, 'rxBytes', 'txBytes');
  readonly listeners = new Set<(frame: Uint8Array, info: NetFrameInfo) => void>();
  readonly #ctx: DriverContext;
  readonly #name: string;
  readonly #onBroken: (e: NetError) => void;
  #queues: Queue[] = [];
  /** The transmit arena of the connection, and the pages it grants. */
  #tx: { arena: TxArena; pages: NetPages } | undefined;
  /** Rings and pages an earlier backend still held when its connection went. */
  #dead: { rings: GrantedRing[]; pages: NetPages[] } = { rings: [], pages: [] };
  /** Event channels allocated ahead (reserve), which the next connect takes first. */
  #spare: BoundPort[] = [];
  #waiting: Pending[] = [];
  /**
   * Waiting frames with no arena pages (a write's, or one built in place whose arena went): they
   * take theirs only when posted. While any waits, nothing is built in place (writeInPlace):
   * frames queued behind it would hold the pages it needs, and with nothing in flight no answer
   * would ever give one back.
   */
  #unbacked = 0;
  /** Frames in flight whose write waits for their answer (not those built in place). */
  #awaited = 0;
  #open = false;
  /** The one way into the pump: once per turn of the event loop, whoever asks. */
  readonly #kick = oncePerTurn(() => this.#pump());
  #onDrained: (() => void) | null = null;
  /** Held for a suspend: nothing new is issued; resolved once nothing is in flight. */
  readonly #gate = new SuspendGate();
  #logged = 0;

  constructor(ctx: DriverContext, name: string, onBroken: (e: NetError) => void) {
    this.#ctx = ctx;
    this.#name = name;
    this.#onBroken = onBroken;
  }

  get inFlight(): number {
    let n = 0;
    for (const q of this.#queues) n += q.tx.inFlight;
    return n;
  }

  /** Room in the grant table for `nq` queues' references (GNTTABOP_setup_table when short). */
  async #growGrants(nq: number): Promise<void> {
    const hc = this.#ctx.hc;
    const { nrFrames, maxNrFrames } = hc.grantQuerySize();
    const need = Math.ceil((nq * REFS_PER_QUEUE + ARENA_PAGES - hc.freeGrantRefs) / (PAGE_SIZE / 8));
    if (need > 0) await hc.grantSetupTable(Math.min(maxNrFrames, nrFrames + need));
  }

  /**
   * Ahead of a connect (a held device, before its RAM is its own): the grant table grown and
   * the event channels of `nq` queues allocated, round trips to the hypervisor's owner that the
   * connect then saves. No RAM frame is touched.
   */
  async reserve(backendId: number, nq: number, split: boolean): Promise<void> {
    await this.#growGrants(nq);
    for (let i = 0; i < nq * (split ? 2 : 1); i++) this.#spare.push(await this.#ctx.evtchn.allocUnbound(backendId));
  }

  /** Grant `nq` queues' rings and buffers to `backendId` and allocate their event channels (or take those reserved). */
  async connect(backendId: number, nq: number, split: boolean): Promise<QueueRefs[]> {
    const { hc, evtchn } = this.#ctx;
    const port = async () => this.#spare.shift() ?? (await evtchn.allocUnbound(backendId));
    await this.#growGrants(nq);
    if (this.#tx) this.#release([], [this.#tx.pages]);
    const txPages = new NetPages(hc, backendId, true);
    const tx = (this.#tx = { arena: new TxArena(txPages, ARENA_PAGES), pages: txPages });
    for (let i = 0; i < nq; i++) {
      const rings = [grantRing(hc, backendId, 1), grantRing(hc, backendId, 1)];
      const pages = [new NetPages(hc, backendId, false)];
      let q: Queue;
      try {
        const txPort = await port();
        const rxPort = split ? await port() : txPort;
        const rx = new RxQueue(rings[1]!.bytes, pages[0]!, {
          frame: (f, info) => this.#deliver(f, info),
          error: (why) => this.#rxError(why),
        });
        q = { tx: new TxQueue(rings[0]!.bytes, tx.arena), rx, txPort, rxPort, rings, pages };
      } catch (e) {
        this.#release(rings, pages);
        throw e;
      }
      this.#queues.push(q);
      q.txPort.onEvent(() => this.#onTx(q));
      if (split) q.rxPort.onEvent(() => this.#onRx(q));
      else q.txPort.onEvent(() => this.#onRx(q));
    }
    return this.#queues.map((q) => ({ txRef: q.rings[0]!.refs[0]!, rxRef: q.rings[1]!.refs[0]!, txPort: q.txPort.port, rxPort: q.rxPort.port }));
  }

  /** The backend is connected: post the rx buffers and send what waits. */
  start(): void {
    this.#open = true;
    for (const q of this.#queues) {
      if (q.rx.refill()) q.rxPort.notify();
      this.#onRx(q);
    }
    this.#kick();
  }

  /** Queue frames the lifecycle checked; resolves when the backend answered every one. */
  submit(frames: readonly Uint8Array[], info: NetFrameInfo): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const batch = new TxBatch(frames.length, resolve, reject);
      for (const data of frames) this.#waiting.push(new Pending(data, info, batch, this));
      this.#unbacked += frames.length;
      this.#kick();
    });
  }

  /**
   * Build a frame of `len` bytes in place in the arena (`fill` writes all of it) and post it at
   * once, or, when frames wait before it or its ring has no room, let it wait behind them in its
   * pages, to be posted as it is (a qdisc's queue, not a copy). False, with `fill` not called,
   * when the arena has no room, the device is not connected or a frame with no pages waits
   * (#unbacked): then the caller write()s it.
   */
  writeInPlace(len: number, info: NetFrameInfo, fill: (frame: Uint8Array) => void): boolean {
    const tx = this.#tx;
    if (!this.#open || !tx || this.#gate.held || this.#unbacked > 0) return false;
    // Short of room, the answers that came without an event (#lazy) first give back theirs,
    // as Linux's xennet_start_xmit collects tx responses before it stops the queue.
    let run = tx.arena.allocContiguous(len);
    if (!run && this.#reap()) run = tx.arena.allocContiguous(len);
    if (!run) return false;
    try {
      fill(run.bytes!);
    } catch (e) {
      tx.arena.free(run);
      throw e;
    }
    const p = new Pending(run.bytes!, info, undefined, this);
    p.run = run;
    const queues = this.#queues;
    const q = queues[flowQueue(p.data, queues.length)]!;
    if (this.#waiting.length === 0 && (q.tx.post(p) || (this.#reap() && this.#open && q.tx.post(p)))) q.tx.publish();
    // Unless the answers just taken broke the ring (the device is closed, and the frame lost with it).
    else if (this.#open) this.#waiting.push(p);
    this.#kick();
    return true;
  }

  /** Take the tx answers waiting on every queue; false if there were none. */
  #reap(): boolean {
    let any = false;
    const lazy = this.#lazy();
    for (const q of this.#queues) {
      if (q.tx.ring.hasUnconsumedResponses() === 0) continue;
      any = true;
      try {
        q.tx.poll(lazy);
      } catch (e) {
        this.#broken(e);
        return false;
      }
    }
    return any;
  }

  /** A frame that will not go gives back the arena pages it was built in. */
  freeRun(run: TxRun): void {
    this.#tx?.arena.free(run);
  }

  /** A frame's slots are all answered: give back its pages, count it and tell its write. */
  settled(f: TxFrame, batch: TxBatch | undefined): void {
    if (batch) this.#awaited--;
    if (f.run) this.freeRun(f.run);
    f.run = undefined;
    if (f.status === NETIF_RSP_OKAY) {
      this.stats.txPackets++;
      this.stats.txBytes += f.data.length;
      return batch?.done(null);
    }
    if (f.status === NETIF_RSP_DROPPED) this.stats.txDropped++;
    else this.stats.txErrors++;
    batch?.done(new TxError(`${this.#name}: the backend answered status ${f.status} to a ${f.data.length}-byte frame`, f.status));
  }

  /** Stop listening and revoke; frames in flight and waiting wait to be sent again, or fail with `err`. */
  teardown(err: NetError | null): void {
    const again: Pending[] = [];
    for (const q of this.#queues) {
      q.txPort.close();
      if (q.rxPort !== q.txPort) q.rxPort.close();
      // Answers published but not yet taken (tx events are lazy) settle their frames, which
      // would otherwise go again. A backend that broke the ring's rules gets its frames sent again.
      try {
        q.tx.poll();
      } catch {
        // The frames in flight stay in flight, to go again or fail below.
      }
      again.push(...(q.tx.takeInFlight() as Pending[]));
      this.#release(q.rings, q.pages);
    }
    if (this.#tx) this.#release([], [this.#tx.pages]);
    this.#tx = undefined;
    this.#queues = [];
    this.#awaited = 0;
    this.#open = false;
    if (err) {
      for (const p of again) p.fail(err);
      for (const p of this.#waiting.splice(0)) p.fail(err);
      this.#unbacked = 0;
    } else {
      // To go again on the next arena: frames built in place, in flight or waiting for ring
      // room, keep their bytes in memory of their own.
      for (const p of again) p.detach();
      for (const p of this.#waiting) p.detach();
      this.#waiting.unshift(...again);
      this.#unbacked = this.#waiting.length;
    }
    this.#onDrained?.();
  }

  #release(rings: GrantedRing[], pages: NetPages[]): void {
    const hc = this.#ctx.hc;
    for (const r of rings) if (!revokeRing(hc, r)) this.#dead.rings.push(r);
    for (const p of pages) {
      p.revokeAll();
      if (p.held > 0) this.#dead.pages.push(p);
    }
  }

  /** End the grants an earlier backend still held, where it has let go since. */
  retryRevoke(): void {
    const hc = this.#ctx.hc;
    this.#dead.rings = this.#dead.rings.filter((r) => !revokeRing(hc, r));
    for (const p of this.#dead.pages) p.retry();
    this.#dead.pages = this.#dead.pages.filter((p) => p.held > 0);
  }

  /**
   * For a suspend: issue nothing new, at once. Frames in flight are not waited for (blkfront's
   * writes are): the backend sends them or not, as a network may lose any frame, and the TCP/IP
   * stacks' state, taken before, counts their data as unacknowledged and sends it again. Waiting
   * cost the downtime a round trip through the backend's thread.
   */
  quiesce(): Promise<void> {
    return this.#gate.quiesce(0);
  }

  /** After a suspend that was cancelled (the domain runs on in place): issue what waited. */
  release(): void {
    this.#gate.release();
    this.#kick();
  }

  /** Fail what waits with `err`; resolves once nothing is in flight. */
  drain(err: NetError): Promise<void> {
    for (const p of this.#waiting.splice(0)) p.fail(err);
    this.#unbacked = 0;
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#onDrained = resolve;
      // The answers must now wake us (#lazy).
      this.#kick();
    });
  }

  /** The device is gone for good. */
  close(err: NetError): void {
    this.teardown(err);
    for (const p of this.#spare.splice(0)) p.close();
    this.listeners.clear();
  }

  /** Post waiting frames in order while their queue has room (a frame that does not fit holds the rest back). */
  #pump(): void {
    if (!this.#open || this.#gate.held) return;
    const queues = this.#queues;
    let n = 0;
    for (let p = this.#waiting[0]; p !== undefined; p = this.#waiting[++n]) {
      const unbacked = p.run === undefined;
      if (!queues[flowQueue(p.data, queues.length)]!.tx.post(p)) break;
      if (unbacked) this.#unbacked--;
      if (p.batch) this.#awaited++;
    }
    this.#waiting.splice(0, n);
    const lazy = this.#lazy();
    for (const q of queues) {
      if (q.tx.flush()) q.txPort.notify();
      // A poll may have armed the ring lazily before a write that waits was posted.
      if (!lazy && q.tx.inFlight > 0 && q.tx.wantResponses()) queueMicrotask(() => this.#onTx(q));
      q.txPort.expectEvents(!lazy && q.tx.inFlight > 0);
    }
  }

  /**
   * Whether tx answers may wait for the next rx event (TxQueue.poll's `lazy`): nothing waits for
   * ring room, no write waits for its answer, no drain waits for the ring to empty, and no
   * suspend holds the gate. Frames built in place wait only for their pages. A suspend waits for
   * no answer (quiesce), and nothing asks for the event when it starts: answers that come
   * while it holds the gate are taken at once only if an event was asked for already.
   */
  #lazy(): boolean {
    return this.#waiting.length === 0 && this.#awaited === 0 && !this.#onDrained && !this.#gate.held;
  }

  #onTx(q: Queue): void {
    if (!this.#queues.includes(q)) return;
    const lazy = this.#lazy();
    try {
      q.tx.poll(lazy);
    } catch (e) {
      return this.#broken(e);
    }
    q.txPort.expectEvents(!lazy && q.tx.inFlight > 0);
    this.#kick();
    if (this.#onDrained && this.inFlight === 0) this.#onDrained();
    this.#gate.settled(this.inFlight);
  }

  /**
   * Add a listener. While nothing listens, frames wait in the rx rings (#onRx), as in a NIC's
   * ring its driver has not read: a migrated guest's peers' frames that come once the target
   * announced it, before its restored stack listens, reach that stack instead of being taken
   * and dropped. The first listener takes them on a later microtask, once
   * its stack is set up (a stack listens when it is made, then restores its state). A guest that
   * opens a vif and never listens leaves its rings full, and netback's stall timer takes the
   * carrier off, as for a Linux guest that stops reading its rings.
   */
  listen(handler: (frame: Uint8Array, info: NetFrameInfo) => void): () => void {
    this.listeners.add(handler);
    if (this.listeners.size === 1) queueMicrotask(() => this.#queues.forEach((q) => this.#onRx(q)));
    return () => this.listeners.delete(handler);
  }

  #onRx(q: Queue): void {
    if (!this.#open || this.listeners.size === 0 || !this.#queues.includes(q)) return;
    // The tx answers that came without an event, first: the pages of frames the ACKs here
    // acknowledge are then free for what the stacks send in reply. (A shared channel has run #onTx already.)
    if (q.rxPort !== q.txPort) this.#onTx(q);
    try {
      // A batch at a time, each followed by what it made the stacks send (their ACKs and
      // answers) and its buffers posted again: a backend that keeps delivering (a peer's
      // retransmissions after a migration) must not hold them back until it pauses, and the
      // first answers of a long batch go before the rest are made (RX_PUSH_BUDGET).
      while (q.rx.poll(RX_PUSH_BUDGET)) {
        this.#pump();
        if (q.rx.refill()) q.rxPort.notify();
      }
    } catch (e) {
      return this.#broken(e);
    }
    if (q.rx.refill()) q.rxPort.notify();
  }

  #broken(e: unknown): void {
    const err = e instanceof BackendMisbehaved ? new BackendMisbehaved(`${this.#name}: ${e.message}`) : (e as Error);
    this.#ctx.log?.(`netfront ${err.message}`);
    this.#onBroken(err instanceof BackendMisbehaved ? err : new BackendMisbehaved(`${this.#name}: ${err.message}`));
  }

  #deliver(frame: Uint8Array, info: NetFrameInfo): void {
    if (this.listeners.size === 0) {
      // The last listener left within a batch (frames wait in the rings while none listens).
      this.stats.rxDropped++;
      return;
    }
    this.stats.rxPackets++;
    this.stats.rxBytes += frame.length;
    for (const h of this.listeners) {
      try {
        h(frame, info);
      } catch (e) {
        this.#log(`a listener threw: ${(e as Error).message}`);
      }
    }
  }

  #rxError(why: string): void {
    this.stats.rxErrors++;
    this.#log(`dropped a received frame: ${why}`);
  }

  /** Log the first few of a kind of trouble, not a line per frame of a flood. */
  #log(line: string): void {
    if (this.#logged++ < 8) this.#ctx.log?.(`netfront ${this.#name}: ${line}`);
  }
}

/**
 * The tx queue of a frame: IPv4 frames by a hash of their addresses and ports (one flow stays
 * on one queue, in order), everything else on queue 0.
 */
export function flowQueue(frame: Uint8Array, nq: number): number {
  if (nq === 1 || frame.length < 38 || frame[12] !== 0x08 || frame[13] !== 0x00) return 0;
  let h = 0;
  for (let i = 26; i < 38; i++) h = (Math.imul(h, 31) + frame[i]!) >>> 0;
  return h % nq;
}
