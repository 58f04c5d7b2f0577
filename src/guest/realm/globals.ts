// The globals a realm's library OS and kernel expect from Node (timers, performance, text
// coding, AbortController, crypto.getRandomValues), built inside the realm on the few host
// functions of host.ts. This module runs first in the realm's image (realm.ts imports it
// first), before any guest code: the host functions are kept in closures here and nowhere else.
import { XenError } from '../../errors.js';
import { bare } from '../bare.js';
import { messageOf, type OwnTimer, type RealmHost } from './host.js';
import { RealmUnsupported } from './refused.js';

/** The wrapper bin/link.js puts around the realm's image passes the host functions in. */
declare const __host: RealmHost;

const apply = Reflect.apply;
const defineGlobal = (name: string, value: unknown): void => {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
};

/** A host function, callable from the realm; a host error never reaches realm code, only this. */
function wrap<A extends unknown[], R>(fn: (...a: A) => R, name: string): (...a: A) => R {
  return (...a: A): R => {
    try {
      return apply(fn, undefined, a) as R;
    } catch (e) {
      throw new TypeError(`${name}: refused by the pCPU${messageOf(e)}`);
    }
  };
}

// No prototype (bare.ts): nothing the library OS looks up on it runs a getter of its guest's.
export const host: RealmHost = bare({
  now: wrap(__host.now, 'now'),
  hrtime: wrap(__host.hrtime, 'hrtime'),
  timerSet: wrap(__host.timerSet, 'timerSet'),
  timerClear: wrap(__host.timerClear, 'timerClear'),
  immediate: wrap(__host.immediate, 'immediate'),
  control: wrap(__host.control, 'control'),
  decode: wrap(__host.decode, 'decode'),
  random: wrap(__host.random, 'random'),
  crc32: wrap(__host.crc32, 'crc32'),
  mainCalled: wrap(__host.mainCalled, 'mainCalled'),
  parked: wrap(__host.parked, 'parked'),
  halt: wrap(__host.halt, 'halt'),
  wake: wrap(__host.wake, 'wake'),
  evtchnSend: wrap(__host.evtchnSend, 'evtchnSend'),
  connected: wrap(__host.connected, 'connected'),
  blkPush: wrap(__host.blkPush, 'blkPush'),
  blkPoll: wrap(__host.blkPoll, 'blkPoll'),
  threadId: wrap(__host.threadId, 'threadId'),
  serialize: wrap(__host.serialize, 'serialize'),
  deserialize: wrap(__host.deserialize, 'deserialize'),
});

// ---------------- uncaught errors ----------------

let uncaught: (err: unknown) => void = () => {};
/** Where errors of callbacks that nothing else catches go (the boot's crash). */
export function onUncaught(fn: (err: unknown) => void): void {
  uncaught = fn;
}
function guarded(fn: (...a: unknown[]) => unknown, args: unknown[]): void {
  try {
    apply(fn, undefined, args);
  } catch (e) {
    uncaught(e);
  }
}

// ---------------- timers: fired by the pCPU in the domain's turns ----------------

interface Timer {
  fn: (...a: unknown[]) => unknown;
  args: unknown[];
  ms: number;
  repeat: boolean;
  /** Cleared: a refresh() does not bring it back (one that only ran, a one-shot, comes back). */
  cleared: boolean;
  /** One of the library OS's own timers (setOwnTimer), which the domain's bound does not count. */
  own: OwnTimer | null;
}
const timers = new Map<number, Timer>();
let nextTimer = 1;
const TIMER_ID = Symbol('timer id');
const TIMER = Symbol('timer');

