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
// its code ran. So nothing it can reach leads to this thread's realm or to another domain's.
import { randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { crc32 } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { PcpuData, PcpuMessage, PcpuStatus } from '../hypervisor/cpupool.js';
import { CreditScheduler } from '../hypervisor/credit.js';
import { PcpuStats, takeRung, DB_PENDING } from '../hypervisor/doorbell.js';
import { CB_PAUSE } from '../hypervisor/layout.js';
import { DomainView, type DomainBuffers } from '../hypervisor/memory.js';
import { GUEST_NICE } from '../hypervisor/sched.js';
import { currentThreadId } from '../hypervisor/thread.js';
import { wrapKernelScript } from './image.js';
import type { RealmHost } from './realm/host.js';
import type { RealmKernel, RealmTurns } from './realm.js';

const data = workerData as PcpuData;
const parent = parentPort!;
const status = (m: PcpuStatus) => parent.postMessage(m);
const doorbell = new Int32Array(data.doorbell);
const stats = new PcpuStats(data.stats, data.epoch);

/** Timers one domain may have armed at once: each costs this thread a host timer. */
const MAX_TIMERS = 65536;
const MAX_OP_LENGTH = 32;
const MAX_ARG_LENGTH = 64;

/** The realm's intrinsics this thread builds the realm's objects with (read before its code runs). */
interface Intrinsics {
  readonly create: (proto: object) => object;
  readonly objectProto: object;
  readonly arrayOf: (...items: unknown[]) => unknown[];
  readonly sabProto: object;
  readonly promiseProto: object;
}
const INTRINSICS = `({ create: Object.create, objectProto: Object.prototype, arrayOf: Array.of,
  sabProto: SharedArrayBuffer.prototype, promiseProto: Promise.prototype })`;

const realmImage = new vm.Script(readFileSync(fileURLToPath(data.realmImage), 'utf8'), { filename: data.realmImage });
const drainScript = new vm.Script('undefined', { filename: 'xenode:turn' });
const kernels = new Map<string, vm.Script>();

function kernelScript(url: string): vm.Script {
  let s = kernels.get(url);
  if (!s) {
    const code = readFileSync(fileURLToPath(url), 'utf8');
    s = new vm.Script(wrapKernelScript(code), { filename: url });
    kernels.set(url, s);
  }
  return s;
}

/** A host value made into the realm's own: plain data and SharedArrayBuffers only. */
function toRealm(v: unknown, I: Intrinsics): unknown {
  if (v === null || typeof v !== 'object') return typeof v === 'function' ? undefined : v;
  if (v instanceof SharedArrayBuffer) {
    const own = structuredClone(v); // the same memory, a new object for the realm to hold
    Object.setPrototypeOf(own, I.sabProto);
    return own;
  }
  if (Array.isArray(v)) return I.arrayOf(...v.map((x) => toRealm(x, I)));
  const o = I.create(I.objectProto);
  for (const k of Object.keys(v)) {
    Reflect.defineProperty(o, k, { value: toRealm((v as Record<string, unknown>)[k], I), writable: true, enumerable: true, configurable: true });
  }
  return o;
}

type Inbox =
  | { kind: 'timer'; id: number }
  | { kind: 'reply'; id: number; ok: boolean; value?: unknown; errKind?: string; code?: number | string; message?: string }
  | { kind: 'push'; grant: unknown }
  | { kind: 'uncaught'; reason: unknown };

class Resident {
  readonly view: DomainView;
  inbox: Inbox[] = [];
  immediates = false;
  halted = false;
  turns!: RealmTurns;
  readonly timers = new Map<number, NodeJS.Timeout>();

  constructor(
    readonly domid: number,
    readonly slot: number,
    readonly ctx: vm.Context,
    readonly I: Intrinsics,
    readonly port: MessagePort,
    buffers: DomainBuffers,
  ) {
    this.view = new DomainView(buffers);
  }

  /** Could run a turn now (the doorbell says nothing of host-side work). */
  get busy(): boolean {
    return this.inbox.length > 0 || this.immediates;
  }

  get paused(): boolean {
    return Atomics.load(this.view.ctl, CB_PAUSE) > 0;
  }

  clear(): void {
    this.halted = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.inbox = [];
    this.port.close();
  }
}

const residents = new Map<number, Resident>();
const bySlot = new Map<number, Resident>();
const byPromiseProto = new Map<object, Resident>();
const sched = new CreditScheduler<Resident>();

// ---------------- the host functions a realm holds (realm/host.ts) ----------------

const isArg = (a: unknown) => a === undefined || typeof a === 'number' || (typeof a === 'string' && a.length <= MAX_ARG_LENGTH);
const decoders = { lax: new TextDecoder(), fatal: new TextDecoder('utf-8', { fatal: true }) };

function hostFor(r: () => Resident): RealmHost {
  return {
    now: () => performance.now(),
    hrtime: () => process.hrtime.bigint(),
    timerSet(id, ms) {
      const d = r();
      if (typeof id !== 'number' || typeof ms !== 'number' || d.halted) throw new TypeError('bad timer');
      const old = d.timers.get(id);
      if (old) clearTimeout(old);
      else if (d.timers.size >= MAX_TIMERS) throw new RangeError('too many timers');
      d.timers.set(id, setTimeout(() => {
        d.timers.delete(id);
        d.inbox.push({ kind: 'timer', id });
        kick();
      }, Math.max(1, Math.min(ms, 2 ** 31 - 1))));
    },
    timerClear(id) {
      const d = r();
      const t = d.timers.get(id);
      if (t) clearTimeout(t);
      d.timers.delete(id);
    },
    immediate() {
      r().immediates = true;
      kick();
    },
    control(id, op, a0, a1, a2, a3) {
      const d = r();
      if (typeof id !== 'number' || typeof op !== 'string' || op.length > MAX_OP_LENGTH || ![a0, a1, a2, a3].every(isArg)) {
        throw new TypeError('malformed control operation');
      }
      if (d.halted) return;
      const args = [a0, a1, a2, a3];
      while (args.length && args[args.length - 1] === undefined) args.pop();
      d.port.postMessage({ id, op, args });
    },
    decode(bytes, fatal) {
      if (!ArrayBuffer.isView(bytes)) throw new TypeError('decode needs bytes');
      return (fatal === true ? decoders.fatal : decoders.lax).decode(bytes);
    },
    crc32(bytes, value) {
      if (!ArrayBuffer.isView(bytes) || typeof value !== 'number') throw new TypeError('crc32 needs bytes and a number');
      return crc32(bytes, value);
    },
    random(into) {
      if (!ArrayBuffer.isView(into) || into.byteLength > 65536) throw new TypeError('random needs at most 64 KiB of bytes');
      randomFillSync(into);
    },
    mainCalled() {
      status({ type: 'main', domid: r().domid });
    },
    halt() {
      const d = r();
      d.halted = true;
      for (const t of d.timers.values()) clearTimeout(t);
      d.timers.clear();
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
  readonly realm: { boot(b: unknown, k: RealmKernel, identity: unknown): RealmTurns };
  bind(d: Resident): void;
}
const SPARE_REALMS = 4;
const spares: Shell[] = [];

function makeShell(): Shell {
  // No code from strings: eval and Function could build an import(), which Node answers with
  // an error of this thread's realm (kernels are built without import(), kernel.ts).
  const ctx = vm.createContext({}, { microtaskMode: 'afterEvaluate', codeGeneration: { strings: false, wasm: true } });
  const I = vm.runInContext(INTRINSICS, ctx) as Intrinsics;
  let bound: Resident | undefined;
  const owner = (): Resident => {
    if (!bound) throw new TypeError('the realm has no domain yet');
    return bound;
  };
  const realm = (realmImage.runInContext(ctx) as (host: RealmHost) => Shell['realm'])(hostFor(owner));
  drainScript.runInContext(ctx);
  return { ctx, I, realm, bind: (d) => (bound = d) };
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
      status({ type: 'log', line: `pCPU ${data.name}: could not make a spare realm: ${(e as Error)?.message ?? String(e)}` });
      return;
    }
    refill();
  });
}

