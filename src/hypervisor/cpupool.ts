// Shared cpupools: a few pCPU threads that run many domains' vCPUs, as Xen schedules vCPUs on
// the pCPUs of a cpupool (xl cpupool-create). Pool-0 keeps a thread per vCPU (vcpu.ts); a
// domain placed in a shared pool gets a slot on one of the pool's pCPU threads, its own realm
// there (a node:vm context running its own instance of the library OS), its own memory and
// control block, and the same hypercalls. This is dom0's side: the pool, its threads, the
// placement of domains, and the watchdog. The thread's side is guest/pcpu.ts.
import { MessageChannel, Worker } from 'node:worker_threads';
import { XenError } from '../errors.js';
import { serveControlPort, type PeerGrant } from './control.js';
import { DOORBELL_SLOTS, doorbellBytes, PCPU_BEAT_MS, PcpuStats, type DoorbellSlot } from './doorbell.js';
import { resendToPeers } from './evtchn.js';
import type { Domain, Hypervisor, VcpuHandle } from './hypervisor.js';
import { guestBuffers, type DomainBuffers } from './memory.js';
import { CREDIT_DEFAULT_WEIGHT } from './sched.js';
import { ThreadState } from './thread.js';
import { destroyedBeforeStart, type BootMarks, type KernelScript, type ShellVcpu } from './vcpu.js';

/** Xen's only scheduler here. */
export type CpupoolSched = 'credit';
export const CPUPOOL_SCHEDS: readonly CpupoolSched[] = ['credit'];
export const POOL0 = 'Pool-0';
/** pCPU threads one pool may have. */
export const MAX_POOL_CPUS = 64;
/** A turn that runs longer than this is a guest that does not yield. */
export const WATCHDOG_MS = 2000;
const WATCHDOG_CHECK_MS = 250;
/** The least bound a pool takes: a few beats (PCPU_BEAT_MS), which a loaded host delays, fit in it. */
export const MIN_WATCHDOG_MS = 4 * PCPU_BEAT_MS;
/** How long a pCPU thread may take to end once terminated. */
export const PCPU_EXIT_MS = 10_000;

/** What dom0 sends a pCPU thread. */
export type PcpuMessage =
  | {
    readonly type: 'place'; readonly domid: number; readonly slot: number; readonly buffers: DomainBuffers;
    readonly control: import('node:worker_threads').MessagePort; readonly weight: number; readonly cap: number;
    /** The realm-target kernel image's URL; null for a shell, whose realm parks until its claim. */
    readonly kernel: string | null;
    /** The JS heap its realm may hold (the heap share of memory=); none if absent. */
    readonly heapMb?: number;
    /** The domain's name and uuid as xenstore has them (guest/start.ts Identity). */
    readonly identity: { readonly name: string; readonly uuid: string };
  }
  | { readonly type: 'evict'; readonly domid: number }
  /** A parked shell becomes a guest: its kernel, its name and uuid, its scheduling. */
  | {
    readonly type: 'claim'; readonly domid: number; readonly kernel: string; readonly weight: number; readonly cap: number;
    readonly identity: { readonly name: string; readonly uuid: string };
  }
  /** Compile a kernel image ahead of the claims that will run it (the thread keeps it). */
  | { readonly type: 'prepare'; readonly kernel: string }
  | { readonly type: 'sched'; readonly domid: number; readonly weight: number; readonly cap: number };

/** What a pCPU thread sends dom0. */
export type PcpuStatus =
  | { readonly type: 'ready'; readonly tid?: number }
  | { readonly type: 'placed'; readonly domid: number }
  | { readonly type: 'failed'; readonly domid: number; readonly message: string }
  /** `marks`: when the thread had a shell's claim, and when main() was called (as BootMarks). */
  | { readonly type: 'main'; readonly domid: number; readonly marks?: BootMarks }
  /** A shell's realm is up and waits for its claim. */
  | { readonly type: 'parked'; readonly domid: number }
  | { readonly type: 'evicted'; readonly domid: number }
  | { readonly type: 'log'; readonly line: string }
  /** The pCPU runs the domain's realm no more (it outgrew its memory=, or a turn or a claim threw past its guards): dom0 crashes it. */
  | { readonly type: 'crashed'; readonly domid: number; readonly why: string };