class Timeout {
  readonly [TIMER_ID]: number;
  readonly [TIMER]: Timer;
  constructor(id: number, t: Timer) {
    this[TIMER_ID] = id;
    this[TIMER] = t;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
  /**
   * As Node's: the timer fires `ms` from now. One that fired and whose turn has not come yet is
   * re-armed in its place, and the pCPU drops that turn (pcpu.ts); a one-shot whose callback ran
   * is armed again, in a new place (refused at the bound, as a new timer is); a cleared one stays
   * cleared.
   */
  refresh(): this {
    const id = this[TIMER_ID];
    const t = this[TIMER];
    if (t.cleared) return this;
    arm(id, t);
    timers.set(id, t);
    return this;
  }
  close(): void {
    clearTimer(this);
  }
  [Symbol.toPrimitive](): number {
    return this[TIMER_ID];
  }
}

function timerMs(ms: unknown): number {
  const n = Number(ms);
  return Number.isFinite(n) && n >= 1 ? Math.min(n, 2 ** 31 - 1) : 1;
}

/**
 * Arm timer `id` on the pCPU. A domain may have only so many armed there (each is a host timer of
 * the thread): past that, whatever armed it (its own setTimeout, or its library OS's) fails with
 * ENOMEM, as a Xen hypercall out of memory for the domain does. The library OS's own timers
 * (setOwnTimer) are not counted, so are never refused.
 */
function arm(id: number, t: Timer): void {
  if (!host.timerSet(id, t.ms, t.own)) throw new XenError('ENOMEM', 'the domain has as many timers armed as its shared pCPU allows');
}

function addTimer(fn: unknown, ms: unknown, args: unknown[], repeat: boolean, own: OwnTimer | null = null): Timeout {
  if (typeof fn !== 'function') throw new TypeError('the callback must be a function');
  const id = nextTimer++;
  const t: Timer = { fn: fn as Timer['fn'], args, ms: timerMs(ms), repeat, cleared: false, own };
  arm(id, t);
  timers.set(id, t);
  return new Timeout(id, t);
}

function clearTimer(x: unknown): void {
  const id = x instanceof Timeout ? x[TIMER_ID] : typeof x === 'number' ? x : undefined;
  if (id === undefined) return;
  const t = x instanceof Timeout ? x[TIMER] : timers.get(id);
  // The library OS's own timers go only through their Timeout: a guest's clearTimeout(n) of a
  // guessed number would stop its sleeps or its sends' retries for good.
  if (t?.own && !(x instanceof Timeout)) return;
  if (t) t.cleared = true;
  if (!timers.delete(id)) return;
  host.timerClear(id);
}

/**
 * The pCPU's turn: timer `id` is due. The pCPU keeps a fired timer's place under the domain's
 * bound until this ran (pcpu.ts). An interval is re-armed in that place, so it is never refused
 * (ENOMEM) once armed: Xen re-arms a vCPU's periodic timer, and a singleshot one set again, in
 * the timer the vCPU has, and set_timer_op and VCPUOP_set_periodic_timer never fail for want of
 * memory. The bound counts the timers a domain holds; a new one is refused at it (to the caller
 * of setTimeout or of the sleep), a re-arm of one it holds is not. refresh() re-arms the same
 * way (and a turn of a timer refreshed after it fired is dropped: it fires at its new time). A
 * one-shot gives its place back before its callback runs, so that the callback may arm the next
 * one in it. set_timer_op's timer is the vCPU's, outside the bound (setOwnTimer), and so is the
 * event-channel retry's.
 */
export function fireTimer(id: number): void {
  const t = timers.get(id);
  if (t) {
    if (t.repeat) arm(id, t);
    else {
      timers.delete(id);
      host.timerClear(id);
    }
    guarded(t.fn, t.args);
  }
}

/**
 * One of the library OS's own timers, which the pCPU keeps outside the domain's timer bound, one
 * of each kind per domain (a new one replaces the last), as Xen's own timers are not the
 * domain's: set_timer_op's ('vcpu', hypercalls.ts vcpuTimerThrough: Xen's vCPU has its singleshot
 * timer without allocating one) and the retry of the events this realm's sends deferred
 * ('evtchn-retry', evtchn.ts retryTimerThrough: a domain at its bound still has them linked in
 * time). Not a global: only the library OS arms them.
 */
export function setOwnTimer(own: OwnTimer, fn: () => void, ms: number): Timeout {
  return addTimer(fn, ms, [], false, own);
}

interface Immediate {
  fn: (...a: unknown[]) => unknown;
  args: unknown[];
}
let immediates = new Set<Immediate>();

/** The pCPU's turn: run the setImmediate callbacks queued before it (later ones wait for the next turn). */
export function runImmediates(): void {
  const batch = immediates;
  if (batch.size === 0) return;
  immediates = new Set();
  for (const im of batch) guarded(im.fn, im.args);
}

defineGlobal('setTimeout', (fn: unknown, ms?: unknown, ...args: unknown[]) => addTimer(fn, ms, args, false));
defineGlobal('setInterval', (fn: unknown, ms?: unknown, ...args: unknown[]) => addTimer(fn, ms, args, true));
defineGlobal('clearTimeout', clearTimer);
defineGlobal('clearInterval', clearTimer);
defineGlobal('setImmediate', (fn: unknown, ...args: unknown[]) => {
  if (typeof fn !== 'function') throw new TypeError('the callback must be a function');
  const im: Immediate = { fn: fn as Immediate['fn'], args };
  if (immediates.size === 0) host.immediate();
  immediates.add(im);
  return im;
});
defineGlobal('clearImmediate', (im: unknown) => void immediates.delete(im as Immediate));
defineGlobal('queueMicrotask', (fn: unknown) => {
  if (typeof fn !== 'function') throw new TypeError('the callback must be a function');
  void Promise.resolve().then(() => guarded(fn as Immediate['fn'], []));
});

// ---------------- clocks, randomness ----------------

const timeOrigin = Date.now() - host.now();
defineGlobal('performance', Object.freeze({ now: () => host.now(), timeOrigin }));
defineGlobal('process', {
  hrtime: Object.assign((): [number, number] => {
    const ns = host.hrtime();
    return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
  }, { bigint: () => host.hrtime() }),
  nextTick: (fn: (...a: unknown[]) => unknown, ...args: unknown[]) => void Promise.resolve().then(() => guarded(fn, args)),
  env: {},
  argv: [],
  platform: 'xenode',
});
defineGlobal('crypto', Object.freeze({
  getRandomValues<T extends ArrayBufferView>(a: T): T {
    if (!ArrayBuffer.isView(a) || a instanceof Float32Array || a instanceof Float64Array) throw new TypeError('getRandomValues needs an integer typed array');
    if (a.byteLength > 65536) throw new RangeError('getRandomValues: at most 65536 bytes');
    host.random(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    return a;
  },
}));

// ---------------- text ----------------

class RealmTextEncoder {
  readonly encoding = 'utf-8';
  encode(input = ''): Uint8Array {
    const s = String(input);
    const out = new Uint8Array(s.length * 3);
    return out.slice(0, this.encodeInto(s, out).written);
  }
  encodeInto(input: string, dest: Uint8Array): { read: number; written: number } {
    const s = String(input);
    let w = 0;
    let r = 0;
    for (; r < s.length; r++) {
      let c = s.charCodeAt(r);
      let units = 1;
      if (c >= 0xd800 && c <= 0xdbff && r + 1 < s.length) {
        const d = s.charCodeAt(r + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          units = 2;
        }
      }
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // lone surrogate
      const need = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      if (w + need > dest.length) break;
      if (need === 1) dest[w++] = c;
      else if (need === 2) {
        dest[w++] = 0xc0 | (c >> 6);
        dest[w++] = 0x80 | (c & 63);
      } else if (need === 3) {
        dest[w++] = 0xe0 | (c >> 12);
        dest[w++] = 0x80 | ((c >> 6) & 63);
        dest[w++] = 0x80 | (c & 63);
      } else {
        dest[w++] = 0xf0 | (c >> 18);
        dest[w++] = 0x80 | ((c >> 12) & 63);
        dest[w++] = 0x80 | ((c >> 6) & 63);
        dest[w++] = 0x80 | (c & 63);
      }
      r += units - 1;
    }
    return { read: r, written: w };
  }
}

class RealmTextDecoder {
  readonly encoding = 'utf-8';
  readonly fatal: boolean;
  constructor(label = 'utf-8', opts: { fatal?: boolean } = {}) {
    if (!/^utf-?8$/i.test(String(label))) throw new RangeError(`TextDecoder: only utf-8 here, not ${String(label)}`);
    this.fatal = opts.fatal === true;
  }
  decode(input?: ArrayBufferView | ArrayBuffer): string {
    if (input === undefined) return '';
    const bytes = ArrayBuffer.isView(input) ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength) : new Uint8Array(input);
    return host.decode(bytes, this.fatal);
  }
}
defineGlobal('TextEncoder', RealmTextEncoder);
defineGlobal('TextDecoder', RealmTextDecoder);

// ---------------- AbortController (what os.time.sleep and os.tcpip use) ----------------

type Listener = (ev: { type: string }) => void;
class RealmAbortSignal {
  aborted = false;
  reason: unknown = undefined;
  onabort: Listener | null = null;
  #listeners: { fn: Listener; once: boolean }[] = [];
  addEventListener(type: string, fn: Listener, opts?: { once?: boolean }): void {
    if (type === 'abort') this.#listeners.push({ fn, once: opts?.once === true });
  }
  removeEventListener(type: string, fn: Listener): void {
    if (type === 'abort') this.#listeners = this.#listeners.filter((l) => l.fn !== fn);
  }
  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }
  /** @internal */
  fire(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const ls = this.#listeners;
    this.#listeners = ls.filter((l) => !l.once);
    const ev = { type: 'abort' };
    if (this.onabort) guarded(this.onabort as Immediate['fn'], [ev]);
    for (const l of ls) guarded(l.fn as Immediate['fn'], [ev]);
  }
  static abort(reason?: unknown): RealmAbortSignal {
    const s = new RealmAbortSignal();
    s.fire(reason ?? abortError());
    return s;
  }
}
function abortError(): Error {
  const e = new Error('This operation was aborted');
  e.name = 'AbortError';
  return e;
}
class RealmAbortController {
  readonly signal = new RealmAbortSignal();
  abort(reason?: unknown): void {
    this.signal.fire(reason ?? abortError());
  }
}
defineGlobal('AbortSignal', RealmAbortSignal);
defineGlobal('AbortController', RealmAbortController);

