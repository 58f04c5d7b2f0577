// CPU time of each thread of this process, from Linux's per-task counters, for benches that say
// which thread a figure is bound by (dom0's main thread, each guest's vCPU thread, Node's workers).
// The counters count CPU a thread really got, where event-loop utilisation counts wall time
// (a runnable thread that is preempted looks busy).
import { readdirSync, readFileSync } from 'node:fs';

/** CPU nanoseconds each thread of this process has used, by thread id (Linux's schedstat; empty elsewhere). */
export function threadCpuNs(): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        // "time on the CPU (ns) waiting time (ns) timeslices"
        out.set(Number(tid), Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1').split(' ')[0]));
      } catch { /* the thread ended */ }
    }
  } catch { /* no /proc */ }
  return out;
}

/** CPU seconds each thread used between two `threadCpuNs()` readings (threads gone meanwhile left out). */
export function threadCpuSince(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number> = threadCpuNs()): Map<number, number> {
  const out = new Map<number, number>();
  for (const [tid, ns] of after) out.set(tid, (ns - (before.get(tid) ?? 0)) / 1e9);
  return out;
}

const VOLUNTARY = /^voluntary_ctxt_switches:\s+(\d+)/m;
const INVOLUNTARY = /^nonvoluntary_ctxt_switches:\s+(\d+)/m;

function switches(status: string, line: RegExp): number {
  return Number(line.exec(status)?.[1] ?? NaN);
}

/** What threadSlices tells of a thread. */
export interface ThreadSlices {
  slices: number;
  cpuNs: number;
  waitNs: number;
  sleeps: number;
  preempted: number;
}

/**
 * Each named thread's times on a CPU (Linux's timeslices: every wake-up, and every return after a
 * preemption), its ns on a CPU and runnable but waiting for one, and the two kinds of leaving the
 * CPU apart: `sleeps` (voluntary context switches: it blocked, so a wake-up followed) and
 * `preempted` (involuntary ones). The threads are this process's, or process `pid`'s.
 */
export function threadSlices(tids: Iterable<number>, pid: number | 'self' = 'self'): Map<number, ThreadSlices> {
  const out = new Map<number, ThreadSlices>();
  for (const tid of tids) {
    try {
      const f = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ');
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'latin1');
      out.set(tid, { slices: Number(f[2]), cpuNs: Number(f[0]), waitNs: Number(f[1]), sleeps: switches(status, VOLUNTARY), preempted: switches(status, INVOLUNTARY) });
    } catch { /* the thread ended, or no /proc */ }
  }
  return out;
}
