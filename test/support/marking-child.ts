// Child of test/unit/hypervisor/marking.test.ts: with argv[2] === 'host' it loads and starts a
// host (the hypervisor's module sets V8's marking flags), otherwise not; then it prints the
// marker (argv[3]) and grows its heap until V8 has stepped incremental markings.
import { scratchStateDir } from './state-dir.js';

if (process.argv[2] === 'host') scratchStateDir('marking-child');
const host = process.argv[2] === 'host' ? await (await import('../../src/toolstack/host.js')).Host.start() : undefined;
console.log(process.argv[3]);
const keep: { i: number; j: number }[][] = [];
for (let i = 0; i < 40; i++) {
  const a: { i: number; j: number }[] = [];
  for (let j = 0; j < 50_000; j++) a.push({ i, j });
  keep.push(a);
  await new Promise((r) => setImmediate(r));
}
await host?.close();