// ---------------- what V8 and Node would run with the pCPU's objects, or outside a turn ----------------

// Node formats an error's stack, whoever reads it first, by calling Error.prepareStackTrace of
// the realm that made the error with call sites V8 built in the *reader's* context: read by the
// pCPU thread (v8.serialize of a suspend record reads an error's stack), their constructors were
// the pCPU's, whose Function compiled `return process` there. So, before any guest code, the
// realm's Error global and its prepareStackTrace are fixed for good, and that is undefined: Node
// then formats the stack itself, with its own code, which reads the error's name and message as
// any code does (a guest's getters run, in that guest's own turn: host.serialize is called from it).
Object.defineProperty(Error, 'prepareStackTrace', { value: undefined, writable: false, enumerable: false, configurable: false });
Object.defineProperty(globalThis, 'Error', { value: Error, writable: false, enumerable: false, configurable: false });
// A FinalizationRegistry's callbacks are tasks V8 runs on the pCPU thread outside any turn: the
// watchdog does not see one that spins, what one throws reaches the thread's own handler, and one
// can run after its domain was evicted. The library OS uses none; a guest gets an inert registry,
// as the language allows (a registry need never call its cleanups): it checks its arguments as a
// real one does and holds nothing, so code that detects the feature and registers runs on. (A
// global there still, as Node's own scripts for the realm, run when a restore's record is to
// cross into it, copy every standard global: pcpu.ts makeCloner.)
/** Whether `v` could be held weakly: an object, or a symbol that is not registered (Symbol.for). */
const weaklyHeld = (v: unknown): boolean =>
  (typeof v === 'object' && v !== null) || typeof v === 'function' || (typeof v === 'symbol' && Symbol.keyFor(v) === undefined);
