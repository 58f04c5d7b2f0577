// A pCPU thread (guest/pcpu.ts) whose first start ends before it is ready, as a thread that
// could not load does: it makes the file XENODE_EARLY_EXIT_MARKER names and exits; its successor
// (cpupool.ts lost()) finds the file and runs guest/pcpu.js.
import { existsSync, writeFileSync } from 'node:fs';

const marker = process.env.XENODE_EARLY_EXIT_MARKER!;
if (!existsSync(marker)) {
  writeFileSync(marker, '');
  process.exit(1);
}
await import('../../src/guest/pcpu.js');
