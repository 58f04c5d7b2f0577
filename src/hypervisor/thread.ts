// A vCPU's runstate as the OS scheduler sees its thread. The upcall loop's runstate word says
// only whether the loop waits for an event; the guest's own code may run all the same (a kernel
// that spins at its top level never reaches the loop), so `xl list` would show it blocked while
// it burns a core. Linux tells each thread's state in /proc: R is running or runnable, anything
// else (S, D) is asleep. Elsewhere these return undefined and callers fall back on the word.
import { readFileSync, readlinkSync } from 'node:fs';

/** The calling thread's kernel id (Linux), or undefined. */
export function currentThreadId(): number | undefined {
  try {
    const m = /\/task\/([0-9]+)$/.exec(readlinkSync('/proc/thread-self'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a thread of this process is on a CPU or waiting for one; undefined if unknown. */
export function threadRunnable(tid: number): boolean | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
    // pid (comm) state ...: comm may hold spaces and parentheses, so look after the last ')'.
    return stat.charAt(stat.lastIndexOf(')') + 2) === 'R';
  } catch {
    return undefined;
  }
}
