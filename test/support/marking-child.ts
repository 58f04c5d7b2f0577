// Child of test/unit/hypervisor/marking.test.ts: a host, with a shared pool if asked
// (argv[2] === 'pool'), prints the marker (argv[3]) and then grows dom0's heap until V8 has stepped
// incremental markings.
import { Host } from '../../src/toolstack/host.js';

const host = await Host.start();
if (process.argv[2] === 'pool') await host.createCpupool('dense', 1);
console.log(process.argv[3]);
const keep: { i: number; j: number }[][] = [];
for (let i = 0; i < 40; i++) {
  const a: { i: number; j: number }[] = [];
  for (let j = 0; j < 50_000; j++) a.push({ i, j });
  keep.push(a);
  await new Promise((r) => setImmediate(r));
}
await host.close();
