// Shared by the hypervisor tests: a hypervisor with dom0's upcall loop, domains driven from
// the test's own thread, and guests running in real worker threads (./hypervisor-vcpu.ts).
import type { TestContext } from 'node:test';
import { MessageChannel, Worker } from 'node:worker_threads';
import { GrantError } from '../../src/abi/grant_table.js';
import { PAGE_SIZE } from '../../src/abi/xen.js';
import { XenError } from '../../src/errors.js';
import { directChannel, serveControlPort } from '../../src/hypervisor/control.js';
import { Hypercalls } from '../../src/hypervisor/hypercalls.js';
import { Hypervisor, type Domain, type DomainCreateOptions } from '../../src/hypervisor/hypervisor.js';
import {
  CB_DYING, CB_FIFO_CONTROL, CB_FIFO_NR_EVTCHNS, CB_HEADER_WORDS, CB_IN_HYPERCALL, CB_KILL, CB_PAUSE, CB_SHUTDOWN, PFN_GRANT_TABLE,
} from '../../src/hypervisor/layout.js';
import { guestBuffers, type DomainView } from '../../src/hypervisor/memory.js';
import { UpcallLoop } from '../../src/hypervisor/upcall.js';
import type { EncodedError, GuestBoot, GuestMessage, GuestRequest } from './hypervisor-vcpu.js';

const GUEST = new URL('./hypervisor-vcpu.js', import.meta.url);

/**
 * Fail instead of hanging (generously: other test files load the machine too); the timer also
 * keeps the event loop alive while only waitAsync is pending.
 */