/** What a pCPU thread starts with. */
export interface PcpuData {
  readonly doorbell: SharedArrayBuffer;
  readonly stats: SharedArrayBuffer;
  readonly epoch: number;
  /** The library OS image for realms (bin/link.js: dist/realm.js). */
  readonly realmImage: string;
  readonly name: string;
}

export interface CpupoolOptions {
  readonly name: string;
  readonly sched?: CpupoolSched;
  readonly cpus: number;
  /** The pCPU thread's program (guest/pcpu.ts) and the realm image it loads. */
  readonly image: URL;
  readonly realmImage: URL;
  readonly onLog?: (line: string) => void;
  readonly watchdogMs?: number;
  /** A pCPU thread's JS heap cap, in MiB: every domain on it shares it. */
  readonly heapMb?: number;
  /** How long a reset pCPU thread may take to end (PCPU_EXIT_MS by default). */
  readonly exitMs?: number;
}

interface Resident {
  readonly domain: Domain;
  readonly slot: number;
  readonly onExit: (why: string) => void;
  readonly onMain: (marks?: BootMarks) => void;
  readonly onParked: () => void;
  readonly onPlaced: (err?: Error) => void;
  readonly onEvicted: () => void;
  /** Its pCPU thread is gone (reset, or lost): the events that thread kept for its peers are sent again. */
  readonly resend: () => void;
}

/** Terminate `w` and wait for it to end, bounded: false (and `late` called) if it is still there after `ms`. */
async function ended(w: Worker, ms: number, late: () => void): Promise<boolean> {
  const timer = new Promise<boolean>((r) => setTimeout(r, ms, false).unref());
  if (await Promise.race([w.terminate().then(() => true), timer])) return true;
  late();
  return false;
}

class Pcpu {
  readonly doorbell = new SharedArrayBuffer(doorbellBytes());
  readonly stats: PcpuStats;
  worker!: Worker;
  #thread: ThreadState | undefined;
  readonly residents = new Map<number, Resident>();
  #freeSlots: number[] = [];
  #nextSlot = 0;
  ready!: Promise<void>;
  /** Resolves when the current thread has ended. */
  exited!: Promise<void>;
  /**
   * Threads of this pCPU that were reset and have not ended yet: whether each ended within the
   * bound (PCPU_EXIT_MS), and its end whenever it comes. Their domains' slots and memory are not
   * reused before that end: such a thread may still run guest code on them.
   */
  readonly resets = new Map<Worker, { readonly inTime: Promise<boolean>; readonly exited: Promise<void> }>();

  constructor(readonly pool: Cpupool, readonly index: number, readonly epoch: number) {
    this.stats = new PcpuStats(PcpuStats.allocate(), epoch);
    this.start();
  }

