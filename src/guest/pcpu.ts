// A pCPU thread of a shared cpupool (hypervisor/cpupool.ts is dom0's side). It hosts many
// domains, each in its own realm: a node:vm context with its own globals, its own microtask
// queue and its own instance of the library OS (realm.ts, linked as dist/realm.js). The thread
// sleeps on its doorbell (doorbell.ts) and, when woken, runs a turn of each runnable domain by
// credit (credit.ts): the control-plane replies, timers and setImmediate callbacks that came for
// it, its pending event upcalls, then its microtasks.
//
// The boundary: a realm holds the host functions of realm/host.ts, inside closures only, and
// gets from this thread only primitives, its own SharedArrayBuffers (re-parented to its own
// SharedArrayBuffer.prototype) and objects built from its own intrinsics, captured before any of
// its code ran. So nothing it can reach leads to this thread's realm or to another domain's. Its
// peers' buffers, which dom0's answers to its connects and binds carry, stay on this thread
// (pcpu-hypercalls.ts): its library OS's code shares the realm's intrinsics with its guest, which
// can wrap them (Map.prototype.get, Atomics.load) to be handed whatever that code holds.
// Nor does any of its objects reach Node's JavaScript, which reads an object through its getters
// and builds its errors with util.inspect, which hands the value's custom-inspect method this
// thread's inspect: what a realm passes in is checked and read with this thread's own accessors,
// which run none of its code (ownBytes, RealmSerializer; docs/SECURITY.md).
import { randomFillSync } from 'node:crypto';
import { closeSync, constants as fsConstants, fstatSync, openSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { crc32 } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { types } from 'node:util';
import vm from 'node:vm';
import { MessageChannel, moveMessagePortToContext, parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { resumeFrom } from '../abi/suspend.js';
import { PAGE_SIZE } from '../abi/xen.js';
import type { PcpuData, PcpuMessage, PcpuStatus } from '../hypervisor/cpupool.js';
import { CONTROL_BURST } from '../hypervisor/control.js';
import { CreditScheduler } from '../hypervisor/credit.js';
import { PCPU_BEAT_MS, PcpuStats, takeRung, DB_PENDING } from '../hypervisor/doorbell.js';
import { CB_RUNSTATE, PFN_START_INFO, RUNSTATE_blocked, RUNSTATE_runnable, RUNSTATE_running } from '../hypervisor/layout.js';
import { DomainView, type DomainBuffers } from '../hypervisor/memory.js';
import { GUEST_NICE } from '../hypervisor/sched.js';
import { unblockThrough, UPCALL_WORD } from '../hypervisor/evtchn.js';
import { onKilledAtGate } from '../hypervisor/gate.js';
import { wallMs } from '../hypervisor/monotonic.js';
import { HALT_POLL_MAX_US, HALT_POLL_START_US } from '../hypervisor/upcall.js';
import { currentThreadId } from '../hypervisor/thread.js';
import { oncePerRealm } from './boot-status.js';
import { HeapShares } from './heapshare.js';
import { wrapKernelScript } from './kernel-wrap.js';
import { messageOf, OWN_TIMERS, SEND_DONE, SEND_NOT_HERE, type OwnTimer, type RealmHost } from './realm/host.js';
import type { RealmKernel, RealmTurns } from './realm.js';
import { isGrant, PcpuHypercalls, PeerViews } from './pcpu-hypercalls.js';
import { RING_BAD } from '../drivers/blk/front/ring-io.js';
import { decodeOwn, deserializeOwn, ownBytes, ownFloat64s, ownInt32s, RealmSerializer } from './realm-bytes.js';
import { PassWakes } from './wakes.js';

const data = workerData as PcpuData;
const parent = parentPort!;
const status = (m: PcpuStatus) => parent.postMessage(m);
const doorbell = new Int32Array(data.doorbell);
const tid = currentThreadId();
const stats = new PcpuStats(data.stats, data.epoch);

/** Timers one domain may have armed at once: each costs this thread a host timer. */
const MAX_TIMERS = 65536;
const MAX_OP_LENGTH = 32;
/** How often a busy thread reads its heap's figures for the realms' shares (~10 us a reading). */
const HEAP_SAMPLE_MS = 5;
const MAX_ARG_LENGTH = 64;

/** The realm's intrinsics this thread builds the realm's objects with (read before its code runs). */
interface Intrinsics {
  readonly create: (proto: object) => object;
  readonly objectProto: object;
  readonly arrayOf: (...items: unknown[]) => unknown[];
  readonly sabProto: object;
  readonly promiseProto: object;
  readonly Uint8Array: new (length: number) => Uint8Array;
}
const INTRINSICS = `({ create: Object.create, objectProto: Object.prototype, arrayOf: Array.of,
  sabProto: SharedArrayBuffer.prototype, promiseProto: Promise.prototype, Uint8Array })`;
/** %TypedArray%.prototype.set of this thread: copies into a realm's view by its slots, running none of its code. */
const setBytes = Uint8Array.prototype.set;

const processTicks = ((f: unknown) => {
  if (typeof f !== 'function') throw new Error(`shared cpupools need Node's process._tickCallback (rejectionsInTurn); this is ${process.version}`);
  return f as () => void;
})((process as unknown as { _tickCallback?: unknown })._tickCallback);

const realmImage = new vm.Script(readFileSync(fileURLToPath(data.realmImage), 'utf8'), { filename: data.realmImage });
const drainScript = new vm.Script('undefined', { filename: 'xenode:turn' });
const kernels = new Map<string, vm.Script>();

/** A kernel image this thread could not or would not read. Its message names no host path: it reaches the realm (claim). */
class KernelImageError extends Error {
  override name = 'KernelImageError';
}

/**
 * A kernel image's text. Opened without waiting and read only if a regular file: this thread
 * reads it outside any turn, unwatched, and a FIFO or a device at its path would hold it, and
 * every domain of its pool, for ever.
 */
function readImage(url: string): string {
  let fd: number;
  try {
    fd = openSync(fileURLToPath(url), fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (e) {
    throw new KernelImageError(`its image could not be opened (${(e as NodeJS.ErrnoException).code})`);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new KernelImageError('its image is not a regular file');
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

function kernelScript(url: string): vm.Script {
  let s = kernels.get(url);
  if (!s) {
    const code = readImage(url);
    s = new vm.Script(wrapKernelScript(code), { filename: url });
    kernels.set(url, s);
  }
  return s;
}

/**
 * A kernel image's script, or why it did not compile, described: the error is this thread's (a
 * SyntaxError, a KernelImageError), its name and message only: its stack names host paths, which
 * must not cross into a realm.
 */
function compiledKernel(url: string): vm.Script | string {
  try {
    return kernelScript(url);
  } catch (e) {
    return describe(e);
  }
}

/**
 * A host value made into the realm's own: plain data, and SharedArrayBuffers only where `own`
 * says the value is the domain's own buffers (its boot's); any other is left out.
 */
function toRealm(v: unknown, I: Intrinsics, own = false): unknown {
  if (v === null || typeof v !== 'object') return typeof v === 'function' ? undefined : v;
  if (v instanceof SharedArrayBuffer) {
    if (!own) return undefined;
    const mine = structuredClone(v); // the same memory, a new object for the realm to hold
    Object.setPrototypeOf(mine, I.sabProto);
    return mine;
  }
  if (Array.isArray(v)) return I.arrayOf(...v.map((x) => toRealm(x, I, own)));
  const o = I.create(I.objectProto);
  for (const k of Object.keys(v)) {
    Reflect.defineProperty(o, k, { value: toRealm((v as Record<string, unknown>)[k], I, own), writable: true, enumerable: true, configurable: true });
  }
  return o;
}

type Inbox =
  | { kind: 'timer'; id: number }
  | { kind: 'reply'; id: number; ok: boolean; value?: unknown; errKind?: string; code?: number | string; message?: string }
  | { kind: 'uncaught'; reason: unknown };

/** Residents with host-side work queued, so a pass never walks every domain of the pCPU. */
const withWork = new Set<Resident>();
/** The thread's one view of each peer its residents were granted (pcpu-hypercalls.ts). */
const peerViews = new PeerViews();

class Resident {
  readonly view: DomainView;
  /** Its data-path hypercalls, run in this thread's context (pcpu-hypercalls.ts). */
  readonly hypercalls: PcpuHypercalls;
  /** Its control calls whose answer carries a peer's buffers (peer, bindInterdomain), by id: their op and the peer's domid. */
  readonly peerCalls = new Map<number, { readonly op: string; readonly domid: unknown }>();
  /** Its control calls posted to dom0 and not answered yet (host.control bounds them). */
  unanswered = 0;
  inbox: Inbox[] = [];
  immediates = false;
  /**
   * Placed or claimed while paused (xl create -p, a restore's claim): what lets its kernel's code
   * run (its top level included), called in its first turn, once unpaused, as a paused vCPU runs
   * nothing (RealmTurns.unpaused).
   */
  held: (() => void) | null = null;
  halted = false;
  turns!: RealmTurns;
  /** How long its last turn ran (ms): unknown before its first, so taken as long (wakes.ts beforeTurn). */
  lastTurnMs = Infinity;
  /**
   * Its realm's timers on this thread, by id; null for one that fired and whose callback has not
   * run yet. A fired timer keeps its place under MAX_TIMERS until then: an interval re-armed
   * there, or a timer refreshed before its turn, re-arms the host timer it holds and is never
   * refused for want of a new one (globals.ts fireTimer says why).
   */
  readonly timers = new Map<number, NodeJS.Timeout | null>();
  /** Which of `timers` are its library OS's own (RealmHost.timerSet), by kind: not counted under MAX_TIMERS. */
  readonly ownTimers = new Map<OwnTimer, number>();
  /** Its realm's JS heap may not outgrow the domain's share of memory= (as a Pool-0 thread's heap cap). */
  readonly maxHeapBytes: number;
  /** A shell's: when its claim reached this thread (performance.timeOrigin + now(), as BootMarks). */
  handed?: number;
  /**
   * A parked shell's module bodies of the kernels prepared last, by image URL, made in its realm
   * ahead of its claim (evaluating one makes the function; no kernel code runs), so that a claim
   * only calls one. Undefined once it has a kernel.
   */
  bodies?: Map<string, RealmKernel>;
  /**
   * A channel whose far end lives in the realm's context: what crosses it is rebuilt there
   * (clone). Made only before any of its guest's code runs (makeCloner).
   */
  #cloner?: { readonly near: MessagePort; readonly far: MessagePort };

  constructor(
    readonly domid: number,
    readonly slot: number,
    readonly ctx: vm.Context,
    readonly I: Intrinsics,
    readonly port: MessagePort,
    buffers: DomainBuffers,
    heapMb: number | undefined,
  ) {
    this.view = new DomainView(buffers);
    this.hypercalls = new PcpuHypercalls(this.view, peerViews, counted);
    this.maxHeapBytes = heapMb === undefined ? Infinity : heapMb * 2 ** 20;
  }

  /** Could run a turn now (the doorbell says nothing of host-side work). */
  get busy(): boolean {
    return this.inbox.length > 0 || this.immediates || this.held !== null;
  }

  post(e: Inbox): void {
    this.inbox.push(e);
    withWork.add(this);
  }

  wantImmediates(): void {
    this.immediates = true;
    withWork.add(this);
  }

  /** `release` lets its kernel's code run: called now, or in its first turn if it is paused (held). */
  runOrHold(release: () => void): void {
    if (this.paused) {
      this.held = release;
      withWork.add(this);
    } else release();
  }

  /** By the word dom0 keeps for it here (PcpuStats.paused), not its control block's, which its guest writes. */
  get paused(): boolean {
    return Atomics.load(stats.paused, this.slot) > 0;
  }

  /** Its vCPU's runstate word, as a Pool-0 vCPU thread writes its own (xl list's r and b). */
  set runstate(s: number) {
    Atomics.store(this.view.ctl, CB_RUNSTATE, s);
  }

  /**
   * Its runstate once a turn (or its placement, or its claim) ends: work it queued for itself (a
   * timer, a setImmediate) keeps it runnable; an event rung meanwhile makes it runnable at the next pass.
   */
  settle(): void {
    this.runstate = this.busy && !this.halted ? RUNSTATE_runnable : RUNSTATE_blocked;
  }

  /**
   * `value` structured-cloned into the realm: built from the realm's own intrinsics by V8, as a
   * message is for the context its port lives in (moveMessagePortToContext).
   */
  clone(value: unknown): unknown {
    if (!this.#cloner) throw new TypeError('this realm reads no structured clone: it did not resume from a suspend record');
    this.#cloner.near.postMessage(value);
    const got = receiveMessageOnPort(this.#cloner.far);
    if (!got) throw new Error('the clone did not arrive');
    return got.message;
  }

  /**
   * The port into its realm, for a domain that resumes from a suspend record: made before any of
   * its guest's code runs. The first port into a context runs Node's setup scripts there, which
   * read the realm's globals and store a function on an object of the realm and read it back
   * through its Object.prototype: after guest code, an `emitMessage` there that was not a function
   * failed Node's check, which aborts the process (dom0 and every domain), and a replaced global
   * ran the guest's code inside Node's setup. Before, they see the realm as the library OS left
   * it. Not made for every realm: it costs about 4 ms of CPU and 140 KiB of heap.
   */
  makeCloner(): void {
    if (this.#cloner || resumeFrom(new DataView(this.view.buffers.memory, PFN_START_INFO * PAGE_SIZE, PAGE_SIZE)) === undefined) return;
    const { port1, port2 } = new MessageChannel();
    this.#cloner = { near: port1, far: moveMessagePortToContext(port2, this.ctx) as unknown as MessagePort };
  }

  /** Its realm runs no more: its timers on this thread go (a halted resident arms none). */
  halt(): void {
    this.halted = true;
    for (const t of this.timers.values()) if (t) clearTimeout(t);
    this.timers.clear();
    this.ownTimers.clear();
  }

  clear(): void {
    if (this.#cloner) {
      this.#cloner.near.close();
      this.#cloner = undefined;
    }
    this.halt();
    this.inbox = [];
    // Nor does the thread run or poll for it (a domain over its memory= is cleared before its evict).
    withWork.delete(this);
    expecting.delete(this);
    this.port.close();
  }
}

const residents = new Map<number, Resident>();
const bySlot = new Map<number, Resident>();
const byPromiseProto = new Map<object, Resident>();
const sched = new CreditScheduler<Resident>();

// ---------------- the host functions a realm holds (realm/host.ts) ----------------

class DomainDying extends Error {
  override name = 'DomainDying';
}

const isArg = (a: unknown) => a === undefined || typeof a === 'number' || (typeof a === 'string' && a.length <= MAX_ARG_LENGTH);

/** The realms' wakes of sleeping vCPU threads, batched per pass (wakes.ts). */
const wakes = new PassWakes();
// The sends this thread runs for its realms (pcpu-hypercalls.ts) wake blocked vCPU threads the
// same way in a turn; an event linked after a held queue lock was let go is linked from a timer,
// outside any pass, and its wake is made at once. They never block at a domain's gate, nor wait
// for a FIFO queue lock (deferred as on dom0's thread, evtchn.ts): the pool mates run on this thread.
unblockThrough((words, index) => {
  if (Atomics.load(stats.words, PcpuStats.RUNNING) !== 0) wakes.wake(words, index);
  else Atomics.notify(words, index, 1);
});
onKilledAtGate(() => {
  throw new DomainDying();
});

function clearHostTimer(d: Resident, id: number): void {
  const t = d.timers.get(id);
  if (t) clearTimeout(t);
  d.timers.delete(id);
  for (const [kind, own] of d.ownTimers) if (own === id) d.ownTimers.delete(kind);
}

/** Its timers that count under MAX_TIMERS. */
function boundedTimers(d: Resident): number {
  let n = d.timers.size;
  for (const id of d.ownTimers.values()) if (d.timers.has(id)) n--;
  return n;
}

/** What a resident's send in this thread's copy (pcpu-hypercalls.ts) did, counted. */
function counted(result: number | string): void {
  if (result === SEND_DONE) Atomics.add(stats.words, PcpuStats.SENDS, 1);
  else if (result === SEND_NOT_HERE) Atomics.add(stats.words, PcpuStats.LEFT, 1);
}

function hostFor(r: () => Resident): RealmHost {
  // Each status a realm can make reach dom0's thread is bounded, as control is (boot-status.ts).
  const tell = oncePerRealm(status);
  return {
    now: () => performance.now(),
    hrtime: () => process.hrtime.bigint(),
    timerSet(id, ms, own) {
      const d = r();
      if (typeof id !== 'number' || typeof ms !== 'number' || (own !== null && !OWN_TIMERS.includes(own)) || d.halted) throw new TypeError('bad timer');
      const old = d.timers.get(id);
      if (old) clearTimeout(old);
      else if (old === undefined) {
        // The library OS's own timers (set_timer_op's, the event-channel retry's) are one of each
        // kind per domain, never refused and not counted, as Xen's vCPU has its singleshot timer:
        // a new one replaces the last.
        if (own !== null) {
          const last = d.ownTimers.get(own);
          if (last !== undefined && last !== id) clearHostTimer(d, last);
          d.ownTimers.set(own, id);
        } else if (boundedTimers(d) >= MAX_TIMERS) {
          return false; // the realm's own error (ENOMEM), not a throw of this thread's
        }
      }
      d.timers.set(id, setTimeout(() => {
        d.timers.set(id, null);
        d.post({ kind: 'timer', id });
        kick();
      }, Math.max(1, Math.min(ms, 2 ** 31 - 1))));
      return true;
    },
    timerClear(id) {
      clearHostTimer(r(), id);
    },
    immediate() {
      const d = r();
      if (d.halted) return; // its realm runs no more turns: nothing would take it off withWork
      d.wantImmediates();
      kick();
    },
    control(id, op, a0, a1, a2, a3) {
      const d = r();
      if (typeof id !== 'number' || typeof op !== 'string' || op.length > MAX_OP_LENGTH || ![a0, a1, a2, a3].every(isArg)) {
        throw new TypeError('malformed control operation');
      }
      if (d.halted) return false;
      // dom0's bucket (serveControlPort) counts them only as its thread takes them: a turn's loop
      // would queue its whole flood in dom0's memory first. No driver has a burst's worth in flight.
      if (++d.unanswered > CONTROL_BURST) {
        crashAlone(d, 'flooded its control plane');
        return false;
      }
      if (op === 'peer' || op === 'bindInterdomain') d.peerCalls.set(id, { op, domid: a0 });
      const args = [a0, a1, a2, a3];
      while (args.length && args[args.length - 1] === undefined) args.pop();
      d.port.postMessage({ id, op, args });
      return true;
    },
    decode(bytes, fatal) {
      return decodeOwn(bytes, fatal === true);
    },
    crc32(bytes, value) {
      if (typeof value !== 'number') throw new TypeError('crc32 needs bytes and a number');
      return crc32(ownBytes(bytes, 'crc32'), value);
    },
    random(into) {
      const own = ownBytes(into, 'random');
      if (own.byteLength > 65536) throw new TypeError('random needs at most 64 KiB of bytes');
      randomFillSync(own);
    },
    // Once per realm each: a realm is one domain's, which calls main() once, and parks once if
    // it is a shell, before its claim (until then it holds the bodies of the kernels prepared).
    mainCalled() {
      const d = r();
      tell('main', () => ({ type: 'main', domid: d.domid, ...(d.handed !== undefined && { marks: { booted: d.handed, handed: d.handed, named: d.handed, linked: wallMs() } }) }));
    },
    parked() {
      const d = r();
      if (d.bodies === undefined) return;
      tell('parked', () => ({ type: 'parked', domid: d.domid }));
    },
    threadId: () => tid,
    // A suspend record (abi/suspend.ts) is V8's structured-clone data, as in Pool-0. V8 runs
    // the realm's getters while it writes one: they run in its turn, as any of its code. Its
    // views go through RealmSerializer, not Node's JavaScript.
    serialize(value) {
      const d = r();
      const ser = new RealmSerializer();
      ser.writeHeader();
      ser.writeValue(value);
      const bytes = ser.releaseBuffer();
      // The realm's own Uint8Array, filled by this thread's set: no clone (makeCloner).
      const own = new d.I.Uint8Array(bytes.length);
      Reflect.apply(setBytes, own, [bytes]);
      return own;
    },
    deserialize(bytes) {
      const d = r();
      return d.clone(deserializeOwn(bytes));
    },
    wake(words, index) {
      wakes.wake(words, index);
    },
    connected(domid) {
      return typeof domid === 'number' && r().hypercalls.connected(domid);
    },
    evtchnSend(port) {
      const d = r();
      // Not a number: the realm's own checks refuse it, without this thread running its code.
      if (typeof port !== 'number' || d.halted) return SEND_NOT_HERE;
      return d.hypercalls.evtchnSend(port);
    },
    // blkfront's ring work (drivers/blk/front/ring-io.ts) in this thread's one copy. Numbers only,
    // and the realm's arrays read through this thread's accessors (realm-bytes.ts); anything else
    // is refused, and a ring outside the domain's memory is RING_BAD.
    blkPush(ringOff, nrEnts, port, staged, n, reqProdPvt, rspCons) {
      const d = r();
      if (typeof ringOff !== 'number' || typeof nrEnts !== 'number' || typeof port !== 'number' || typeof n !== 'number' ||
        typeof reqProdPvt !== 'number' || typeof rspCons !== 'number') throw new TypeError('blkPush needs numbers');
      const own = ownFloat64s(staged, 'blkPush');
      if (d.halted) return RING_BAD;
      return d.hypercalls.blkPush(ringOff, nrEnts, port, own, n, reqProdPvt, rspCons);
    },
    blkPoll(ringOff, nrEnts, rspCons, out) {
      const d = r();
      if (typeof ringOff !== 'number' || typeof nrEnts !== 'number' || typeof rspCons !== 'number') throw new TypeError('blkPoll needs numbers');
      const own = ownInt32s(out, 'blkPoll');
      if (d.halted) return RING_BAD;
      return d.hypercalls.blkPoll(ringOff, nrEnts, rspCons, own);
    },
    halt() {
      r().halt();
    },
  };
}

// ---------------- realms ----------------

/**
 * A realm with the library OS loaded and no domain yet: making one costs this thread a few
 * milliseconds of CPU (a context, then the library's module bodies), so spares are made while
 * the thread is idle and a create only binds one to its domain and boots it.
 */
interface Shell {
  readonly ctx: vm.Context;
  readonly I: Intrinsics;
  readonly realm: { boot(b: unknown, k: RealmKernel | null, identity: unknown): RealmTurns };
  bind(d: Resident): void;
  /** What making it grew the thread's heap by: its domain's first figure (heapshare.ts). */
  readonly bytes: number;
}
const SPARE_REALMS = 4;
const spares: Shell[] = [];

function makeShell(): Shell {
  shares.sample(heapReading());
  const before = usedHeapBytes();
  // No code from strings: eval and Function could build an import(), which Node answers with
  // an error of this thread's realm (kernels are built without import(), kernel.ts).
  // An ordinary global (DONT_CONTEXTIFY), not a contextified object of this thread: a contextified
  // global answers every name it lacks from its object, prototype chain included, so the realm's
  // `globalThis.constructor` was this thread's Object and its constructor this thread's Function,
  // which may compile strings (`process` in one line); and each of its global-name lookups went
  // through that interceptor into C++ (docs/PERFORMANCE.md, issue 18, tenth pass).
  // Node before 20.18 has no DONT_CONTEXTIFY, and createContext(undefined) would silently make
  // the contextified global again: refused, not run without the boundary.
  const ordinary = vm.constants?.DONT_CONTEXTIFY;
  if (typeof ordinary !== 'symbol') throw new Error(`shared cpupools need Node 20.18 or newer (vm.constants.DONT_CONTEXTIFY); this is ${process.version}`);
  const ctx = vm.createContext(ordinary, { microtaskMode: 'afterEvaluate', codeGeneration: { strings: false, wasm: true } });
  const I = vm.runInContext(INTRINSICS, ctx) as Intrinsics;
  let bound: Resident | undefined;
  const owner = (): Resident => {
    if (!bound) throw new TypeError('the realm has no domain yet');
    return bound;
  };
  const realm = (realmImage.runInContext(ctx) as (host: RealmHost) => Shell['realm'])(hostFor(owner));
  drainScript.runInContext(ctx);
  const bytes = usedHeapBytes() - before;
  shares.skip(heapReading());
  return { ctx, I, realm, bytes, bind: (d) => {
    bound = d;
  } };
}

let refilling = false;
/** Make spare realms one at a time, each when nothing else waits for the thread. */
function refill(): void {
  if (refilling || spares.length >= SPARE_REALMS) return;
  refilling = true;
  setImmediate(() => {
    refilling = false;
    if (scheduled || Atomics.load(doorbell, DB_PENDING) !== 0) return void setTimeout(refill, 1);
    try {
      spares.push(makeShell());
    } catch (e) {
      status({ type: 'log', line: `pCPU ${data.name}: could not make a spare realm: ${told(e)}` });
      return;
    }
    refill();
  });
}

function place(m: Extract<PcpuMessage, { type: 'place' }>): void {
  let d: Resident | undefined;
  let t0 = 0;
  try {
    // Read and compiled before the turn: a cold file system's wait is not the guest's time, and
    // compiling runs none of its code.
    const script = m.kernel === null ? null : kernelScript(m.kernel);
    t0 = performance.now();
    // The boot runs the kernel's top level: the watchdog watches it as a turn.
    Atomics.store(stats.words, PcpuStats.TURN_START, stats.now());
    Atomics.store(stats.words, PcpuStats.RUNNING, m.domid + 1);
    const shell = spares.shift() ?? makeShell();
    const { ctx, I } = shell;
    d = new Resident(m.domid, m.slot, ctx, I, m.control, m.buffers, m.heapMb);
    const self = d;
    shell.bind(d);
    shares.add(d, shell.bytes);
    // A resident before anything else can throw (its realm's boot, say; its kernel compiled
    // above): the catch's evict then releases its realm and its share, which a slot's next
    // domain would otherwise inherit.
    residents.set(m.domid, d);
    bySlot.set(m.slot, d);
    // Makes the module body's function: its top level runs at the boot's first await.
    const kernel = script === null ? null : (script.runInContext(ctx) as RealmKernel);
    if (kernel === null) {
      d.bodies = new Map();
      for (const url of recentKernels) prepareBody(d, url);
    }
    byPromiseProto.set(I.promiseProto, d);
    sched.set(d, m.weight, m.cap);
    d.port.on('message', (msg: { id?: number; ok?: boolean; value?: unknown; kind?: string; errno?: string; status?: number; message?: string; push?: unknown }) => {
      // A peer's buffers are adopted here, and the realm is told no more than the reply's other
      // fields (its Hypercalls asks this thread whether a peer is connected: host.connected).
      // Adopting makes the sends held for that peer (pcpu-hypercalls.ts), a halted domain's too:
      // they were made before it halted. Its realm runs no more, so it is told nothing. An evicted
      // resident (its domain destroyed) adopts nothing: its held sends go with it, as its realm does.
      if (residents.get(self.domid) !== self) return;
      if ('push' in msg) {
        if (isGrant(msg.push)) self.hypercalls.adopt(msg.push);
      } else if (typeof msg.id === 'number') {
        self.unanswered--;
        const call = self.peerCalls.get(msg.id);
        if (call !== undefined) self.peerCalls.delete(msg.id);
        const value = call !== undefined && msg.ok ? self.hypercalls.answered(call.op, msg.value) : msg.value;
        if (call?.op === 'peer' && !msg.ok && typeof call.domid === 'number') self.hypercalls.unheld(call.domid);
        if (self.halted) return;
        self.post(msg.ok
          ? { kind: 'reply', id: msg.id, ok: true, value }
          : { kind: 'reply', id: msg.id, ok: false, errKind: msg.kind ?? 'xen', code: msg.kind === 'grant' ? msg.status! : msg.errno!, message: msg.message ?? '' });
        kick(); // a push leaves the realm nothing to run
      }
    });
    d.runstate = RUNSTATE_running;
    // A shell's is made at its claim: its restore writes start_info after it is taken (builder.ts).
    if (kernel !== null) d.makeCloner();
    // Not the pCPU's doorbell: a realm that held it could clear its pool mates' bits, which an
    // event rings only on the 0 -> 1 edge of their upcall byte, and stop them for good. Its own
    // upcalls raised in its turns are seen by their byte (runTurn).
    const { doorbell: _, ...own } = m.buffers;
    const turns = shell.realm.boot(toRealm(own, I, true), kernel, kernel === null ? null : toRealm(m.identity, I));
    d.turns = { timer: turns.timer, reply: turns.reply, immediates: turns.immediates, upcall: turns.upcall, uncaught: turns.uncaught,
      expecting: turns.expecting, claim: turns.claim, unpaused: turns.unpaused };
    status({ type: 'placed', domid: m.domid });
    d.runOrHold(d.turns.unpaused);
    drainScript.runInContext(ctx);
    kick();
  } catch (e) {
    if (d) evict(m.domid);
    else m.control.close(); // no resident took it: nothing else closes it
    status({ type: 'failed', domid: m.domid, message: `its realm did not start${logText(messageOf(e), 400)}` });
  } finally {
    if (d) {
      rejectionsInTurn(d); // a failed start's too, while the watchdog still watches its boot
      ranFor(d, performance.now() - t0);
      d.settle(); // its first turn is rung
      raisedOutsideTurn(d);
    }
    Atomics.store(stats.words, PcpuStats.RUNNING, 0);
    wakes.end();
    refill();
  }
}

/**
 * A parked shell becomes the guest: its kernel (compiled once per image by this thread) runs in
 * its realm, in a turn the watchdog watches, as a placed domain's does.
 */
function claim(m: Extract<PcpuMessage, { type: 'claim' }>): void {
  const d = residents.get(m.domid);
  if (!d || d.halted) return;
  d.handed = wallMs();
  // Compiled before its turn, as a placed domain's kernel is (place). A body is the realm's
  // (made in it while parked), a script this thread's: told apart by where they came from.
  const body = d.bodies?.get(m.kernel);
  const compiled = body === undefined ? compiledKernel(m.kernel) : undefined;
  const t0 = performance.now();
  Atomics.store(stats.words, PcpuStats.TURN_START, stats.now());
  Atomics.store(stats.words, PcpuStats.RUNNING, m.domid + 1);
  d.runstate = RUNSTATE_running;
  try {
    sched.set(d, m.weight, m.cap);
    // A kernel that does not compile crashes its domain, not the pool: only text crosses into the realm.
    if (typeof compiled === 'string') return void d.turns.uncaught(`its kernel did not compile: ${compiled}`);
    const kernel = body ?? (compiled!.runInContext(d.ctx) as RealmKernel);
    d.bodies = undefined;
    d.makeCloner();
    d.runOrHold(() => d.turns.claim(kernel, m.identity.name, m.identity.uuid));
    drainScript.runInContext(d.ctx);
    kick();
  } catch (e) {
    crashAlone(d, `its claim threw: ${told(e)}`); // as a turn's throw (turn)
  } finally {
    rejectionsInTurn(d);
    ranFor(d, performance.now() - t0);
    d.settle();
    raisedOutsideTurn(d);
    Atomics.store(stats.words, PcpuStats.RUNNING, 0);
    wakes.end();
  }
}

/** Compile a kernel image before a claim needs it (a syntax error shows at the claim instead). */
function prepare(url: string): void {
  // Its read and compile run outside any turn: a prepare is the loop coming round, as a beat is (the liveness watchdog).
  Atomics.add(stats.words, PcpuStats.BEAT, 1);
  const before = recentKernels;
  recentKernels = [url, ...before.filter((u) => u !== url)].slice(0, RECENT_KERNELS);
  // A parked shell keeps the bodies of the recent kernels only, not of every kernel ever linked.
  const gone = before.filter((u) => !recentKernels.includes(u));
  const compiled = typeof compiledKernel(url) !== 'string'; // an error is reported to the domain that claims it
  for (const d of residents.values()) {
    if (!d.bodies) continue;
    for (const u of gone) d.bodies.delete(u);
    if (compiled) prepareBody(d, url);
  }
}

/** Kernels prepared last: a shell parked later makes their bodies too. */
const RECENT_KERNELS = 4;
let recentKernels: string[] = [];

/** Make a kernel's module body in a parked shell's realm (a syntax error shows at the claim instead). */
function prepareBody(d: Resident, url: string): void {
  try {
    d.bodies!.set(url, kernelScript(url).runInContext(d.ctx) as RealmKernel);
  } catch {
    /* reported to the domain that claims it */
  }
}

/** The domain is destroyed: its timers are cleared and its realm (microtasks and all) is never run again. */
function evict(domid: number): void {
  const d = residents.get(domid);
  if (d) {
    d.clear();
    residents.delete(domid);
    bySlot.delete(d.slot);
    shares.remove(d);
    byPromiseProto.delete(d.I.promiseProto);
    sched.delete(d);
  }
  status({ type: 'evicted', domid });
}

// ---------------- each realm's share of the heap (heapshare.ts) ----------------

/**
 * What outlives the young generation on this thread: its old-generation spaces. Young garbage
 * is left out (a busy domain makes megabytes of it between scavenges), and so is ArrayBuffer
 * memory, which a Pool-0 thread's heap cap does not bound either.
 */
/**
 * The thread's used heap, as getHeapStatistics().used_heap_size, from the spaces' figures:
 * getHeapStatistics also counts the thread's native contexts by walking their list, which with
 * a realm each costs O(domains) per call (216 µs at 1,000 realms) and made every create slower
 * than the last (docs/PERFORMANCE.md, Density).
 */
function usedHeapBytes(): number {
  let n = 0;
  for (const s of getHeapSpaceStatistics()) n += s.space_used_size;
  return n;
}

function heapReading(): number {
  let n = 0;
  for (const s of getHeapSpaceStatistics()) if (s.space_name !== 'new_space' && s.space_name !== 'new_large_object_space') n += s.space_used_size;
  return n;
}
const shares = new HeapShares<Resident>(heapReading());

/** Charge the heap's growth since the last reading (heapshare.ts) and publish the figures that changed. */
function sampleShares(): void {
  for (const d of shares.sample(heapReading())) stats.heapBytes[d.slot] = shares.bytes(d)!;
}

/**
 * Its turn (or boot, or claim) took `ms`. One crashed in it was charged up to its crash
 * (crashAlone): what the turn grew since is the thread's, charged to nobody.
 */
function ranFor(d: Resident, ms: number): void {
  if (shares.bytes(d) === undefined) sampleShares();
  else shares.ran(d, ms);
}

/** The domain's realm runs no more, and dom0 crashes the domain (`why` goes to dom0's log). */
function crashAlone(d: Resident, why: string): void {
  d.clear();
  // The window's growth up to now is charged first, to it too if this is its turn (up to its
  // crash): what its turn grows after is the thread's (ranFor), not diluting its mates' shares.
  const running = stats.current();
  if (running?.domid === d.domid) shares.ran(d, running.ms);
  sampleShares();
  shares.remove(d);
  status({ type: 'crashed', domid: d.domid, why });
}

/** The domain's realm outgrew its memory=. */
function overMemory(d: Resident, bytes: number): void {
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  crashAlone(d, `its realm held ${mib(bytes)} MiB of JS heap, over its memory= share of ${mib(d.maxHeapBytes)} MiB`);
}

let heapSampledAt = 0;
/**
 * Set by V8's full (mark-compact) collections: only after one does a figure over its bound
 * crash its domain, because until then the old generation holds promoted garbage too, charged
 * to whoever ran (a busy guest's figure runs ahead of what it keeps).
 */
let collected = false;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) collected = true;
}).observe({ entryTypes: ['gc'] });

/** After a pass: charge the heap's growth since the last reading to the domains that ran. */
function sampleHeap(now: number): void {
  if (now - heapSampledAt < HEAP_SAMPLE_MS) return;
  heapSampledAt = now;
  sampleShares();
  if (!collected) return;
  collected = false;
  for (const d of residents.values()) {
    const bytes = shares.bytes(d);
    if (bytes !== undefined && bytes > d.maxHeapBytes && !d.halted) overMemory(d, bytes);
  }
}

// ---------------- the scheduler's loop ----------------

let scheduled = false;
let waiting = false;
let nextPeriod: NodeJS.Timeout | undefined;
const rung: number[] = [];
const ringing = new Set<Resident>();
/** Residents whose drivers await events soon (requests in flight): the thread polls for them. */
const expecting = new Set<Resident>();
/**
 * Halt-polling on the doorbell (upcall.ts has it for a vCPU thread): a wake from
 * Atomics.waitAsync costs the thread tens of microseconds while a backend's answer to requests in
 * flight often comes within a few. The window grows while wakes come soon after the thread went
 * idle and shrinks to nothing while they do not; only while some resident expects events.
 */
let pollUs = 0;
let sleptAt = 0;

function kick(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(pump);
}

/** How many throws of Node's rejection processing one turn's end clears before the thread gives up. */
const MAX_TICK_THROWS = 16;

class RejectionsThrew extends Error {
  override name = 'RejectionsThrew';
}

/**
 * Node's processing of unhandled rejections (and of this thread's own ticks), run now, at the end
 * of the turn that made them, not after the pass: it reads each such promise's async ids through
 * its prototype chain, where a proxy's trap is guest code that the watchdog sees only in a turn.
 * A throw from there (a trap's) is the turn's domain's. (`_tickCallback` is Node's runNextTicks,
 * which Node runs between two setImmediate callbacks the same way.)
 *
 * Such a throw can leave Node's async context stack one frame deep it never pops (an async id
 * whose valueOf throws as Node stores it, after the push), and Node aborts the whole process
 * when this callback's scope closes over it. Node's path for an uncaught exception clears that
 * stack: a microtask that throws this thread's RejectionsThrew takes it (Node's queueMicrotask
 * hands its throw to that path at once), run by the next call, which goes on with what is left.
 * Each throw is guest code run in the turn; past MAX_TICK_THROWS the thread ends instead (the
 * pool's recovery), as the stack is then left as the last throw made it.
 */
function rejectionsInTurn(d: Resident): void {
  for (let i = 0; i <= MAX_TICK_THROWS; i++) {
    try {
      processTicks();
      return;
    } catch (e) {
      // Whatever threw is the turn's domain's: its trap's error, or Node's own refusal of an id
      // its trap gave (a TypeError of this thread's, which must not cross: text only).
      if (ownError(e)) {
        if (!d.halted) crashAlone(d, `its unhandled rejection broke Node's processing of rejections: ${told(e)}`);
      } else if (!d.halted) {
        d.post({ kind: 'uncaught', reason: e });
        kick();
      }
      try {
        queueMicrotask(() => {
          throw new RejectionsThrew(`Node's processing of rejections threw in d${d.domid}'s turn (its async context cleared by this throw)`);
        });
      } catch {
        // Node refuses to queue from the context the guest's ids left (ERR_INVALID_ASYNC_ID for a
        // NaN one): nothing this thread runs next can be trusted to run, so it ends (the pool's recovery).
        status({ type: 'log', line: `pCPU ${data.name}: d${d.domid}'s unhandled rejection left Node's async context unusable: the thread ends` });
        process.exit(1);
      }
    }
  }
  status({ type: 'log', line: `pCPU ${data.name}: Node's processing of rejections threw ${MAX_TICK_THROWS + 1} times in d${d.domid}'s turn: the thread ends` });
  process.exit(1);
}

function turn(d: Resident): void {
  Atomics.store(stats.words, PcpuStats.TURN_START, stats.now());
  Atomics.store(stats.words, PcpuStats.RUNNING, d.domid + 1);
  d.runstate = RUNSTATE_running;
  const t0 = performance.now();
  try {
    runTurn(d);
  } catch (e) {
    // Past the realm's guards (its library OS's, or this thread's code in the turn): left to the
    // thread, the turn would stay marked running and the watchdog reset the pCPU, pool mates and all.
    crashAlone(d, `its turn threw: ${told(e)}`);
  } finally {
    const ms = performance.now() - t0;
    d.lastTurnMs = ms;
    sched.charge(d, ms);
    ranFor(d, ms);
    stats.cpuMs[d.slot] = stats.cpuMs[d.slot]! + ms;
    d.settle();
    Atomics.store(stats.words, PcpuStats.RUNNING, 0);
    Atomics.add(stats.words, PcpuStats.TURNS, 1);
  }
}

/** What a turn runs: the work that came for the domain, its upcalls, then its microtasks. */
function runTurn(d: Resident): void {
  const clear = !upcallPending(d);
  const inbox = d.inbox;
  d.inbox = [];
  withWork.delete(d);
  const t = d.turns;
  for (const e of inbox) {
    if (d.halted) break;
    switch (e.kind) {
      case 'timer':
        // Armed again since it fired (its realm refreshed it): it fires at its new time, as Node's refresh() reschedules.
        if (d.timers.get(e.id)) break;
        t.timer(e.id);
        // Its realm re-armed it (an interval) or let it go (a one-shot); if it did neither, its place is freed here.
        if (d.timers.get(e.id) === null) clearHostTimer(d, e.id);
        break;
      case 'reply': t.reply(e.id, e.ok, toRealm(e.value, d.I), e.errKind, e.code, e.message); break;
      case 'uncaught': t.uncaught(e.reason); break;
    }
  }
  if (d.immediates && !d.halted) {
    d.immediates = false;
    t.immediates();
  }
  // Its first turn since it was placed or claimed paused: its kernel's code runs in the drain below.
  const held = d.held;
  d.held = null;
  if (held && !d.halted) held();
  const dispatched = !d.halted && t.upcall();
  drainScript.runInContext(d.ctx);
  rejectionsInTurn(d);
  if (!d.halted && t.expecting()) expecting.add(d);
  else expecting.delete(d);
  // An upcall its library OS raised for itself (FIFO events left over, an unmask's, a deferred
  // event linked): it holds no doorbell to ring. Only a byte raised in the turn, or again after
  // its loop took it: one its loop never takes (stopped, in a shutdown) would run it for ever.
  // After `expecting`, which can run its code (a getter it replaced) that raises one too.
  if (!d.halted && (clear || dispatched) && upcallPending(d)) ringing.add(d);
}

/** The domain's evtchn_upcall_pending (the low byte of its word, as the upcall loop reads it). */
function upcallPending(d: Resident): boolean {
  return (Atomics.load(d.view.mem32, UPCALL_WORD) & 0xff) !== 0;
}

/** After its boot or its claim: an upcall its realm raised for itself there (runTurn) runs in a turn. */
function raisedOutsideTurn(d: Resident): void {
  if (d.halted || !upcallPending(d)) return;
  ringing.add(d);
  kick();
}

/**
 * The beat's look at every resident's upcall byte: one whose bit was cleared before this thread
 * took it (a Pool-0 peer holds the doorbell too) would otherwise never be rung again, its byte
 * left set, which the next event's edge needs clear. So a set byte with no turn coming is rung.
 * Returns how many were.
 */
function sweepUpcalls(): number {
  let found = 0;
  for (const d of residents.values()) {
    // The byte first: one load per resident (paused is another, of the pCPU's stats).
    if (d.halted || !upcallPending(d) || d.busy || ringing.has(d) || d.paused) continue;
    ringing.add(d);
    found++;
  }
  if (found) kick();
  return found;
}

/**
 * The thread was rung since its last scan (woken asleep or halt-polling, or the word set when the
 * next pass begins): the bit it was rung for was set before the word was, so a scan that finds
 * none means a holder of the doorbell took it first (a Pool-0 peer can, doorbell.ts), and the
 * domain's upcall byte is left set. (Or a pass kicked meanwhile by a timer or a message, or the
 * last scan itself, took it: that look is for nothing, and bounded.)
 */
let rangSinceScan = false;
/** When a theft last had every resident's byte looked at, and the look to come: at most one per STOLEN_SWEEP_MS. */
let stolenSweptAt = -Infinity;
let stolenSweep: NodeJS.Timeout | undefined;
const STOLEN_SWEEP_MS = 1;

/** A theft's victim runs within a millisecond or two, not at the next beat (up to 100 ms a theft). */
function sweepStolen(): void {
  const wait = stolenSweptAt + STOLEN_SWEEP_MS - performance.now();
  if (wait <= 0) {
    Atomics.add(stats.words, PcpuStats.STOLEN, sweepUpcalls());
    // After the look: the bound is on the thread's time in looks, however long one takes.
    stolenSweptAt = performance.now();
  } else {
    stolenSweep ??= setTimeout(() => {
      stolenSweep = undefined;
      sweepStolen();
    }, wait);
  }
}

function pump(): void {
  scheduled = false;
  // Rung during the last pass or since, the thread awake (a busy pCPU never sleeps): a bit taken
  // meanwhile is looked for at once too, not at the beat.
  if (Atomics.load(doorbell, DB_PENDING) !== 0) rangSinceScan = true;
  takeRung(doorbell, rung);
  if (rangSinceScan && rung.length === 0) sweepStolen();
  rangSinceScan = false;
  for (const slot of rung) {
    const d = bySlot.get(slot);
    if (d) ringing.add(d);
  }
  rung.length = 0;
  const runnable: Resident[] = [];
  for (const d of ringing) if (!d.halted && !d.paused) runnable.push(d);
  for (const d of withWork) {
    if (!d.busy) withWork.delete(d); // its work ran in a turn after it was queued
    else if (!ringing.has(d) && !d.halted && !d.paused) runnable.push(d);
  }
  for (const d of runnable) d.runstate = RUNSTATE_runnable;
  const now = performance.now();
  const order = sched.pick(runnable, now);
  try {
    for (const d of order) {
      ringing.delete(d);
      wakes.beforeTurn(d.lastTurnMs); // no kept wake waits through a turn that may be long
      turn(d);
      wakes.afterTurn();
    }
  } finally {
    wakes.end(); // no kept wake outlives its pass
  }
  if (order.length) sampleHeap(now);
  // Halted and gone domains need no turn; paused ones are rung again on unpause.
  for (const d of ringing) if (d.halted || !residents.has(d.domid) || d.paused) ringing.delete(d);
  if (order.length < runnable.length && !nextPeriod) {
    // Capped, or OVER behind UNDER ones: look again at the next period at the latest.
    nextPeriod = setTimeout(() => {
      nextPeriod = undefined;
      kick();
    }, Math.max(1, sched.untilNextPeriod(now)));
  }
  // Work-conserving, as Xen's credit: domains left behind (OVER ones behind UNDER ones) run in the
  // next pass once no UNDER one is runnable; only when every runnable domain is capped does the
  // pCPU wait for the next period.
  if (order.length > 0 && (ringing.size > 0 || hasRunnableWork())) kick();
  else if (Atomics.load(doorbell, DB_PENDING) !== 0) kick();
  else if (poll()) {
    rangSinceScan = true;
    kick();
  } else sleep();
}

/** Spin on the doorbell for the poll window; true if it rang. */
function poll(): boolean {
  if (pollUs === 0 || expecting.size === 0) return false;
  const end = performance.now() + pollUs / 1000;
  do {
    if (Atomics.load(doorbell, DB_PENDING) !== 0) return true;
  } while (performance.now() < end);
  return false;
}

/** After a sleep: grow the window if a longer poll would have saved it, shrink it otherwise. */
function adapt(sleptUs: number): void {
  if (sleptUs <= HALT_POLL_MAX_US) pollUs = Math.min(HALT_POLL_MAX_US, pollUs === 0 ? HALT_POLL_START_US : pollUs * 2);
  else pollUs = pollUs <= HALT_POLL_START_US ? 0 : pollUs / 2;
}

function hasRunnableWork(): boolean {
  for (const d of withWork) if (d.busy && !d.halted && !d.paused) return true;
  return false;
}

function sleep(): void {
  if (waiting) return;
  const w = Atomics.waitAsync(doorbell, DB_PENDING, 0);
  if (!w.async) {
    rangSinceScan = true; // rung since the pass's last look
    return kick();
  }
  waiting = true;
  const polled = expecting.size > 0;
  sleptAt = performance.now();
  void w.value.then(() => {
    waiting = false;
    rangSinceScan = true;
    if (polled) adapt((performance.now() - sleptAt) * 1000);
    kick();
  });
}

// ---------------- errors that reach the thread ----------------

/** How far up a prototype chain the handlers below look (a guest can make one as long as it likes). */
const MAX_CHAIN = 32;

/**
 * What `hit` finds first on `v`'s prototype chain, walked without running code of a realm's: a
 * proxy (whose traps would run) ends the walk, as does a chain longer than MAX_CHAIN.
 */
function onChain<T>(v: object, hit: (o: object) => T | undefined): T | undefined {
  let o: object | null = v;
  for (let i = 0; i < MAX_CHAIN && o !== null && !types.isProxy(o); i++) {
    const found = hit(o);
    if (found !== undefined) return found;
    o = Object.getPrototypeOf(o) as object | null;
  }
  return undefined;
}

/**
 * `s` as one line of at most `max` code units for dom0's log: control characters (a guest's
 * newline would forge a line of its own) become spaces, and a cut never splits a surrogate pair.
 */
function logText(s: string, max: number): string {
  const end = s.length > max && /[\ud800-\udbff]/.test(s[max - 1]!) ? max - 1 : max;
  // C0 and C1 controls, line and paragraph separators, bidi overrides: none may reshape dom0's log.
  return s.slice(0, end).replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, ' ');
}

/**
 * A thrown or rejected value described without running any of its code: one of a realm's may
 * have getters, a toString that never returns or throws, and reading its stack would format it
 * with this thread's call sites. So only the name and message its chain holds as plain strings.
 */
function describe(v: unknown): string {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return logText(String(v), 200);
  const text = (key: string) => onChain(v, (o) => {
    const p = Object.getOwnPropertyDescriptor(o, key);
    return p && (typeof p.value === 'string' ? logText(p.value, 200) : '');
  }) || undefined;
  const name = text('name') ?? (types.isNativeError(v) ? 'Error' : typeof v);
  const message = text('message');
  return message === undefined ? name : `${name}: ${message}`;
}

/**
 * One of this thread's own errors, whose stack it may read: its chain reaches this thread's
 * Error.prototype, which no realm can without an object of this thread's (so a DOMException a
 * clone threw is one, though not a native error).
 */
function ownError(v: unknown): v is Error {
  return typeof v === 'object' && v !== null && onChain(v, (o) => o === Error.prototype || undefined) === true;
}

/** An error as dom0's log shows it: this thread's own with its stack (about 1 kB of it), a realm's by describe(). */
function told(e: unknown): string {
  return ownError(e) && typeof e.stack === 'string' ? logText(e.stack, 1024) : describe(e);
}

/** Rejections outside any domain are logged at most once a second; the rest are counted into the next line. */
let outsideLogged = -Infinity;
let outsideFolded = 0;

// An error that escaped a realm's own guards (a rejected promise nobody handled) is the
// domain's whose realm made the promise: its chain leads to that realm's Promise.prototype (a
// subclass's too). Anything else is this thread's, or a realm's that cut its promise's chain,
// and is logged. Neither handler runs a realm's code: outside a turn, no watchdog would see it
// spin, and what it threw would end here again.
process.on('unhandledRejection', (reason, promise) => {
  const d = onChain(promise, (o) => byPromiseProto.get(o));
  if (d && !d.halted) {
    d.post({ kind: 'uncaught', reason });
    kick();
    return;
  }
  if (d) return;
  // A guest that cuts its promises' chains could otherwise fill dom0's log as fast as it rejects.
  const now = performance.now();
  if (now - outsideLogged < 1000) return void outsideFolded++;
  const folded = outsideFolded === 0 ? '' : ` (${outsideFolded} more since the last such line, not shown)`;
  status({ type: 'log', line: `pCPU ${data.name}: unhandled rejection outside any domain: ${told(reason)}${folded}` });
  outsideLogged = now;
  outsideFolded = 0;
});
process.on('uncaughtException', (e) => status({ type: 'log', line: `pCPU ${data.name}: ${told(e)}` }));

parent.on('message', (m: PcpuMessage) => {
  if (m.type === 'place') place(m);
  else if (m.type === 'evict') evict(m.domid);
  else if (m.type === 'claim') claim(m);
  else if (m.type === 'prepare') prepare(m.kernel);
  else if (m.type === 'sched') {
    const d = residents.get(m.domid);
    if (d) sched.set(d, m.weight, m.cap);
  }
});
try {
  setPriority(GUEST_NICE); // as a guest's own vCPU thread: dom0's backends come first
} catch {
  /* the thread runs at the host process's priority */
}
// The liveness watchdog's beat (cpupool.ts #check): it stops while anything holds the thread
// outside a turn, which the turn watchdog does not watch.
setInterval(() => {
  Atomics.add(stats.words, PcpuStats.BEAT, 1);
  Atomics.add(stats.words, PcpuStats.SWEPT, sweepUpcalls());
}, PCPU_BEAT_MS).unref();
sleep();
refill();
status({ type: 'ready', tid });
