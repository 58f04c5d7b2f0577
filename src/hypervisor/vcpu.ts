// vCPUs are worker threads. Starting a thread and loading the guest runtime costs tens of
// milliseconds, so a pool keeps some started and idle; creating a domain then only hands one
// its boot message (DESIGN.md §2, §10).
import { MessageChannel, Worker, type ResourceLimits } from 'node:worker_threads';
import { XenError } from '../errors.js';
import type { PeerGrant } from './control.js';
import { serveControlPort } from './control.js';
import type { Domain, Hypervisor, RuntimeMarks, RuntimeMarksKind, VcpuHandle } from './hypervisor.js';
import { guestBuffers } from './memory.js';
import { monotonicToWall } from './monotonic.js';
import { CREDIT_DEFAULT_WEIGHT, niceForWeight } from './sched.js';
import { ThreadState } from './thread.js';

const REFILL_DELAY_MS = 100;

/** The one message a vCPU thread gets on its parentPort; everything after goes over `control`. */
export interface BootMessage {
  readonly type: 'boot';
  readonly buffers: Domain['view']['buffers'];
  readonly control: import('node:worker_threads').MessagePort;
  /**
   * URL of the kernel image (an ES module whose default export is main(os), or a script with
   * `source`); null for a shell, which boots the runtime and parks until a KernelMessage names
   * its kernel.
   */
  readonly kernel: string | null;
  /** The kernel is a script (toolstack/kernel.ts kernelScript): compiled from its code cache, not imported. */
  readonly source?: Pick<KernelScript, 'code' | 'cachedData'>;
  /** The thread's nice value (sched.ts). */
  readonly nice: number;
  /** The domain's name and uuid as xenstore has them; a shell's come with its kernel. */
  readonly identity?: { readonly name: string; readonly uuid: string };
  /** monotonic.ts's monotonicToWall() in dom0: the thread's boot marks are taken on dom0's clock. */
  readonly wall: number;
}

/**
 * A parked shell's second message on its parentPort: its kernel, the priority it runs at, and
 * the name and uuid the toolstack has just written to xenstore, so that the guest's critical
 * path needs no xenstore round trip (as LightVM's noxs hands a guest its details in a page).
 */
export interface KernelMessage {
  readonly type: 'kernel';
  /** The image's URL: an ES module, or a script (`script`) whose compiled form the shell may hold already. */
  readonly kernel: string;
  readonly script: boolean;
  /** A script the shell was not prepared with. */
  readonly source?: Pick<KernelScript, 'code' | 'cachedData'>;
  readonly nice: number;
  /**
   * The thread keeps the host's priority after its claim: dom0 lowers it to `nice` once the
   * boost runs out (sched `boostMs`, counted from the runtime's `program` status); the runtime
   * leaves it alone.
   */
  readonly boosted?: boolean;
  readonly name: string;
  readonly uuid: string;
  /**
   * The devids of the vifs its create gave it (a vif shell's own included): its first os.net()
   * then reads no vif list from xenstore. Absent where the toolstack did not say (the guest reads the list).
   */
  readonly vifs?: readonly number[];
}

/** What a claim tells a shell of the devices its create attached (KernelMessage). */
export interface KernelDevices {
  readonly vifs: readonly number[];
}

/** A kernel image linked as a script (toolstack/kernel.ts), with V8's code cache of it. */
export interface KernelScript {
  readonly url: string;
  readonly code: string;
  readonly cachedData: Uint8Array;
}

/** A parked shell compiles a script it may be handed (from the host's recent kernels) before its claim. */
export interface PrepareMessage extends KernelScript {
  readonly type: 'prepare';
}

/**
 * When a vCPU thread reached each step of its boot (performance.timeOrigin + now(), so the
 * host can subtract its own clock): the boot message, a shell's kernel, the domain's name read
 * from xenstore, the kernel linked.
 */