  start(): void {
    this.#prepared.clear();
    this.beating = false;
    const data: PcpuData = {
      doorbell: this.doorbell, stats: this.stats.buffer, epoch: this.epoch, realmImage: this.pool.realmImage.href,
      name: `${this.pool.name}/${this.index}`,
    };
    const heap = this.pool.heapMb;
    this.worker = new Worker(this.pool.image, {
      workerData: data, stdout: true, stderr: true,
      // Node's checks of its async context stack abort the whole process when they fail, and a
      // guest's rejection can make them fail (async ids its proxy hands Node: NaN, or a valueOf
      // that changes): the pCPU uses no async hooks, so it runs without them. (An execArgv given
      // replaces the inherited one, whose V8 flags a worker refuses; V8's flags are the process's.)
      execArgv: ['--no-force-async-hooks-checks'],
      ...(heap !== undefined && { resourceLimits: { maxOldGenerationSizeMb: heap } }),
    });
    const drain = (s: NodeJS.ReadableStream) => s.on('data', (b: Buffer) => this.pool.log(b.toString('utf8').trimEnd()));
    drain(this.worker.stdout);
    drain(this.worker.stderr);
    const w = this.worker;
    // The thread's /proc state is this worker's own: an old thread that ends after a reset
    // must not close its successor's.
    let thread: ThreadState | undefined;
    this.ready = new Promise((resolve, reject) => {
      w.once('error', reject);
      // An exit without an error before 'ready': lost() starts a successor with its own ready.
      w.once('exit', () => reject(new XenError('ENODEV', `pCPU ${this.pool.name}/${this.index}'s thread ended before it was ready`)));
      w.on('message', (m: PcpuStatus) => {
        if (m.type === 'ready') {
          thread = m.tid === undefined ? undefined : ThreadState.open(m.tid);
          if (w === this.worker) {
            this.#thread = thread;
            this.beating = true;
          }
          resolve();
        } else this.#status(m);
      });
    });
    this.ready.catch(() => {});
    this.exited = new Promise((resolve) => w.once('exit', () => resolve()));
    w.on('error', (e) => this.pool.log(`pCPU ${this.pool.name}/${this.index}: ${e.message}`));
    w.once('exit', () => {
      thread?.close();
      if (this.#thread === thread) this.#thread = undefined;
      if (w === this.worker && !this.stopping) this.pool.lost(this, 'its thread ended');
    });
  }

  /** The current thread is ready, so its timer counts the beat (the liveness watchdog waits for that: a thread may take long to start on a loaded host). */
  beating = false;

  /** Set once the thread is asked to end for good (the pool is closing): its exit is no loss. */
  stopping = false;

  /** End the thread for good, bounded: false if it is still there after `ms` (logged). */
  stop(ms: number): Promise<boolean> {
    this.stopping = true;
    return ended(this.worker, ms, () => this.pool.log(`cpupool ${this.pool.name}: pCPU ${this.index}'s thread did not end within ${ms} ms of being terminated`));
  }

  #status(m: PcpuStatus): void {
    if (m.type === 'log') return this.pool.log(m.line);
    if (m.type === 'ready') return;
    const r = this.residents.get(m.domid);
    if (!r) return;
    if (m.type === 'main') r.onMain(m.marks);
    else if (m.type === 'parked') r.onParked();
    else if (m.type === 'placed') r.onPlaced();
    else if (m.type === 'failed') r.onPlaced(new Error(m.message));
    else if (m.type === 'evicted') r.onEvicted();
    else if (m.type === 'crashed') r.onExit(m.why);
  }

  /** Kernel images this thread was asked to compile ahead (it keeps them). */
  readonly #prepared = new Set<string>();

