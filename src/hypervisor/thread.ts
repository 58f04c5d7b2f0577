// A vCPU's runstate as the OS scheduler sees its thread. The upcall loop's runstate word says
// only whether the loop waits for an event; the guest's own code may run all the same (a kernel
// that spins at its top level never reaches the loop), so `xl list` would show it blocked while
// it burns a core. Linux tells each thread's state in /proc: R is running or runnable, anything
// else (S, D) is asleep. Elsewhere these return undefined and callers fall back on the word.
import { closeSync, existsSync, openSync, readSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The calling thread's kernel id (Linux), or undefined. */
export function currentThreadId(): number | undefined {
  try {
    const m = /\/task\/([0-9]+)$/.exec(readlinkSync('/proc/thread-self'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a thread of this process has ended: true once the kernel no longer lists it, undefined
 * where /proc does not tell (then nobody may judge it dead).
 */
export function threadGone(tid: number): boolean | undefined {
  try {
    if (!existsSync('/proc/thread-self')) return undefined;
    return !existsSync(`/proc/self/task/${tid}`);
  } catch {
    return undefined;
  }
}

/** Reads one thread's state; the file stays open, so a read is one pread (a few µs, not an open and a close). */
export class ThreadState {
  #fd: number | null;
  readonly #buf = Buffer.alloc(512);

  private constructor(readonly tid: number, fd: number) {
    this.#fd = fd;
  }

  /** A reader for a thread of this process, or undefined where /proc does not tell. */
  static open(tid: number): ThreadState | undefined {
    try {
      return new ThreadState(tid, openSync(`/proc/self/task/${tid}/stat`, 'r'));
    } catch {
      return undefined;
    }
  }

  /** Whether the thread is on a CPU or waiting for one; undefined once it is gone or closed. */
  runnable(): boolean | undefined {
    if (this.#fd === null) return undefined;
    try {
      // "pid (comm) state ...": comm is at most 16 bytes but may hold spaces and parentheses.
      const n = readSync(this.#fd, this.#buf, 0, this.#buf.length, 0);
      const text = this.#buf.toString('latin1', 0, n);
      return text.charAt(text.lastIndexOf(')') + 2) === 'R';
    } catch {
      return undefined;
    }
  }

  /** CPU time the thread has used (utime + stime, in ms), or undefined once it is gone. */
  cpuMs(): number | undefined {
    // After "(comm) ": state is field 3, utime 14 and stime 15, in USER_HZ (100) ticks.
    const f = this.#fields();
    return f && (Number(f[11]) + Number(f[12])) * 10;
  }

  /** The thread's nice value (field 19), or undefined once it is gone. */
  nice(): number | undefined {
    const f = this.#fields();
    return f && Number(f[16]);
  }

  /**
   * Give the thread the nice value `nice`, `ms` from now (Linux renices one thread by its id;
   * lowering needs no privilege). Returns what cancels it, for when the thread ends. The timer
   * may fire before that (an 'exit' event comes after the thread's end), when the id may be
   * another thread's already: the stat file held open then reads nothing (it is the old
   * thread's), and nothing is reniced.
   */
  reniceLater(nice: number, ms: number): () => void {
    const timer = setTimeout(() => {
      if (this.#fields() === undefined) return;
      try {
        setPriority(this.tid, nice);
      } catch {
        /* gone meanwhile, or no such call here */
      }
    }, ms);
    return () => clearTimeout(timer);
  }

  /** The stat line's fields from the state on (field 3 first). */
  #fields(): string[] | undefined {
    if (this.#fd === null) return undefined;
    try {
      const n = readSync(this.#fd, this.#buf, 0, this.#buf.length, 0);
      const text = this.#buf.toString('latin1', 0, n);
      return text.slice(text.lastIndexOf(')') + 2).split(' ');
    } catch {
      return undefined;
    }
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}