export interface BootMarks {
  booted: number;
  handed?: number;
  named?: number;
  linked?: number;
}

/** What a parked runtime tells of its park. */
export interface ParkReport {
  /**
   * A parked restore's vifs that did not connect before it parked (RestoreSpec.preconnect): the
   * toolstack refuses to resume it, as their handshakes would run in the downtime.
   */
  readonly unconnectedVifs?: readonly number[];
}

/** Messages a vCPU thread sends on its parentPort. */
export type VcpuStatus =
  /** `tid`: the thread's kernel id, where the OS has one (thread.ts). */
  | { readonly type: 'ready'; readonly tid?: number }
  /** A shell's runtime is up (console, xenstore, timer) and waits for its kernel (ParkReport). */
  | ({ readonly type: 'parked' } & ParkReport)
  | { readonly type: 'main'; readonly marks?: BootMarks }
  /** A boosted claim's runtime is done with its own work (a resume's): the program's code runs next. */
  | { readonly type: 'program' }
  /** Where a suspend's or a resume's time went in the runtime. */
  | { readonly type: 'marks'; readonly kind: RuntimeMarksKind; readonly marks: RuntimeMarks }
  | { readonly type: 'log'; readonly line: string };

export interface VcpuOptions {
  /** JS heap cap of the guest (its part of memory=). */
  readonly heapMb: number;
}

/** A vCPU thread that ended before it could take its domain. */
export class VcpuExited extends Error {
  override name = 'VcpuExited';
  constructor(detail: string) {
    super(`vCPU thread ${detail}`);
  }
}

/** What a vCPU thread is started with (its workerData). */
export interface VcpuThreadData {
  /** Whether it warms up (guest/warmup.ts) before it says it is ready. */
  readonly warmUp: boolean;
}

interface Spawned {
  readonly worker: Worker;
  /** Resolves with the thread's kernel id once the runtime is loaded. */
  readonly ready: Promise<number | undefined>;
  /** Why the thread ended after it was ready (before a vCPU took it over), if it did. */
  readonly ended: () => string | undefined;
}

/** A vCPU thread's V8 heap: its part of memory=, a quarter of it (at most 8 MiB) young. */
export function vcpuResourceLimits(heapMb: number): ResourceLimits {
  return { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: Math.max(1, Math.min(8, Math.floor(heapMb / 4))) };
}

/**
 * A thread of the runtime `image`. `idle`: it waits in the pool, and runs a boot's code once on
 * scratch memory meanwhile (guest/warmup.ts); a thread started for a domain now boots at once,
 * which compiles the same code, and skips it.
 */