  prepare(kernel: string): void {
    if (this.#prepared.has(kernel)) return;
    this.#prepared.add(kernel);
    this.worker.postMessage({ type: 'prepare', kernel } satisfies PcpuMessage);
  }

  takeSlot(): number {
    const s = this.#freeSlots.pop() ?? this.#nextSlot++;
    if (s >= DOORBELL_SLOTS) throw new XenError('ENOSPC', `pCPU ${this.pool.name}/${this.index} hosts ${DOORBELL_SLOTS} domains already`);
    return s;
  }

  freeSlot(slot: number): void {
    this.stats.cpuMs[slot] = 0;
    this.stats.heapBytes[slot] = 0;
    Atomics.store(this.stats.paused, slot, 0);
    this.#freeSlots.push(slot);
  }

  cpuMs(): number | undefined {
    return this.#thread?.cpuMs();
  }

  /** Whether the thread is on a core or waiting for one (false: asleep), or undefined where /proc does not tell. */
  runnable(): boolean | undefined {
    return this.#thread?.runnable();
  }

  /**
   * What the watchdog watches: a turn, or, between turns, the thread's loop (its turns and its
   * beat, either of which moving is progress); the thread's CPU time and the wall time at its
   * last look, whether that look found it asleep, and the time counted against it since it first saw it.
   */
  watched: { key: string; cpu: number | undefined; wall: number; asleep: boolean; spent: number } | null = null;
}

/** A realm's scheduling (xl sched-credit), its heap share, and where its vCPU's log lines go. */
type PlaceOptions = { weight?: number; cap?: number; heapMb?: number; onLog?: (line: string) => void };

/** Where a domain will run: its pCPU and slot, chosen before the domain's buffers exist. */
export interface Placement {
  readonly pool: Cpupool;
  readonly doorbell: DoorbellSlot;
  /** The word its pCPU reads for its pause count (PcpuStats.paused), which no domain holds. */
  readonly pauseWord: Int32Array;
  /** @internal */ readonly pcpu: number;
}

/** CPU a watched turn's thread may use between two looks that found it asleep for that time to count as asleep (a lock waiter wakes every 10 ms for microseconds). */
const ASLEEP_CPU_MS = 10;

export class Cpupool {
  readonly name: string;
  readonly sched: CpupoolSched;
  readonly image: URL;
  readonly realmImage: URL;
  readonly heapMb: number | undefined;
  #pcpus: Pcpu[] = [];
  #onLog: (line: string) => void;
  #watchdogMs: number;
  /**
   * The liveness watchdog's bound, twice a turn's: between turns the thread also runs Node's and
   * its own work no guest caused (a kernel's read and compile, a GC), and a false reset crashes
   * every domain on the pCPU.
   */
  #loopMs: number;
  #exitMs: number;
  #watchdog: NodeJS.Timeout;
  #closed = false;

