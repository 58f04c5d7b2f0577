// Who marks and sweeps a heap in V8's major GC in a host's process: the thread whose heap it is,
// not the process's helper threads. Imported for its effect by hypervisor.ts, and first by the
// entry points that load the host later (the CLI's program.ts, bin/bench.js, and the benches
// that run in a process of their own: xenstore, density, shells, support/migrate-host), so that
// it runs at the process's start. `npm test` gives its test processes MARKING_FLAGS on the
// command line, in package.json (a preload would run in every vCPU thread too): one that loaded
// this module with the host, after its other modules, once died in V8's concurrent marker
// (Check failed: marking_state_.GreyToBlack), the hazard described below.
import { setFlagsFromString } from 'node:v8';
import { isMainThread } from 'node:worker_threads';

/**
 * V8 marks a heap concurrently, and sweeps it after a major GC, on the process's platform
 * threads, which run at dom0's priority (nice 0), while guests' threads run at GUEST_NICE. A
 * shared pool's pCPU heap holds hundreds of realms (about 220 MB for 500), and marking or
 * sweeping it kept up to four helpers busy for hundreds of milliseconds: the pCPU thread, with a
 * tenth of their weight, barely ran meanwhile, and the creates and turns it owed waited 150-700 ms
 * (marking), or 40-60 ms more in the pause (the sweepers it had just started; docs/PERFORMANCE.md,
 * Density, gc19). Without them V8 marks on the heap's own thread in incremental steps bounded in
 * time, and sweeps a page when that thread needs one: at that thread's priority and on its
 * credit, as a guest's own work (nor can a guest that allocates hard have its marking done at
 * dom0's priority). The work done while a thread waits in a pause (parallel marking, compaction,
 * scavenges) keeps its helpers: they shorten the wait.
 *
 * The flags are the process's, so dom0's heap and Pool-0's are marked on their own threads too:
 * dom0 did 7 major GCs in a whole www-guests run. They are set here, before any heap can have
 * begun a marking, and not when a pool is created: a scavenge pauses a running concurrent
 * marking only while --concurrent-marking is on (V8's ConcurrentMarking::PauseScope reads it),
 * so turning it off under a marking in progress would let a scavenge move objects beneath the
 * helpers still marking them.
 */
const MARKING_FLAGS = ['--no-concurrent-marking', '--no-concurrent-sweeping'] as const;

// Workers load this module too; the main thread set the flags before any of them started.
if (isMainThread) for (const flag of MARKING_FLAGS) setFlagsFromString(flag);
