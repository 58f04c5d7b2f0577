// The vCPU thread of a domain. It loads the library OS while idle in the pool; its boot
// message gives it a domain, and then it does what a PV kernel's early boot does (start.ts).
// A shell's boot message names no kernel: it parks until a KernelMessage does.
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { portChannel, type PeerGrant } from '../hypervisor/control.js';
import { Hypercalls } from '../hypervisor/hypercalls.js';
import { DomainView } from '../hypervisor/memory.js';
import { currentThreadId } from '../hypervisor/thread.js';
import { monotonicMs } from '../hypervisor/monotonic.js';
import { HALT_POLL_MAX_US } from '../hypervisor/upcall.js';
import type { BootMessage, KernelMessage, PrepareMessage, VcpuStatus, VcpuThreadData } from '../hypervisor/vcpu.js';
import * as library from './index.js';
import { CompiledKernel } from './kernel-script.js';
import { preloadV8 } from './lazy-v8.js';
import { startGuest } from './start.js';
import { warmUp } from './warmup.js';

// Guest stacks should name the guest's own source lines, not the linked image's.
process.setSourceMapsEnabled(true);

// Guest kernels import 'xenode' from this same image (see image.ts).
export * from './index.js';

const parent = parentPort!;
const MAIN_CALLED = Symbol.for('xenode.mainCalled');
const status = (m: VcpuStatus) => parent.postMessage(m);
/**
 * How long after main() a guest loads node:v8 (lazy-v8.ts) for a suspend: after the create's
 * reply and the program's first steps (a summoned server joins its first connection 8 ms after
 * the claim on a quiet host, docs/PERFORMANCE.md), long before a suspend is likely.
 */
const V8_AFTER_MAIN_MS = 250;

function setNice(nice: number): void {
  try {
    setPriority(nice); // this thread only (Linux); lowering it may need privilege
  } catch {
    /* the guest runs at the host process's priority */
  }
}

/** A shell's kernel, when the toolstack claims it. */
function kernelMessage(): Promise<KernelMessage> {
  return new Promise((resolve) => {
    const on = (m: KernelMessage) => {
      if (m?.type !== 'kernel') return;
      parent.off('message', on);
      resolve(m);
    };
    parent.on('message', on);
  });
}

/** A vCPU that has shut down is never scheduled again: block the thread until it is destroyed. */
function deschedule(): never {
  const forever = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(forever, 0, 0);
}

const link = (url: string) => import(url) as Promise<{ default?: unknown }>;

/** Scripts compiled while parked (PrepareMessage), by image URL; the one claimed, for its stack traces. */
const compiled = new Map<string, CompiledKernel>();
let claimed: CompiledKernel | undefined;

function prepare(m: PrepareMessage): void {
  if (m?.type !== 'prepare' || compiled.has(m.url)) return;
  try {
    compiled.set(m.url, new CompiledKernel(m));
  } catch {
    /* compiled again (and its error reported) if it is claimed */
  }
}

/** A script kernel: compiled already when the host prepared this shell with it, else from `source`. */
async function runScript(url: string, source: KernelMessage['source']): Promise<{ default?: unknown }> {
  claimed = compiled.get(url) ?? new CompiledKernel({ url, code: source?.code ?? '', cachedData: source?.cachedData ?? new Uint8Array() });
  compiled.clear();
  return claimed.run(library);
}

/**
 * A kernel handed with the boot. A script is compiled now and its top level runs once the
 * platform is up (`up`), from a microtask, as an imported module's would, with one frame of the
 * runtime's under a crash's stack (create's error quotes the console's last lines), and at the
 * guest's priority, taken just before: the runtime's early boot runs at the host's, as a shell's
 * does, so that on a busy host each of its round trips with dom0 does not wait for a core at
 * nice 10 (docs/PERFORMANCE.md, issue 17, cold16). A module's import runs its top level as it
 * links: the thread takes its priority first.
 */
function loadBooted(msg: BootMessage, up: Promise<void>): Promise<{ default?: unknown }> {
  if (!msg.source) {
    setNice(msg.nice);
    return link(msg.kernel!);
  }
  // Compiled at the host's priority, as a parked shell's prepare is: no kernel code runs (only V8
  // reads its code cache, or parses the image dom0 linked itself), and it fills the wait for the
  // unpause; after setNice it would wait for a core at nice 10 on the create's path.
  const kernel = (claimed = new CompiledKernel({ url: msg.kernel!, ...msg.source }));
  return up.then(() => {
    setNice(msg.nice);
    return kernel.run(library);
  });
}

function boot(msg: BootMessage): void {
  const view = new DomainView(msg.buffers);
  const channel = portChannel(msg.control);
  const hc = new Hypercalls(view, channel);
  channel.onPush((g) => hc.adoptPeer(g as PeerGrant));
  // The runtime boots at the host's priority, so that a shell's claim wakes it as fast as a
  // thread of dom0's (a thread cannot raise its priority again unprivileged) and a booted
  // kernel's platform comes up as fast; each takes its own before its kernel runs (loadBooted;
  // start.ts: a restored shell after its resume's vifs and stacks).
  let platformUp!: () => void;
  const up = new Promise<void>((resolve) => (platformUp = resolve));
  startGuest({
    hc,
    loop: { pausable: true, haltPollUs: HALT_POLL_MAX_US, pollOnlyWhenExpected: true },
    loadKernel: () => (msg.kernel === null ? null : loadBooted(msg, up)),
    platformUp,
    ...(msg.identity && { identity: msg.identity }),
    wallNow: () => monotonicMs() + msg.wall,
    preloadWhileParked: true,
    park: async (report) => {
      parent.on('message', prepare);
      // The claim's renice (ownPriority) then runs compiled: the call once now, to the priority
      // the thread has (a no-op for the kernel), costs a claim 30 us less.
      try {
        setNice(getPriority());
      } catch {
        /* only a warm-up */
      }
      // Not at the claim: a restore's claim reads its record in the downtime.
      preloadV8();
      status({ type: 'parked', ...report });
      const k = await kernelMessage();
      parent.off('message', prepare);
      return {
        name: k.name, uuid: k.uuid, ...(k.vifs && { vifs: k.vifs }), load: () => (k.script ? runScript(k.kernel, k.source) : link(k.kernel)), ownPriority: () => (k.boosted ? status({ type: 'program' }) : setNice(k.nice)),
      };
    },
    mapStack: (text) => claimed?.mapStack(text) ?? text,
    mainCalled: (marks) => {
      // A boot's path (a claim's: handed) is compiled now: the entry (bin/vcpu-thread.cjs) makes
      // a code cache that holds it, unless this thread started from one.
      (globalThis as { [MAIN_CALLED]?: (claimed: boolean) => void })[MAIN_CALLED]?.(marks.handed !== undefined);
      status({ type: 'main', marks });
      // Unref'd: a timer of the runtime's own never keeps the thread's event loop alive.
      setTimeout(preloadV8, V8_AFTER_MAIN_MS).unref();
    },
    report: (kind, marks) => status({ type: 'marks', kind, marks }),
    onUncaught: (crash) => {
      process.on('uncaughtException', crash);
      process.on('unhandledRejection', crash);
    },
    deschedule: async () => deschedule(),
  });
}

function ready(): void {
  parent.once('message', (msg: BootMessage) => boot(msg));
  status({ type: 'ready', tid: currentThreadId() });
}

// Only a thread that will wait in the pool warms up: one started for a domain boots now. (No
// top-level await: the runtime is a script, bin/link.js.)
if ((workerData as VcpuThreadData | null)?.warmUp === true) void warmUp().then(ready);
else ready();
