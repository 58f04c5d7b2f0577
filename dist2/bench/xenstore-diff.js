// Differential fuzz of xenode's xenstored against Debian's cxenstored 4.17:
// `npm run bench -- xenstore-diff [--ops=N] [--seeds=S] [--seed=X]` runs seeds X..X+S-1 of N
// requests each (bench/xsdiff, docs/XENSTORE.md) and prints one JSON line: requests compared,
// time, how often each rule explained a difference, and every unexplained difference (at most
// one per seed, with the requests before it).
import { parseArgs } from 'node:util';
import { runFuzz } from './xsdiff/run.js';
const { values } = parseArgs({ options: { ops: { type: 'string' }, seeds: { type: 'string' }, seed: { type: 'string' } } });
const ops = Number(values.ops ?? 2000);
const seeds = Number(values.seeds ?? 10);
const first = Number(values.seed ?? 1);
const r = await runFuzz(first, seeds, ops);
console.log(JSON.stringify({
    bench: 'xenstore-diff', seeds, firstSeed: first, opsPerSeed: ops, ops: r.ops, ms: r.ms, explained: r.explained,
    unexplained: r.differences.length, differences: r.differences,
}));
//# sourceMappingURL=xenstore-diff.js.map