function place(m: Extract<PcpuMessage, { type: 'place' }>): void {
  let d: Resident | undefined;
  // The boot runs the kernel's top level: the watchdog watches it as a turn.
  Atomics.store(stats.words, PcpuStats.TURN_START, stats.now());
  Atomics.store(stats.words, PcpuStats.RUNNING, m.domid + 1);
  try {
    const shell = spares.shift() ?? makeShell();
    const { ctx, I } = shell;
    d = new Resident(m.domid, m.slot, ctx, I, m.control, m.buffers);
    const self = d;
    shell.bind(d);
    const kernel = kernelScript(m.kernel).runInContext(ctx) as RealmKernel;
    residents.set(m.domid, d);
    bySlot.set(m.slot, d);
    byPromiseProto.set(I.promiseProto, d);
    sched.set(d, m.weight, m.cap);
    d.port.on('message', (msg: { id?: number; ok?: boolean; value?: unknown; kind?: string; errno?: string; status?: number; message?: string; push?: unknown }) => {
      if (self.halted) return;
      if ('push' in msg) self.inbox.push({ kind: 'push', grant: msg.push });
      else if (typeof msg.id === 'number') {
        self.inbox.push(msg.ok
          ? { kind: 'reply', id: msg.id, ok: true, value: msg.value }
          : { kind: 'reply', id: msg.id, ok: false, errKind: msg.kind ?? 'xen', code: msg.kind === 'grant' ? msg.status! : msg.errno!, message: msg.message ?? '' });
      }
      kick();
    });
    const turns = shell.realm.boot(toRealm(m.buffers, I), kernel, toRealm(m.identity, I));
    d.turns = { timer: turns.timer, reply: turns.reply, push: turns.push, immediates: turns.immediates, upcall: turns.upcall, uncaught: turns.uncaught };
    status({ type: 'placed', domid: m.domid });
    drainScript.runInContext(ctx);
    kick();
  } catch (e) {
    if (d) evict(m.domid);
    status({ type: 'failed', domid: m.domid, message: `its realm did not start: ${(e as Error)?.message ?? String(e)}` });
  } finally {
    Atomics.store(stats.words, PcpuStats.RUNNING, 0);
    refill();
  }
}

