// Halt-polling for xenstored's sockets, as the hypervisor's UpcallLoop does it for event channels
// (and KVM for vCPUs): after the daemon has answered, its event loop keeps polling its sockets
// without sleeping for a short window, because a client with one request in flight sends the
// next a few tens of microseconds after its reply, and waking a sleeping daemon costs about as
// much on a virtual machine (docs/PERFORMANCE.md, xenstored). The loop polls without sleeping while a
// setImmediate is pending (libuv then waits with a timeout of 0), so I/O, timers and every other
// connection are served as usual meanwhile. The window adapts: it grows while requests arrive
// soon after the daemon went idle and shrinks to nothing while they do not, so an idle daemon
// never spins, and one whose clients are slow stops trying. Nor does it poll while the machine
// has more runnable tasks than CPUs (Linux's /proc/loadavg, looked at every few ms): spinning
// there only takes CPU from the clients, as KVM polls only while no other task wants the CPU.
import { Buffer } from 'node:buffer';
import { openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * The longest window: a client's turnaround with room for a slow minute. At 60 µs a minute in
 * which this VM ran slower (cxenstored's own watch latency 64-79 µs instead of 59-60) pushed the
 * turnaround past the window: the daemon slept after 32-47% of its answers in 4 of 7 runs, saw
 * each next read a wake-up late, and the window shrank. At 120 it slept after 5-9% in all 7, for
 * about 3% more CPU per request at depth 1 (docs/PERFORMANCE.md, the seventeenth quiet re-run).
 */
export const SOCKET_POLL_MAX_US = 120;
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

/** How long a look at the run queue holds (ms). */
export const RUNNABLE_LOOK_MS = 5;
const CPUS = availableParallelism();

/** Tasks runnable now, from /proc/loadavg's text ("0.5 0.4 0.3 RUNNING/THREADS LASTPID"); NaN if absent. */
export function runnableTasks(loadavg: string): number {
  const m = /^\S+ \S+ \S+ (\d+)\//.exec(loadavg);
  return m ? Number(m[1]) : NaN;
}

/**
 * Whether more tasks are runnable than there are `cpus` (the caller included), from `read`'s
 * /proc/loadavg text, looked at every RUNNABLE_LOOK_MS. A read that fails (no /proc/loadavg: not
 * Linux) means busy from then on, and is not tried again: no polling, as before polling existed,
 * and no failing system call (or exception in dom0's socket callback) at every answer.
 */
export function runQueueBusy(read: () => string, cpus: number, now: () => number = () => performance.now()): () => boolean {
  let lookedAt = -Infinity;
  let busy = true;
  return () => {
    const t = now();
    if (t - lookedAt >= RUNNABLE_LOOK_MS) {
      lookedAt = t;
      try {
        busy = !(runnableTasks(read()) <= cpus);
      } catch {
        busy = true;
        lookedAt = Infinity; // this look holds for good
      }
    }
    return busy;
  };
}

/** /proc/loadavg's text, through one descriptor the process keeps open (opened at the first read). */
function procLoadavg(): () => string {
  let fd: number | undefined;
  const buf = Buffer.alloc(128);
  return () => {
    fd ??= openSync('/proc/loadavg', 'r');
    return buf.toString('latin1', 0, readSync(fd, buf, 0, buf.length, 0));
  };
}

/** Whether this machine's CPUs are busy (runQueueBusy on /proc/loadavg). */
export const cpusBusy = runQueueBusy(procLoadavg(), CPUS);

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
    const idleUs = Math.round((now - this.#idleAt) * 1000); // whole µs: a float clock adds noise at the bound
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