class FinalizationRegistry {
  constructor(cleanup: unknown) {
    if (typeof cleanup !== 'function') throw new TypeError('FinalizationRegistry: cleanup must be callable');
  }
  register(target: unknown, held: unknown, token?: unknown): undefined {
    if (!weaklyHeld(target)) throw new TypeError('FinalizationRegistry.prototype.register: invalid target');
    if (Object.is(target, held)) throw new TypeError('FinalizationRegistry.prototype.register: target and holdings must not be same');
    if (token !== undefined && !weaklyHeld(token)) throw new TypeError('FinalizationRegistry.prototype.register: invalid unregister token');
    return undefined;
  }
  unregister(token: unknown): boolean {
    if (!weaklyHeld(token)) throw new TypeError('FinalizationRegistry.prototype.unregister: invalid unregister token');
    return false;
  }
}
Object.defineProperty(FinalizationRegistry.prototype, Symbol.toStringTag, { value: 'FinalizationRegistry', configurable: true });
defineGlobal('FinalizationRegistry', FinalizationRegistry);
// WebAssembly.compileStreaming and instantiateStreaming call the wasm streaming callback Node
// sets for the whole isolate, so every context has them: that callback is the pCPU's own code,
// which rejects a source that is not a Response with the pCPU's TypeError (whose
// constructor.constructor compiled `return process` there), and runs guest code outside a turn
// (instanceof and `constructor` reads on the source). A realm gets functions of its own that
// refuse.
// WebAssembly.compile and instantiate, which take bytes, finish in V8 tasks outside any turn,
// where the watchdog does not look: resolving their promise reads `then` on the result (a
// guest's getter runs there), and instantiate from bytes reads the imports and runs the start
// function there. A realm's do that work in the turn that calls them, with WebAssembly.Module and
// Instance: the bytes are compiled at the call (the spec copies them then), and an instance of
// them is made, reading the imports and running the start function, from a microtask of the
// realm, as is each promise settled; the pCPU drains those in that turn. So, as with V8, the
// guest's synchronous code after the call runs first (an import object it fills then is the one
// read), and an instance of a module, not of bytes, is made at the call, as V8 makes it. Unlike
// V8's task, which runs once the microtasks are drained, that microtask runs before the reactions
// the guest queues after the call.
// (The realm's image is typed without WebAssembly's declarations.)
const wasm = (globalThis as unknown as {
  WebAssembly: { Module: { new (bytes: unknown): object; exports(module: unknown): unknown }; Instance: new (module: object, imports: unknown) => object };
}).WebAssembly;
const { Module: WasmModule, Instance: WasmInstance } = wasm;
const moduleExports = WasmModule.exports;
const RealmPromise = Promise;
const promiseThen = Promise.prototype.then;
const fulfilled = Promise.resolve();
/** A WebAssembly.Module by its internal slots, as V8's instantiate tells one (its prototype chain may be anything). */
function isModule(v: unknown): v is object {
  try {
    apply(moduleExports, undefined, [v]);
    return true;
  } catch {
    return false;
  }
}
/**
 * `now` done at the call; from a microtask (captured intrinsics: no guest global in the way),
 * `then` done on its value, and the promise settled with what that gives, or with either's error.
 */