/** The domain is destroyed: its timers are cleared and its realm (microtasks and all) is never run again. */
function evict(domid: number): void {
  const d = residents.get(domid);
  if (d) {
    d.clear();
    residents.delete(domid);
    bySlot.delete(d.slot);
    byPromiseProto.delete(d.I.promiseProto);
    sched.delete(d);
  }
  status({ type: 'evicted', domid });
}

// ---------------- the scheduler's loop ----------------

let scheduled = false;
let waiting = false;
let nextPeriod: NodeJS.Timeout | undefined;
const rung: number[] = [];
const ringing = new Set<Resident>();

function kick(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(pump);
}

function turn(d: Resident): void {
  Atomics.store(stats.words, PcpuStats.TURN_START, stats.now());
  Atomics.store(stats.words, PcpuStats.RUNNING, d.domid + 1);
  const t0 = performance.now();
  const inbox = d.inbox;
  d.inbox = [];
  const t = d.turns;
  for (const e of inbox) {
    if (d.halted) break;
    switch (e.kind) {
      case 'timer': t.timer(e.id); break;
      case 'reply': t.reply(e.id, e.ok, toRealm(e.value, d.I), e.errKind, e.code, e.message); break;
      case 'push': t.push(toRealm(e.grant, d.I) as never); break;
      case 'uncaught': t.uncaught(e.reason); break;
    }
  }
  if (d.immediates && !d.halted) {
    d.immediates = false;
    t.immediates();
  }
  if (!d.halted) t.upcall();
  drainScript.runInContext(d.ctx);
  const ms = performance.now() - t0;
  sched.charge(d, ms);
  stats.cpuMs[d.slot] = stats.cpuMs[d.slot]! + ms;
  Atomics.store(stats.words, PcpuStats.RUNNING, 0);
  Atomics.add(stats.words, PcpuStats.TURNS, 1);
}

function pump(): void {
  scheduled = false;
  for (const slot of takeRung(doorbell, rung)) {
    const d = bySlot.get(slot);
    if (d) ringing.add(d);
  }
  rung.length = 0;
  const runnable: Resident[] = [];
  for (const d of ringing) if (!d.halted && !d.paused) runnable.push(d);
  for (const d of residents.values()) if (d.busy && !ringing.has(d) && !d.halted && !d.paused) runnable.push(d);
  const now = performance.now();
  const order = sched.pick(runnable, now);
  for (const d of order) {
    ringing.delete(d);
    turn(d);
  }
  // Halted and gone domains need no turn; paused ones are rung again on unpause.
  for (const d of ringing) if (d.halted || !residents.has(d.domid) || d.paused) ringing.delete(d);
  if (order.length < runnable.length && !nextPeriod) {
    // Capped, or OVER behind UNDER ones: look again at the next period at the latest.
    nextPeriod = setTimeout(() => {
      nextPeriod = undefined;
      kick();
    }, Math.max(1, sched.untilNextPeriod(now)));
  }
  if (ringing.size > 0 && order.length === runnable.length) kick();
  else if (Atomics.load(doorbell, DB_PENDING) !== 0 || [...residents.values()].some((d) => d.busy && !d.halted && !d.paused)) kick();
  else sleep();
}

function sleep(): void {
  if (waiting) return;
  const w = Atomics.waitAsync(doorbell, DB_PENDING, 0);
  if (!w.async) return kick();
  waiting = true;
  void w.value.then(() => {
    waiting = false;
    kick();
  });
}

// An error that escaped a realm's own guards (a rejected promise nobody handled) is the
// domain's whose realm made the promise; anything else is this thread's, and it is logged.
process.on('unhandledRejection', (reason, promise) => {
  const d = byPromiseProto.get(Object.getPrototypeOf(promise) as object);
  if (d && !d.halted) {
    d.inbox.push({ kind: 'uncaught', reason });
    kick();
    return;
  }
  if (!d) status({ type: 'log', line: `pCPU ${data.name}: unhandled rejection outside any domain: ${String(reason)}` });
});
process.on('uncaughtException', (e) => status({ type: 'log', line: `pCPU ${data.name}: ${e.stack ?? String(e)}` }));

parent.on('message', (m: PcpuMessage) => {
  if (m.type === 'place') place(m);
  else if (m.type === 'evict') evict(m.domid);
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
sleep();
refill();
status({ type: 'ready', tid: currentThreadId() });