export async function within<T>(p: Promise<T>, what: string, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Events seen per port, and a way to wait until a port has seen so many. */
class EventCounter {
  #counts = new Map<number, number>();
  #waiters = new Set<{ port: number; n: number; resolve(): void }>();

  bump(port: number): void {
    const n = (this.#counts.get(port) ?? 0) + 1;
    this.#counts.set(port, n);
    for (const w of this.#waiters) {
      if (w.port === port && n >= w.n) {
        this.#waiters.delete(w);
        w.resolve();
      }
    }
  }

  count(port: number): number {
    return this.#counts.get(port) ?? 0;
  }

  /** Resolves once `port` has seen `n` events in all. */
  until(port: number, n: number): Promise<void> {
    if (this.count(port) >= n) return Promise.resolve();
    return within(new Promise<void>((resolve) => this.#waiters.add({ port, n, resolve })), `event ${n} on port ${port}`);
  }

  /** Resolves on the next event on `port` after this call; arm it before causing the event. */
  next(port: number): Promise<void> {
    return this.until(port, this.count(port) + 1);
  }
}

/** An upcall loop on the test's thread for one domain, counting events per port. */
export class Events extends EventCounter {
  readonly loop: UpcallLoop;
  constructor(view: DomainView) {
    super();
    // Never pausable: pausing would block the test's own thread.
    this.loop = new UpcallLoop(view, {
      pausable: false,
      onError: (e) => {
        throw e;
      },
    });
    this.loop.start();
  }
  listen(port: number): void {
    this.loop.on(port, () => this.bump(port));
  }
}

/** A domain whose hypercalls run on the test's thread, as dom0's and a backend's do. */
export interface LocalDomain {
  readonly domid: number;
  readonly domain: Domain;
  readonly hc: Hypercalls;
  readonly events: Events;
}

/** A domain whose vCPU is a real worker thread; the test drives it by messages. */
export class Guest extends EventCounter {
  readonly domid: number;
  #worker: Worker;
  #next = 1;
  #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  /** Resolves with the thread's exit code. */
  readonly exited: Promise<number>;

  constructor(readonly domain: Domain, worker: Worker) {
    super();
    this.domid = domain.domid;
    this.#worker = worker;
    this.exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.on('message', (m: GuestMessage) => {
      if (m.type === 'event') this.bump(m.port);
      if (m.type !== 'reply') return;
      const p = this.#pending.get(m.id)!;
      this.#pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(decodeError(m.error));
    });
  }

  /** Run one of hypervisor-vcpu.ts's operations in the guest's thread. */
  call<T = unknown>(op: string, ...args: unknown[]): Promise<T> {
    const id = this.#next++;
    return within(
      new Promise<T>((resolve, reject) => {
        this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        this.#worker.postMessage({ id, op, args } satisfies GuestRequest);
      }),
      `guest d${this.domid} ${op}(${args.length ? String(args[0]) : ''})`,
    );
  }

  /** A hypercall made by the guest, on its own thread. */
  hc<T = unknown>(method: keyof Hypercalls, ...args: unknown[]): Promise<T> {
    return this.call<T>('hc', method, ...args);
  }
}

function decodeError(e: EncodedError): Error {
  if (e.kind === 'xen') return new XenError(e.errno, e.detail);
  if (e.kind === 'grant') return new GrantError(e.status, e.detail);
  return Object.assign(new Error(e.message), { name: e.name });
}

/** A hypervisor for one test: dom0's upcall loop runs on the test's thread; `close` tears it all down. */
export class Harness {
  readonly hv = new Hypervisor({ dom0RamFrames: 64 });
  readonly dom0 = this.hv.dom0Hypercalls;
  readonly dom0Events = new Events(this.hv.dom0.view);
  #locals: Events[] = [this.dom0Events];

  local(opts: Partial<DomainCreateOptions> = {}): LocalDomain {
    const domain = this.hv.createDomain({ name: `local${this.#locals.length}`, ramFrames: 16, ...opts });
    const hc = new Hypercalls(domain.view, directChannel(this.hv.controlPlane(domain.domid)));
    const events = new Events(domain.view);
    this.#locals.push(events);
    return { domid: domain.domid, domain, hc, events };
  }

  /**
   * Create a domain and give it a worker vCPU, the way startVcpu does: a private control port
   * served by the hypervisor, peers pushed on it, death without shutdown is a crash. Unpaused.
   */
  async guest(opts: Partial<DomainCreateOptions> = {}): Promise<Guest> {
    const { hv } = this;
    const domain = hv.createDomain({ name: `guest${hv.domains().length}`, ramFrames: 16, ...opts });
    const worker = new Worker(GUEST);
    const { port1, port2 } = new MessageChannel();
    serveControlPort(port1, hv.controlPlane(domain.domid));
    let terminating = false;
    hv.attachVcpu(domain.domid, {
      async terminate() {
        terminating = true;
        port1.close();
        await worker.terminate();
      },
      cpuTime: () => worker.performance.eventLoopUtilization().active,
      push: (grant) => port1.postMessage({ push: grant }),
    });
    const crashed = () => {
      if (!terminating && !domain.dying && !domain.shutdownReason) hv.shutdownDomain(domain.domid, 'crash');
    };
    worker.on('error', crashed);
    worker.on('exit', crashed);
    const guest = new Guest(domain, worker);
    const ready = new Promise<void>((resolve) => worker.once('message', () => resolve()));
    worker.postMessage({ buffers: guestBuffers(domain.view.buffers), control: port2 } satisfies GuestBoot, [port2]);
    await within(ready, `guest d${domain.domid} to boot`);
    hv.unpause(domain.domid);
    return guest;
  }

  async close(): Promise<void> {
    for (const e of this.#locals) e.loop.stop();
    for (const d of this.hv.domains()) if (d.domid !== 0) await this.hv.destroyDomain(d.domid);
  }
}

/** One event from dom0's port `p0` to the guest's `pg` and one back, each awaited. */
export async function pingPong(h: Harness, g: Guest, p0: number, pg: number): Promise<void> {
  const toGuest = g.next(pg);
  h.dom0.evtchnSend(p0);
  await toGuest;
  const toDom0 = h.dom0Events.next(p0);
  await g.hc('evtchnSend', pg);
  await toDom0;
}

export function harness(t: TestContext): Harness {
  const h = new Harness();
  t.after(() => h.close());
  return h;
}

/** Byte address of grant entry `ref` in a domain's memory. */
export function grantEntryAddr(ref: number): number {
  return PFN_GRANT_TABLE * PAGE_SIZE + ref * 8;
}

/** The flags half-word of a grant entry, read the way the granting guest reads it. */
export function grantFlags(view: DomainView, ref: number): number {
  return Atomics.load(view.mem32, grantEntryAddr(ref) >> 2) & 0xffff;
}

/** A frame of fresh RAM of the domain `hc` runs, filled with `fill`. */
export function ramPage(hc: Hypercalls, fill: number): { pfn: number; page: Uint8Array } {
  const [pfn] = hc.populatePhysmap(1);
  const page = hc.memory.frame(pfn!);
  page.fill(fill);
  return { pfn: pfn!, page };
}

/** A ref that granted `pfn` to dom0 and was revoked since (endAccess): it names no access now. */
export function revokedRef(hc: Hypercalls, pfn: number, readonly: boolean): number {
  const ref = hc.grantAccess(0, pfn, readonly);
  if (!hc.endAccess(ref)) throw new Error(`grant ref ${ref} was not revoked`);
  return ref;
}

/** assert.throws / rejects matchers. */
export const xen = (errno: XenError['errno']) => ({ name: 'XenError', errno });
export const gntst = (status: number) => ({ name: 'GrantError', status });

/**
 * The words of a control block's header a hostile guest can write a lock holder into and still
 * run: all but pause, kill, dying, shutdown, the hypercall gate's and the FIFO ABI's switch.
 */
export const FORGEABLE: readonly number[] = [...Array(CB_HEADER_WORDS).keys()].filter((i) => ![
  CB_PAUSE, CB_KILL, CB_DYING, CB_SHUTDOWN, CB_IN_HYPERCALL, CB_FIFO_CONTROL, CB_FIFO_NR_EVTCHNS,
].includes(i));

/**
 * Another thread takes lock `index` of `words` (a control block, or a grant table's hypervisor
 * side), as a thread the OS preempted inside it would; `release` lets go; `die` ends that thread
 * still holding it.
 */
export async function holdLock(t: TestContext, words: Int32Array, index: number): Promise<{ release(): Promise<unknown>; die(): Promise<unknown> }> {
  const lockUrl = new URL('../../src/hypervisor/lock.js', import.meta.url).href;
  const holder = new Worker(`
    const { workerData, parentPort } = require('node:worker_threads');
    import(${JSON.stringify(lockUrl)}).then(({ lock, unlock }) => {
      const c = new Int32Array(workerData);
      lock(c, ${index});
      parentPort.postMessage('held');
      parentPort.once('message', (m) => {
        if (m === 'die') process.exit(0);
        unlock(c, ${index});
        parentPort.postMessage('free');
      });
    });`, { eval: true, workerData: words.buffer });
  t.after(() => holder.terminate());
  const reply = () => new Promise((resolve) => holder.once('message', resolve));
  await reply();
  return {
    release: () => {
      holder.postMessage('go');
      return reply();
    },
    die: () => {
      const gone = new Promise((resolve) => holder.once('exit', resolve));
      holder.postMessage('die');
      return gone;
    },
  };
}

/**
 * Another thread that takes and frees lock `index` of `words` over and over, as a busy sender
 * does (holds and gaps of a few to a few hundred ns), for up to 3 s or until `stop`. A live
 * holder: a break of "abandoned" locks must never act on it. `stop` tells how many holds it made
 * and in how many its lock word changed under it (freed or taken by a break).
 */
export async function busyLock(t: TestContext, words: Int32Array, index: number): Promise<{ running(): boolean; stop(): Promise<{ holds: number; stolen: number }> }> {
  const lockUrl = new URL('../../src/hypervisor/lock.js', import.meta.url).href;
  // [stop asked, state (0 starting, 1 running, 2 done), holds, stolen]
  const flag = new Int32Array(new SharedArrayBuffer(16));
  const holder = new Worker(`
    const { workerData } = require('node:worker_threads');
    import(${JSON.stringify(lockUrl)}).then(({ lock, unlock }) => {
      const [c, flag] = workerData;
      const end = Date.now() + 3000;
      Atomics.store(flag, 1, 1);
      let spin = 0;
      let stolen = 0;
      let i = 0;
      for (; i < 5e8 && Atomics.load(flag, 0) === 0 && (i & 1023 || Date.now() < end); i++) {
        lock(c, ${index});
        const mine = Atomics.load(c, ${index});
        for (let k = i % 37; k > 0; k--) spin += k;
        if (Atomics.load(c, ${index}) !== mine) stolen++;
        unlock(c, ${index});
        for (let k = i % 29; k > 0; k--) spin += k;
      }
      Atomics.store(flag, 2, i);
      Atomics.store(flag, 3, stolen);
      // spin read once: the delay loops stay (dead sums could be optimized away); spin & 0 is 0.
      Atomics.store(flag, 1, 2 + (spin & 0));
    });`, { eval: true, workerData: [words, flag] });
  t.after(() => holder.terminate());
  for (let i = 0; i < 20_000 && Atomics.load(flag, 1) === 0; i++) await new Promise((r) => setTimeout(r, 1));
  return {
    running: () => Atomics.load(flag, 1) === 1,
    stop: async () => {
      Atomics.store(flag, 0, 1);
      for (let i = 0; i < 20_000 && Atomics.load(flag, 1) !== 2; i++) await new Promise((r) => setTimeout(r, 1));
      return { holds: Atomics.load(flag, 2), stolen: Atomics.load(flag, 3) };
    },
  };
}

/** Call `f` for up to 2 s or 20 million times while `busy` runs: how many times it returned true. */
export function whileBusy(busy: { running(): boolean }, f: () => boolean): { hits: number; tries: number } {
  let hits = 0;
  let tries = 0;
  const end = Date.now() + 2000;
  for (; tries < 2e7 && busy.running() && (tries & 1023 || Date.now() < end); tries++) if (f()) hits++;
  return { hits, tries };
}
