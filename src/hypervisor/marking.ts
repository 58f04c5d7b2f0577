// Who marks a shared pool's heaps in V8's major GC: the pCPU thread whose heap it is, not the
// host process's helper threads.
import { setFlagsFromString } from 'node:v8';

let set = false;

/**
 * V8 marks a heap concurrently on the process's platform threads, which run at dom0's priority
 * (nice 0), while a pCPU thread runs at GUEST_NICE. A pCPU thread's heap holds hundreds of realms
 * (about 220 MB for 500), and marking it kept up to four helpers busy for hundreds of milliseconds:
 * the pCPU thread, with a tenth of their weight, barely ran meanwhile, and the creates and turns
 * it owed waited 150-700 ms (docs/PERFORMANCE.md, Density, gc19). Without concurrent marking V8
 * marks on the heap's own thread, in incremental steps bounded in time, at that thread's priority
 * and on its credit, as a guest's own work. The pause's parallel marking is kept: the thread waits
 * then, and the helpers shorten its wait.
 *
 * The flag is the process's: once a pool exists, dom0's heap (tens of MB) and Pool-0's are
 * marked on their own threads too. V8 reads it when a marking starts; a marking already running
 * finishes as it began (its pause joins the helpers under --parallel-marking).
 */
export function markHeapsOnTheirOwnThreads(): void {
  if (set) return;
  set = true;
  setFlagsFromString('--no-concurrent-marking');
}