  constructor(opts: CpupoolOptions) {
    if (!Number.isInteger(opts.cpus) || opts.cpus < 1 || opts.cpus > MAX_POOL_CPUS) {
      throw new XenError('EINVAL', `cpus=${opts.cpus}: a pool has 1..${MAX_POOL_CPUS} pCPU threads`);
    }
    this.name = opts.name;
    this.sched = opts.sched ?? 'credit';
    this.image = opts.image;
    this.realmImage = opts.realmImage;
    this.heapMb = opts.heapMb;
    this.#onLog = opts.onLog ?? (() => {});
    this.#watchdogMs = opts.watchdogMs ?? WATCHDOG_MS;
    if (!(this.#watchdogMs >= MIN_WATCHDOG_MS)) throw new XenError('EINVAL', `watchdogMs=${this.#watchdogMs}: the watchdog's bound is at least ${MIN_WATCHDOG_MS} ms`);
    this.#loopMs = 2 * this.#watchdogMs;
    this.#exitMs = opts.exitMs ?? PCPU_EXIT_MS;
    const epoch = performance.timeOrigin + performance.now();
    for (let i = 0; i < opts.cpus; i++) this.#pcpus.push(new Pcpu(this, i, epoch));
    this.#watchdog = setInterval(() => this.#check(), Math.min(WATCHDOG_CHECK_MS, this.#watchdogMs / 4)).unref();
  }

  get cpus(): number {
    return this.#pcpus.length;
  }

  /** Domains placed in the pool. */
  get domains(): number {
    let n = 0;
    for (const p of this.#pcpus) n += p.residents.size;
    return n;
  }

  /** Turns the pool's pCPUs have run (each runs one domain's work). */
  turns(): number {
    return this.#total(PcpuStats.TURNS);
  }

  /** Sends its domains made that the pCPUs did in their one copy of the hypercall (not left to the realms). */
  sends(): number {
    return this.#total(PcpuStats.SENDS);
  }

  /** Sends the pCPUs did not do when made: held for a target they had no view of yet (the realm's Hypercalls connects it), or a domain being killed. */
  sendsLeft(): number {
    return this.#total(PcpuStats.LEFT);
  }

  /**
   * Residents the pCPUs found with events pending and no turn coming (their doorbell bit taken
   * by another holder): on their beat, and at once after a ring whose bit was gone.
   */
  rescued(): { beat: number; stolen: number } {
    return { beat: this.#total(PcpuStats.SWEPT), stolen: this.#total(PcpuStats.STOLEN) };
  }

  #total(word: number): number {
    return this.#pcpus.reduce((n, p) => n + Atomics.load(p.stats.words, word), 0);
  }

  /** Resolves once every pCPU thread is up. */
  async ready(): Promise<void> {
    await Promise.all(this.#pcpus.map((p) => p.ready));
  }

  log(line: string): void {
    this.#onLog(line);
  }

  /** Choose a pCPU (the least loaded) and a slot on it. */
  place(): Placement {
    if (this.#closed) throw new XenError('EINVAL', `cpupool ${this.name} is being destroyed`);
    let best = this.#pcpus[0]!;
    for (const p of this.#pcpus) if (p.residents.size < best.residents.size) best = p;
    const slot = best.takeSlot();
    return { pool: this, pcpu: best.index, doorbell: { buffer: best.doorbell, slot }, pauseWord: best.stats.pauseWord(slot) };
  }

  /** Give back a placement whose domain was never started. */
  unplace(p: Placement): void {
    this.#pcpus[p.pcpu]?.freeSlot(p.doorbell.slot);
  }

  /**
   * Start the domain's vCPU in its realm on the placed pCPU. Its death without a shutdown (the
   * watchdog, or its thread lost) is a crash. Without a kernel, the realm is a shell's: it boots
   * its library OS, parks, and waits for `loadKernel`.
   */
  startVcpu(
    hv: Hypervisor,
    domain: Domain,
    placement: Placement,
    kernel: string | null,
    opts: PlaceOptions = {},
  ): Promise<ShellVcpu> {
    // The placement is the vCPU's from here (builder.ts), so it goes back here.
    if (domain.dying) {
      this.unplace(placement);
      return Promise.reject(destroyedBeforeStart(domain));
    }
    const started = this.#place(hv, domain, placement, kernel, opts);
    // Until it is attached, a destroy finds no vCPU to stop while the realm may run on the memory.
    hv.linger(domain.domid, started);
    return started;
  }

  async #place(
    hv: Hypervisor,
    domain: Domain,
    placement: Placement,
    kernel: string | null,
    opts: PlaceOptions,
  ): Promise<ShellVcpu> {
    const pcpu = this.#pcpus[placement.pcpu]!;
    const slot = placement.doorbell.slot;
    try {
      await pcpu.ready;
    } catch (e) {
      // From here the vCPU owns the placement (builder.ts): nobody else gives the slot back.
      this.#giveBack(pcpu, slot, [], domain);
      throw e;
    }
    const { port1, port2 } = new MessageChannel();
    serveControlPort(port1, hv.controlPlane(domain.domid), () => {
      opts.onLog?.(`d${domain.domid}: flooded the control plane; crashing it`);
      if (!domain.dying && !domain.shutdownReason) hv.shutdownDomain(domain.domid, 'crash');
    });
    let mainResolve!: (marks: BootMarks | undefined) => void;
    let mainReject!: (e: Error) => void;
    const mainCalled = new Promise<BootMarks | undefined>((res, rej) => ((mainResolve = res), (mainReject = rej)));
    mainCalled.catch(() => {});
    let placedResolve!: (err?: Error) => void;
    const placed = new Promise<Error | undefined>((res) => (placedResolve = res));
    let parkedResolve!: () => void;
    const parked = new Promise<void>((res) => (parkedResolve = res));
    let hasKernel = kernel !== null;
    let evicted!: () => void;
    const gone = new Promise<void>((res) => (evicted = res));
    let terminated = false;
    const resident: Resident = {
      domain, slot,
      onMain: mainResolve,
      onParked: parkedResolve,
      onPlaced: placedResolve,
      onEvicted: evicted,
      resend: () => resendToPeers(domain.view, (domid) => hv.findDomain(domid)?.view),
      onExit: (why) => {
        // First: an evict already posted to a thread that was then reset or lost gets no answer.
        evicted();
        if (terminated) return;
        opts.onLog?.(`d${domain.domid}: vCPU died: ${why}`);
        mainReject(new Error(why));
        placedResolve(new Error(why));
        if (!domain.dying && !domain.shutdownReason) hv.shutdownDomain(domain.domid, 'crash');
      },
    };
    pcpu.residents.set(domain.domid, resident);
    const msg: PcpuMessage = {
      type: 'place', domid: domain.domid, slot, buffers: guestBuffers(domain.view.buffers), control: port2, kernel, identity: { name: domain.name, uuid: domain.uuid },
      weight: opts.weight ?? CREDIT_DEFAULT_WEIGHT, cap: opts.cap ?? 0, ...(opts.heapMb !== undefined && { heapMb: opts.heapMb }),
    };
    const host = pcpu.worker;
    host.postMessage(msg, [port2]);
    const err = await placed;
    /** It leaves the pCPU: resolves with what its slot waits for besides (nothing, or a reset thread's end). */
    const leave = async (): Promise<Promise<void>[]> => {
      if (pcpu.residents.get(domain.domid) === resident) pcpu.residents.delete(domain.domid);
      // The thread that hosted it was reset (or lost): the new thread does not host it, and a
      // reset one that overran its bound may still run its realm. Then its slot goes back only
      // once that thread has ended, and its memory stays out of the domheap until then (linger:
      // whichever path destroys it, placed or not).
      const reset = pcpu.resets.get(host);
      if (reset && !(await reset.inTime)) {
        this.log(`cpupool ${this.name}: d${domain.domid}'s slot and memory are kept out of reuse until pCPU ${pcpu.index}'s reset thread ends`);
        hv.linger(domain.domid, reset.exited);
        return [reset.exited];
      }
      // A closing pool ends its threads (close()) while their domains are released.
      if (this.#closed && host === pcpu.worker) hv.linger(domain.domid, pcpu.exited);
      return [];
    };
    if (err) {
      port1.close();
      // Its teardown (the builder's, after this throws) comes before its slot goes back.
      this.#giveBack(pcpu, slot, await leave(), domain);
      throw err;
    }
    const evict = async (): Promise<void> => {
      terminated = true;
      port1.close();
      if (host === pcpu.worker) {
        const exited = pcpu.exited;
        host.postMessage({ type: 'evict', domid: domain.domid } satisfies PcpuMessage);
        await Promise.race([gone, exited]);
      }
      // Its destroy, which this is part of (or which came first: the dying branch below), already
      // refuses its unpause and its other domctls.
      this.#giveBack(pcpu, slot, await leave());
    };
    // Destroyed while it was placed (xl destroy during the create, a host's close): the destroy
    // found no vCPU to stop, so the realm is evicted here and its slot freed, as vcpu.ts ends a
    // thread whose domain died while it started.
    if (domain.dying) {
      await evict();
      throw new XenError('ESRCH', `d${domain.domid} was destroyed while it was placed on its pCPU`);
    }
    const handle: ShellVcpu = {
      warm: true,
      mainCalled,
      parked,
      loadKernel(image: string | KernelScript, sched?: { weight?: number; cap?: number }) {
        if (hasKernel) throw new XenError('EBUSY', `d${domain.domid}: its vCPU has a kernel already`);
        hasKernel = true;
        pcpu.worker.postMessage({
          type: 'claim', domid: domain.domid, kernel: typeof image === 'string' ? image : image.url, identity: { name: domain.name, uuid: domain.uuid },
          weight: sched?.weight ?? CREDIT_DEFAULT_WEIGHT, cap: sched?.cap ?? 0,
        } satisfies PcpuMessage);
      },
      prepare(script: KernelScript) {
        if (!hasKernel) pcpu.prepare(script.url);
      },
      terminate: evict,
      cpuTime: () => pcpu.stats.cpuMs[slot]!,
      push(grant: PeerGrant) {
        port1.postMessage({ push: grant });
      },
    } satisfies VcpuHandle & ShellVcpu;
    hv.attachVcpu(domain.domid, handle);
    return handle;
  }

  /**
   * Give a placed domain's slot back once `until` has settled and, for a failed start, its
   * domain (`torn`) has been torn down (Domain.whenDestroyed, before its destroy returns): its
   * domid lives on until then, and an unpause of it (or any domctl that reaches its slot) would
   * reach the pause count of the slot's next domain.
   */
  #giveBack(pcpu: Pcpu, slot: number, until: Promise<void>[], torn?: Domain): void {
    const free = () => pcpu.freeSlot(slot);
    const afterTeardown = torn ? () => torn.whenDestroyed(free) : free;
    if (until.length === 0) afterTeardown();
    else void Promise.all(until).then(afterTeardown);
  }

  /** xl sched-credit -d: a domain's weight and cap. */
  setSched(domid: number, weight: number, cap: number): void {
    for (const p of this.#pcpus) {
      if (p.residents.has(domid)) p.worker.postMessage({ type: 'sched', domid, weight, cap } satisfies PcpuMessage);
    }
  }

  /** The JS heap of the domain's realm at its pCPU's last measurement (0 before the first). */
  heapBytes(domid: number): number | undefined {
    for (const p of this.#pcpus) {
      const r = p.residents.get(domid);
      if (r) return p.stats.heapBytes[r.slot];
    }
    return undefined;
  }

  hosts(domid: number): boolean {
    return this.#pcpus.some((p) => p.residents.has(domid));
  }

  /**
   * The watchdog: a turn that has run for longer than the bound is a guest that does not yield
   * (a loop, an Atomics.wait, a send on a lock word it forged). A thread cannot be interrupted
   * inside one realm without a cost on every turn (docs/ARCHITECTURE.md), so the pCPU thread is
   * reset: the culprit crashes, and its pool mates on that pCPU crash with it (their on_crash
   * applies); the other pCPUs run on. Between turns it watches the thread's loop the same way
   * (the liveness watchdog): a timer of the thread counts a beat (PCPU_BEAT_MS), so a thread that
   * neither ends a turn nor beats for twice the bound is held outside any turn (guest code that
   * V8 or Node ran there, which the realms are built to leave none of: docs/SECURITY.md), and
   * every domain on it has stopped; with no culprit to name, they all crash.
   */
  #check(): void {
    for (const p of this.#pcpus) {
      const cur = p.stats.current();
      const cpu = p.cpuMs();
      // Between turns only where /proc tells the thread's CPU time: in wall time alone, a loaded
      // host that delays the beat would reset idle threads.
      if (!cur && (!p.beating || cpu === undefined)) {
        p.watched = null;
        continue;
      }
      // Any turn (or place, or claim) begun since the last look is progress, as is a beat.
      const turn = `${Atomics.load(p.stats.words, PcpuStats.TURNS)}:${Atomics.load(p.stats.words, PcpuStats.TURN_START)}`;
      const key = cur ? `turn ${turn}:${cur.domid}` : `loop ${turn}:${Atomics.load(p.stats.words, PcpuStats.BEAT)}`;
      const now = performance.now();
      const w = p.watched;
      if (w?.key !== key) {
        p.watched = { key, cpu, wall: now, asleep: p.runnable() === false, spent: 0 };
        continue;
      }
      // CPU time decides wherever the OS tells it. Wall time would also count a thread that a
      // loaded host left without a core: at load 40 a turn of 290 ms of CPU took 10 s of wall
      // time, and a wall bound reset its pCPU, crashing 31 guests that had done nothing wrong.
      // But a turn asleep (an Atomics.wait, a lock held by a holder never judged dead) uses no
      // CPU at all and froze the pCPU for good: the time between two looks that both found its
      // thread asleep, with hardly any CPU run between them, counts in wall time. One look alone
      // would count a whole interval for an instant's sleep (a page fault, a GC helper awaited),
      // and a long honest turn on a loaded host would add those up to the bound. Between turns an
      // idle thread sleeps on its doorbell, but its beat moves: only a loop held counts.
      const wall = now - w.wall;
      const ran = cpu !== undefined && w.cpu !== undefined ? cpu - w.cpu : wall;
      const asleep = p.runnable() === false;
      w.spent += asleep && w.asleep && ran <= ASLEEP_CPU_MS ? wall : ran;
      w.asleep = asleep;
      w.cpu = cpu;
      w.wall = now;
      if (w.spent < (cur ? this.#watchdogMs : this.#loopMs)) continue;
      p.watched = null;
      const spent = Math.round(w.spent);
      if (cur) this.log(`cpupool ${this.name}: d${cur.domid} ran ${spent} ms on pCPU ${p.index} without yielding; resetting that pCPU`);
      else this.log(`cpupool ${this.name}: pCPU ${p.index}'s thread was held ${spent} ms outside any turn, its loop stopped (liveness watchdog); resetting that pCPU`);
      void this.#reset(p, cur?.domid ?? null);
    }
  }

  /**
   * The old thread has ended (or is past PCPU_EXIT_MS, logged) before its domains' peers are sent
   * their events again and its domains crash: the resend must not race the thread's own last
   * sends, nor read a table the thread still writes. The new thread starts first, so the old
   * one's exit is not taken for a loss (Pcpu.start).
   */
  async #reset(p: Pcpu, culprit: number | null): Promise<void> {
    const old = p.worker;
    const exited = p.exited;
    Atomics.store(p.stats.words, PcpuStats.RUNNING, 0);
    const victims = [...p.residents.values()];
    if (!this.#closed) p.start();
    const inTime = ended(old, this.#exitMs, () => this.log(`cpupool ${this.name}: pCPU ${p.index}'s reset thread did not end within ${this.#exitMs} ms`));
    p.resets.set(old, { inTime, exited });
    void exited.then(() => p.resets.delete(old));
    await inTime;
    for (const r of victims) r.resend();
    // The culprit first, so its crash is the one logged as the cause.
    victims.sort((a, b) => (a.domain.domid === culprit ? -1 : b.domain.domid === culprit ? 1 : 0));
    for (const r of victims) {
      r.onExit(r.domain.domid === culprit ? `did not yield for ${this.#watchdogMs} ms (watchdog)`
        : culprit === null ? `its pCPU was reset: its thread was held outside any turn for ${this.#loopMs} ms (liveness watchdog)`
        : `its pCPU was reset: d${culprit} did not yield`);
    }
  }

  /** The thread of a pCPU ended (out of heap, or a host bug): its domains' peers get their events again, its domains crash, a new thread takes its place. */
  lost(p: Pcpu, why: string): void {
    const cur = p.stats.current();
    const victims = [...p.residents.values()];
    for (const r of victims) r.resend();
    for (const r of victims) {
      const detail = cur?.domid === r.domain.domid ? `pCPU thread lost during its turn (${why})` : `pCPU thread lost (${why})`;
      r.onExit(detail);
    }
    // Its heartbeat says no turn runs, as #reset's does: the successor's would be taken for the lost turn.
    Atomics.store(p.stats.words, PcpuStats.RUNNING, 0);
    p.watched = null;
    if (!this.#closed) {
      this.log(`cpupool ${this.name}: pCPU ${p.index} ${why}${cur ? ` during d${cur.domid}'s turn` : ''}; restarting it`);
      p.start();
    }
  }

  /** cpupool-destroy: refused while domains are placed in it. */
  async destroy(): Promise<void> {
    if (this.domains > 0) throw new XenError('EBUSY', `cpupool ${this.name} still has ${this.domains} domain(s); destroy or move them first`);
    await this.close();
  }

  /**
   * End the pool's threads whatever they host (the host is closing): domains still placed crash.
   * Bounded: resolves with the number of threads that did not end (logged), never hangs.
   */
  async close(exitMs = PCPU_EXIT_MS): Promise<number> {
    this.#closed = true;
    clearInterval(this.#watchdog);
    for (const p of this.#pcpus) {
      p.stopping = true;
      for (const r of [...p.residents.values()]) r.onExit('its cpupool was closed');
    }
    const ended = await Promise.all(this.#pcpus.map((p) => p.stop(exitMs)));
    return ended.filter((ok) => !ok).length;
  }
}