function settleLater<T, U>(now: () => T, then: (value: T) => U): Promise<U> {
  let ok = true;
  let outcome: unknown;
  try {
    outcome = now();
  } catch (e) {
    ok = false;
    outcome = e;
  }
  return new RealmPromise<U>((resolve, reject) => void apply(promiseThen, fulfilled, [() => {
    if (!ok) return reject(outcome);
    try {
      resolve(then(outcome as T));
    } catch (e) {
      reject(e);
    }
  }]));
}
const same = <T>(v: T): T => v;
const wasmAsync = {
  compile(bytes: unknown) {
    return settleLater(() => new WasmModule(bytes), same);
  },
  // The imports as a rest parameter: instantiate's length is 1, as V8's.
  instantiate(source: unknown, ...imports: unknown[]) {
    if (isModule(source)) return settleLater(() => new WasmInstance(source, imports[0]), same);
    return settleLater(() => new WasmModule(source), (module) => ({ module, instance: new WasmInstance(module, imports[0]) }));
  },
  compileStreaming: () => Promise.reject(new RealmUnsupported('WebAssembly.compileStreaming')),
  instantiateStreaming: () => Promise.reject(new RealmUnsupported('WebAssembly.instantiateStreaming')),
};
for (const [name, value] of Object.entries(wasmAsync)) Object.defineProperty(wasm, name, { value, writable: true, configurable: true, enumerable: true });
