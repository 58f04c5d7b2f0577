// The child of the shared-pool reject-valueof test: guests of fixtures/guests/reject-proxy.ts
// whose unhandled rejection's async id (or trigger id) throws as Node stores it, in a timer's
// turn and in a placement, next to a pool mate. Run apart from the test runner: Node's async
// context stack was left a frame deep and Node aborted the whole process. Prints how each ended.
import { once } from 'node:events';
import { poolChild } from './pool-child.js';

await poolChild('valueof', async ({ host, config }) => {
  for (const extra of ['valueof async_id', 'valueof trigger', 'valueof async_id boot', 'valueof trigger boot']) {
    const name = extra.replace(/ /g, '-');
    const shut = once(host, 'shutdown');
    const { domain } = await host.create(config(name, 'reject-proxy.ts', `pool = "valueof"\non_crash = "preserve"\nextra = "${extra}"\n`));
    const [domid, , reason] = await shut;
    process.stdout.write(`ENDED ${name} ${domid === domain.domid ? String(reason) : `d${domid}`}\n`);
    await host.destroy(domain.domid);
  }
});