function spawn(image: URL, opts: VcpuOptions, idle: boolean): Spawned {
  const resourceLimits = vcpuResourceLimits(opts.heapMb);
  // stdout/stderr are captured so nothing a guest does reaches the host's terminal except
  // through its PV console.
  const worker = new Worker(image, { resourceLimits, stdout: true, stderr: true, workerData: { warmUp: idle } satisfies VcpuThreadData });
  const ready = new Promise<number | undefined>((resolve, reject) => {
    const settle = () => {
      worker.off('message', onMsg);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMsg = (m: VcpuStatus) => {
      if (m.type !== 'ready') return;
      settle();
      resolve(m.tid);
    };
    const onError = (e: Error) => {
      settle();
      reject(new VcpuExited(`failed to start: ${e.message}`));
    };
    // A thread that ends before it is ready (its runtime failed to load) must not leave the
    // domain's builder waiting for ever.
    const onExit = (code: number) => {
      settle();
      reject(new VcpuExited(`exited with code ${code} before it was ready`));
    };
    worker.on('message', onMsg);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
  ready.catch(() => {});
  // Kept for the thread's life: between ready and startVcpu (an idle pool thread, or a fresh
  // one taken while its domain is built) an 'error' with no listener would throw in dom0, and
  // an end would go unseen, leaving the domain's builder waiting for its main().
  let end: string | undefined;
  worker.on('error', (e) => void (end ??= `failed: ${e.message}`));
  worker.on('exit', (code) => void (end ??= `exited with code ${code}`));
  return { worker, ready, ended: () => end };
}

/** A thread taken from the pool (`warm`: it was started before it was asked for) for startVcpu. */
export type VcpuThread = Spawned & { readonly warm: boolean };

/**
 * Where vCPU threads come from: pre-started ones, one pool per heap size, or fresh ones. The
 * toolstack names the guest runtime image the threads start from (the hypervisor does not
 * know the library OS).
 */
export class VcpuPool {
  #idle = new Map<number, Spawned[]>();
  /** The pool's own exit handler of each idle thread, taken off when the thread is handed out. */
  #onExit = new Map<Worker, () => void>();
  #target: number;
  #image: URL;
  #closed = false;

  constructor(opts: { size: number; image: URL }) {
    this.#target = opts.size;
    this.#image = opts.image;
  }

  /** Start pool threads for this heap size, without waiting for them. */
  warm(opts: VcpuOptions): void {
    if (this.#closed) return;
    const list = this.#idle.get(opts.heapMb) ?? [];
    this.#idle.set(opts.heapMb, list);
    while (list.length < this.#target) {
      const w = spawn(this.#image, opts, true);
      w.worker.unref(); // an idle pool must not keep the host alive
      const onExit = () => {
        this.#onExit.delete(w.worker);
        const i = list.indexOf(w);
        if (i >= 0) list.splice(i, 1);
      };
      this.#onExit.set(w.worker, onExit);
      w.worker.once('exit', onExit);
      list.push(w);
    }
  }

  /** Whether take() would hand out a thread started ahead (one that a failed create would waste). */
  hasIdle(opts: VcpuOptions): boolean {
    return (this.#idle.get(opts.heapMb)?.length ?? 0) > 0;
  }

  /** A started thread if one is ready, else a fresh one; refills in the background. */
  take(opts: VcpuOptions): VcpuThread {
    const list = this.#idle.get(opts.heapMb);
    const w = list?.shift();
    // Refill a little later: starting a thread takes a core for tens of milliseconds, and the
    // domain just taken is booting now.
    if (list) setTimeout(() => this.warm(opts), REFILL_DELAY_MS).unref();
    if (w) {
      w.worker.off('exit', this.#onExit.get(w.worker)!);
      this.#onExit.delete(w.worker);
      w.worker.ref();
      return { ...w, warm: true };
    }
    return { ...spawn(this.#image, opts, false), warm: false };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#idle.values()].flat();
    this.#idle.clear();
    this.#onExit.clear();
    await Promise.all(all.map((w) => w.worker.terminate()));
  }
}

/** A domain's vCPU once started, on a thread of its own or on a shared pCPU (cpupool.ts). */
export interface BootedVcpu extends VcpuHandle {
  /** Resolves when the guest's main() has been called, with its boot's marks where it has them. */
  readonly mainCalled: Promise<BootMarks | undefined>;
  /** Whether it started on a thread (or realm) that was ready before it was asked for. */
  readonly warm: boolean;
}

/** A vCPU that may be a shell's: on a thread of its own, or in a realm on a shared pCPU (cpupool.ts). */
export interface ShellVcpu extends BootedVcpu {
  /** Resolves when a shell's runtime waits for its kernel (never for a vCPU started with one), with its report where it made one. */
  readonly parked: Promise<ParkReport | void>;
  /**
   * Hand a shell its kernel (a module's URL, or a script; a realm's image for a realm), to run
   * at the credit scheduler's `weight` and `cap` (once: a vCPU started with a kernel has one).
   * `boostMs`: the program's code runs at the host's priority for that long first (the runtime's
   * own work before it does anyway), where the thread is one of its own and the OS names it (a
   * realm's pCPU is shared: it runs at its weight).
   */
  loadKernel(kernel: string | KernelScript, sched?: { readonly weight?: number; readonly cap?: number; readonly boostMs?: number }, devices?: KernelDevices): void;
  /** Let a parked shell compile a script ahead of its claim (once per script). */
  prepare(script: KernelScript): void;
}

export interface StartedVcpu extends ShellVcpu {
  readonly worker: Worker;
}

/** `taken`: a thread the caller took ahead (a fresh one starts while the domain is built); if the start is refused, the caller ends it. */
type StartOptions = VcpuOptions & { pool: VcpuPool; onLog?: (line: string) => void; weight?: number; taken?: VcpuThread };

/**
 * A domain destroyed before its vCPU started (during the build's device attach): dying, and
 * reaped at once unless a backend still maps it, so its memory may be another domain's already
 * and no thread or realm is handed it (both startVcpu, here and cpupool.ts).
 */
export function destroyedBeforeStart(domain: Domain): XenError {
  return new XenError('ESRCH', `d${domain.domid} was destroyed before its vCPU started`);
}

/**
 * Give a domain its vCPU: a thread from the pool gets the boot message and a private
 * control port served by the hypervisor. The vCPU's death without a shutdown is a crash.
 */
export function startVcpu(
  hv: Hypervisor,
  domain: Domain,
  kernel: string | KernelScript | null,
  opts: StartOptions,
): Promise<StartedVcpu> {
  if (domain.dying) return Promise.reject(destroyedBeforeStart(domain));
  const started = boot(hv, domain, kernel, opts);
  // Until it is attached, a destroy finds no vCPU to stop while the thread may boot on the memory.
  hv.linger(domain.domid, started);
  return started;
}

async function boot(
  hv: Hypervisor,
  domain: Domain,
  kernel: string | KernelScript | null,
  opts: StartOptions,
): Promise<StartedVcpu> {
  const { worker, ready, ended, warm } = opts.taken ?? opts.pool.take(opts);
  const { port1, port2 } = new MessageChannel();
  serveControlPort(port1, hv.controlPlane(domain.domid), () => {
    opts.onLog?.(`d${domain.domid}: flooded the control plane; crashing it`);
    if (!domain.dying && !domain.shutdownReason) hv.shutdownDomain(domain.domid, 'crash');
  });
  let terminated = false;
  let mainResolve!: (marks: BootMarks | undefined) => void;
  let mainReject!: (e: Error) => void;
  const mainCalled = new Promise<BootMarks | undefined>((res, rej) => ((mainResolve = res), (mainReject = rej)));
  mainCalled.catch(() => {});
  let parkedResolve!: (r: ParkReport) => void;
  const parked = new Promise<ParkReport>((res) => (parkedResolve = res));
  let hasKernel = kernel !== null;
  /** Scripts this shell has compiled (prepare). */
  const prepared = new Set<string>();
  const reported = new Map<RuntimeMarksKind, RuntimeMarks>();
  const drain = (stream: NodeJS.ReadableStream) =>
    stream.on('data', (b: Buffer) => opts.onLog?.(b.toString('utf8').trimEnd()));
  drain(worker.stdout);
  drain(worker.stderr);
  worker.on('message', (m: VcpuStatus) => {
    if (m.type === 'main') mainResolve(m.marks);
    else if (m.type === 'parked') parkedResolve({ ...(m.unconnectedVifs && { unconnectedVifs: m.unconnectedVifs }) });
    else if (m.type === 'log') opts.onLog?.(m.line);
    else if (m.type === 'marks') reported.set(m.kind, m.marks);
  });
  const crashed = (why: string) => {
    if (terminated) return;
    opts.onLog?.(`d${domain.domid}: vCPU died: ${why}`);
    mainReject(new Error(why));
    if (!domain.dying && !domain.shutdownReason) hv.shutdownDomain(domain.domid, 'crash');
  };
  // Posted before the thread is ready: a fresh thread (a cold create) finds it queued once its
  // runtime has loaded and starts its boot while dom0 hears of its `ready`, instead of going
  // idle until dom0 has heard and posted. Its upcall loop waits while the domain is paused (the
  // builder unpauses it once this returns), and a thread that ends first fails this as before.
  const boot: BootMessage = {
    type: 'boot', buffers: guestBuffers(domain.view.buffers), control: port2, kernel: typeof kernel === 'string' || kernel === null ? kernel : kernel.url,
    ...(kernel !== null && typeof kernel !== 'string' && { source: { code: kernel.code, cachedData: kernel.cachedData } }),
    nice: niceForWeight(opts.weight ?? CREDIT_DEFAULT_WEIGHT), ...(kernel !== null && { identity: { name: domain.name, uuid: domain.uuid } }),
    wall: monotonicToWall(),
  };
  worker.postMessage(boot, [port2]);
  let tid: number | undefined;
  try {
    tid = await ready;
    const end = ended();
    if (end !== undefined) throw new VcpuExited(`${end} before its domain started`);
    // Destroyed while the thread booted (xl destroy during the create, a host's close): the
    // destroy found no vCPU to stop, and none is attached to a dying domain, so the thread ends
    // here (a booted thread waits for an unpause that never comes, and keeps the process alive).
    if (domain.dying) {
      await worker.terminate();
      throw new XenError('ESRCH', `d${domain.domid} was destroyed while its vCPU thread started`);
    }
  } catch (e) {
    // Not the domain's crash: it never ran. The builder tears the domain down.
    port1.close();
    throw e;
  }
  // Registered once ready: an earlier end rejected `ready` instead.
  worker.on('error', (e) => crashed(e.message));
  worker.on('exit', (code) => crashed(`thread exited with code ${code}`));
  const thread = tid === undefined ? undefined : ThreadState.open(tid);
  worker.once('exit', () => thread?.close());
  const handle: StartedVcpu = {
    worker,
    warm,
    mainCalled,
    parked,
    loadKernel(image: string | KernelScript, sched?: { weight?: number; boostMs?: number }, devices?: KernelDevices) {
      if (hasKernel) throw new XenError('EBUSY', `d${domain.domid}: its vCPU has a kernel already`);
      hasKernel = true;
      const script = typeof image === 'string' ? undefined : image;
      const nice = niceForWeight(sched?.weight ?? CREDIT_DEFAULT_WEIGHT);
      const boosted = sched?.boostMs !== undefined && tid !== undefined && thread !== undefined;
      const m: KernelMessage = {
        type: 'kernel', kernel: script?.url ?? (image as string), script: script !== undefined,
        ...(script && !prepared.has(script.url) && { source: { code: script.code, cachedData: script.cachedData } }),
        nice, ...(boosted && { boosted }), name: domain.name, uuid: domain.uuid, ...(devices && { vifs: devices.vifs }),
      };
      worker.postMessage(m);
      // dom0 lowers it, so it holds however the program's code behaves; not once the thread ended.
      if (boosted) {
        worker.on('message', function onProgram(s: VcpuStatus) {
          if (s.type !== 'program') return;
          worker.off('message', onProgram);
          worker.once('exit', thread!.reniceLater(nice, sched.boostMs!));
        });
      }
    },
    prepare(script: KernelScript) {
      if (hasKernel || prepared.has(script.url)) return;
      prepared.add(script.url);
      worker.postMessage({ type: 'prepare', ...script } satisfies PrepareMessage);
    },
    async terminate() {
      terminated = true;
      port1.close();
      await worker.terminate();
    },
    cpuTime: () => worker.performance.eventLoopUtilization().active,
    running: () => thread?.runnable(),
    nice: () => thread?.nice(),
    marks: (kind) => reported.get(kind),
    push(grant: PeerGrant) {
      port1.postMessage({ push: grant });
    },
  };
  hv.attachVcpu(domain.domid, handle);
  return handle;
}
