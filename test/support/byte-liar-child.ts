// The child of the shared-pool byte-liar test: the guest that lies about its typed arrays'
// lengths to its pCPU (fixtures/guests/byte-liar.ts), next to a pool mate. Run apart from the
// test runner: a host function that handed Node a lying view aborted the whole process. Prints
// the liar's console, how it ended, and whether its mate ticks on after it.
import { once } from 'node:events';
import { poolChild } from './pool-child.js';

await poolChild('liar', async ({ host, text, config }) => {
  const shut = once(host, 'shutdown');
  const liar = await host.create(config('liar', 'byte-liar.ts'));
  const [domid, , reason] = await shut;
  process.stdout.write(`${text(liar.domain.domid)}\nENDED d${domid === liar.domain.domid ? 'liar' : domid} ${String(reason)}\n`);
});
