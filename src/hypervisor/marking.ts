// Who marks and sweeps a shared pool's heaps in V8's major GC: the pCPU thread whose heap it is,
// not the host process's helper threads.
import { setFlagsFromString } from 'node:v8';

let set = false;

/**
 * V8 marks a heap concurrently, and sweeps it after a major GC, on the process's platform
 * threads, which run at dom0's priority (nice 0), while a pCPU thread runs at GUEST_NICE. A pCPU
 * thread's heap holds hundreds of realms (about 220 MB for 500), and marking or sweeping it kept
 * up to four helpers busy for hundreds of milliseconds: the pCPU thread, with a tenth of their
 * weight, barely ran meanwhile, and the creates and turns it owed waited 150-700 ms (marking), or
 * 40-60 ms more in the pause (the sweepers it had just started; docs/PERFORMANCE.md, Density,
 * gc19). Without them V8 marks on the heap's own thread in incremental steps bounded in time, and
 * sweeps a page when that thread needs one: at that thread's priority and on its credit, as a
 * guest's own work. The work done while the thread waits in a pause (parallel marking,
 * compaction, scavenges) keeps its helpers: they shorten the wait.
 *
 * The flags are the process's: once a pool exists, dom0's heap (tens of MB) and Pool-0's are
 * marked and swept on their own threads too. V8 reads them when a marking or a sweep starts; one
 * already running finishes as it began (its pause or the next one joins its helpers).
 */
export function markHeapsOnTheirOwnThreads(): void {
  if (set) return;
  set = true;
  setFlagsFromString('--no-concurrent-marking');
  setFlagsFromString('--no-concurrent-sweeping');
}
