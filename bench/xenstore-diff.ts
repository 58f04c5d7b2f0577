// Differential fuzz of xenode's xenstored against Debian's cxenstored 4.17:
// `npm run bench -- xenstore-diff [--ops=N] [--seeds=S] [--seed=X]` runs seeds X..X+S-1 of N
// requests each (bench/xsdiff) and prints one JSON line: requests compared, time, the rules
// that explained differences, and every unexplained difference (at most one per seed).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Xenstored } from '../src/xenstore/server/daemon.js';
import { startCxenstored } from './xsdiff/cxenstored.js';
import { runSeed, type Difference } from './xsdiff/run.js';

const { values } = parseArgs({ options: { ops: { type: 'string' }, seeds: { type: 'string' }, seed: { type: 'string' } } });
const ops = Number(values.ops ?? 2000);
const seeds = Number(values.seeds ?? 10);
const first = Number(values.seed ?? 1);

const dir = await mkdtemp(join(tmpdir(), 'xenode-xsdiff-'));
const xs = new Xenstored();
const socket = join(dir, 'socket');
await xs.listen(socket);
const xenode = { socket, alive: () => true };
let cx = await startCxenstored();
const t0 = performance.now();
let total = 0;
const explained: Record<string, number> = {};
const differences: Difference[] = [];
try {
  for (let s = first; s < first + seeds; s++) {
    const r = await runSeed(s, ops, xenode, cx);
    total += r.ops;
    for (const [k, v] of Object.entries(r.explained)) explained[k] = (explained[k] ?? 0) + v;
    if (r.difference !== undefined) differences.push(r.difference);
    // A difference may leave cxenstored dead or its store unlike xenode's: start afresh.
    if (r.difference !== undefined) {
      await cx.stop();
      cx = await startCxenstored();
    }
  }
} finally {
  await cx.stop();
  await xs.close();
  await rm(dir, { recursive: true, force: true });
}
const ms = Math.round(performance.now() - t0);
console.log(JSON.stringify({ bench: 'xenstore-diff', seeds, firstSeed: first, opsPerSeed: ops, ops: total, ms, explained, unexplained: differences.length, differences }));
