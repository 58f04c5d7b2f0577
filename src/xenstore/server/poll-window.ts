// Halt-polling for xenstored's sockets, as the hypervisor's UpcallLoop does it for event channels
// (and KVM for vCPUs): after the daemon has answered, its event loop keeps polling its sockets
// without sleeping for a short window, because a client with one request in flight sends the
// next a few tens of microseconds after its reply, and waking a sleeping daemon costs about as
// much on a virtual machine (docs/PERFORMANCE.md, xenstored). The loop polls without sleeping while a
// setImmediate is pending (libuv then waits with a timeout of 0), so I/O, timers and every other
// connection are served as usual meanwhile. The window adapts: it grows while requests arrive
// soon after the daemon went idle and shrinks to nothing while they do not, so an idle daemon
// never spins, and one whose clients are slow stops trying. Nor does it poll while other tasks
// want its CPU (runDelayBusy: how long the thread waits for a CPU, from Linux's schedstat):
// spinning there only takes CPU from the clients, as KVM polls only while no other task wants
// the CPU.
import { Buffer } from 'node:buffer';
import { openSync, readSync } from 'node:fs';

/** The longest window: a client's turnaround on a quiet machine, with room. */
export const SOCKET_POLL_MAX_US = 60;
/** The first window after none. */
export const SOCKET_POLL_START_US = 10;
/**
 * A pass of the polling loop normally takes a few µs; one this long means the thread was
 * preempted (or busy with other work, when there is no need to poll). On a loaded machine a
 * spinning daemon only takes CPU from its clients, and loses the wake-up priority a sleeper
 * gets, so polling stops for a while, as KVM stops when other tasks want the CPU.
 */
export const SOCKET_POLL_PREEMPTED_US = 200;
/**
 * How long polling stays off after a preempted pass. Short: a VM's vCPU is also preempted now and
 * then on an idle host (20 ms kept polling off for most of a depth-1 run).
 */
export const SOCKET_POLL_BACKOFF_MS = 2;

/** How long a look at the thread's waits holds (ms). */
export const GATE_LOOK_MS = 5;

/** A /proc file's text, through one descriptor the process keeps open (opened at the first read). */
function procFile(path: string): () => string {
  let fd: number | undefined;
  const buf = Buffer.alloc(128);
  return () => {
    fd ??= openSync(path, 'r');
    return buf.toString('latin1', 0, readSync(fd, buf, 0, buf.length, 0));
  };
}

/** A thread's time on a CPU and time runnable but waiting for one (ns), from schedstat's text ("CPU_NS DELAY_NS SLICES"); NaNs if absent. */
export function schedTimes(schedstat: string): { onCpuNs: number; waitNs: number } {
  const m = /^(\d+) (\d+) \d+/.exec(schedstat);
  return m ? { onCpuNs: Number(m[1]), waitNs: Number(m[2]) } : { onCpuNs: NaN, waitNs: NaN };
}

/** Of the time the thread wanted a CPU, the share it waits for one beyond which other tasks want its CPU. */
export const WAIT_SHARE_BUSY = 0.1;
/** How fast the gate forgets: the weight of what it saw halves every this many ms. */
export const WAIT_HALF_LIFE_MS = 50;

/**
 * Whether other tasks want this thread's CPU, from `read`'s schedstat text (the thread's time on
 * a CPU and its run delay, the time it was runnable but waited), looked at every GATE_LOOK_MS:
 * busy while, of the time the thread wanted a CPU lately, it waited more than WAIT_SHARE_BUSY.
 * The waits are the scheduler's own verdict, so tasks that merely exist do not count. The
 * runnable count in /proc/loadavg, the gate before this one, counted the daemon itself, the
 * client it serves on the other CPU and tasks of lower priority alike, and closed the gate for
 * whole runs on a quiet machine (docs/PERFORMANCE.md, xenstored, xsw17). While the daemon
 * polls, a task that wants its CPU makes it wait (the scheduler shares the CPU), so polling
 * stops; while it sleeps, the waits after its wake-ups say the same. Recent looks weigh most
 * (WAIT_HALF_LIFE_MS), so one preemption does not flip the gate. A read that fails (no
 * schedstat: not Linux) means busy from then on, and is not tried again: no polling, as before
 * polling existed, and no failing system call (or exception in dom0's socket callback) at every
 * answer.
 */
