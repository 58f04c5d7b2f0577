// The node heap flags a host process was given size dom0 only, not its guests' threads.
import { setFlagsFromString } from 'node:v8';
import { HEAP_SIZE_FLAGS } from '../node-flags.js';

/**
 * V8 reads its heap-size flags whenever it makes an isolate, and they win over a Worker's own
 * resourceLimits: left set, the 1 MiB semi-spaces `host start` gives the daemon would be every
 * guest's young generation whatever its memory=, and a user's --max-old-space-size would lift
 * every guest's heap cap. The main isolate (dom0) has read them by the time a command runs;
 * cleared before the first thread starts, each vCPU and pCPU thread gets the heap its memory=
 * gives it (a test: test/e2e/daemon.test.ts).
 */

export function keepHeapFlagsToDom0(): void {
  for (const f of HEAP_SIZE_FLAGS) setFlagsFromString(`--${f}=0`);
}