export function runDelayBusy(read: () => string, now: () => number = () => performance.now()): () => boolean {
  let lookedAt = -Infinity;
  let last: { onCpuNs: number; waitNs: number } | undefined;
  let waited = 0;
  let wanted = 0;
  let busy = false;
  return () => {
    const t = now();
    if (t - lookedAt < GATE_LOOK_MS) return busy;
    let times;
    try {
      times = schedTimes(read());
    } catch {
      times = { onCpuNs: NaN, waitNs: NaN };
    }
    if (Number.isNaN(times.waitNs)) {
      lookedAt = Infinity; // this look holds for good
      return (busy = true);
    }
    if (last) {
      const keep = 0.5 ** ((t - lookedAt) / WAIT_HALF_LIFE_MS);
      const waitNs = times.waitNs - last.waitNs;
      waited = waited * keep + waitNs;
      wanted = wanted * keep + waitNs + times.onCpuNs - last.onCpuNs;
      busy = waited > WAIT_SHARE_BUSY * wanted;
    }
    last = times;
    lookedAt = t;
    return busy;
  };
}

/**
 * Whether other tasks want the CPU of the thread that asks first (runDelayBusy on its schedstat):
 * the daemon's event loop, the thread that polls.
 */
export const cpusBusy = runDelayBusy(procFile('/proc/thread-self/schedstat'));

/**
 * What this process's windows did since it started: answers, answers the gate kept from polling
 * (a window was due), windows polled, and preempted passes. The bench reads them through its
 * daemon's process (bench/support/xenstored-process.ts) to tell whether the gate was open.
 */
export const pollCounts = { answers: 0, gated: 0, windows: 0, preempted: 0 };

export class PollWindow {
  #windowUs = 0;
  /** While polling: when the window ends (ms). */
  #until = 0;
  #polling = false;
  /** When the daemon last answered and went idle (ms), or -1 if a read has come since. */
  #idleAt = -1;
  /** The last pass of the polling loop (ms). */
  #spunAt = 0;
  /** No polling before this time (ms): a pass was preempted. */
  #offUntil = 0;

  constructor(
    private readonly maxUs = SOCKET_POLL_MAX_US,
    /** Milliseconds, as performance.now() (tests pass their own clock). */
    private readonly now: () => number = () => performance.now(),
    /** Whether other tasks want the CPUs now (then the daemon sleeps at once). */
    private readonly busy: () => boolean = cpusBusy,
  ) {}

  /** The current window in µs (0: the daemon sleeps as soon as it is idle). */
  get windowUs(): number {
    return this.#windowUs;
  }

  get polling(): boolean {
    return this.#polling;
  }

  /** Whether the CPUs have room beside the daemon (the gate polling uses). */
  get cpusFree(): boolean {
    return !this.busy();
  }

  /**
   * A read came. If the daemon had stopped polling and slept, adapt the window to how long it
   * was idle (polling included, as KVM counts it): a wait the longest window would have covered
   * grows it, a longer one shrinks it. A read that came while polling changes nothing.
   */
  input(): void {
    if (this.#polling || this.#idleAt < 0) return;
    const now = this.now();
    const idleUs = (now - this.#idleAt) * 1000;
    this.#idleAt = -1;
    if (now < this.#offUntil) return;
    if (idleUs <= this.maxUs) {
      this.#windowUs = Math.min(this.maxUs, this.#windowUs === 0 ? SOCKET_POLL_START_US : this.#windowUs * 2);
    } else {
      this.#windowUs = this.#windowUs <= SOCKET_POLL_START_US ? 0 : this.#windowUs / 2;
    }
  }

  /** The daemon answered and has nothing left to do: poll for the window, then sleep. */
  answered(): void {
    const now = this.now();
    this.#idleAt = now;
    pollCounts.answers++;
    if (this.#windowUs === 0) return;
    if (!this.#polling && this.busy()) {
      pollCounts.gated++;
      return;
    }
    this.#until = now + this.#windowUs / 1000;
    if (this.#polling) return;
    pollCounts.windows++;
    this.#polling = true;
    this.#spunAt = now;
    setImmediate(this.#spin);
  }

  readonly #spin = (): void => {
    const now = this.now();
    if ((now - this.#spunAt) * 1000 >= SOCKET_POLL_PREEMPTED_US) {
      pollCounts.preempted++;
      this.#windowUs = 0;
      this.#offUntil = now + SOCKET_POLL_BACKOFF_MS;
    } else if (now < this.#until) {
      this.#spunAt = now;
      setImmediate(this.#spin);
      return;
    }
    this.#polling = false;
  };
}
