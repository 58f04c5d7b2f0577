// The child of the shared-pool reject-valueof test: guests of fixtures/guests/reject-proxy.ts
// whose unhandled rejection's async id (or trigger id) throws as Node stores it, in a timer's
// turn and in a placement, next to a pool mate; and one whose each such throw makes another, in
// a pool of its own. Run apart from the test runner: Node's async context stack was left a frame
// deep and Node aborted the whole process. Prints how each ended, and whether the second pool
// runs a domain after.
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { poolChild } from './pool-child.js';

await poolChild('valueof', async ({ host, text, config }) => {
  const run = async (pool: string, extra: string) => {
    const name = extra.replace(/ /g, '-');
    const shut = once(host, 'shutdown');
    const { domain } = await host.create(config(name, 'reject-proxy.ts', `pool = "${pool}"\non_crash = "preserve"\nextra = "${extra}"\n`));
    const [domid, , reason] = await shut;
    process.stdout.write(`ENDED ${name} ${domid === domain.domid ? String(reason) : `d${domid}`}\n`);
    await host.destroy(domain.domid);
  };
  for (const extra of ['valueof async_id', 'valueof trigger', 'valueof async_id boot', 'valueof trigger boot']) await run('valueof', extra);
  // Ids that make Node's own check of its async context stack fail, with nothing thrown: the
  // guest runs on, unhurt, as it would in Pool-0 (its rejection is logged), and so does the host.
  for (const extra of ['id nan', 'id changing']) {
    const name = extra.replace(/ /g, '-');
    const { domain } = await host.create(config(name, 'reject-proxy.ts', `pool = "valueof"
extra = "${extra}"
`));
    for (let i = 0; i < 200 && !/alive 5/.test(text(domain.domid)) && domain.shutdownReason === null; i++) await sleep(50);
    process.stdout.write(`RAN ${name} ${/alive 5/.test(text(domain.domid)) ? 'alive' : String(domain.shutdownReason)}
`);
    await host.destroy(domain.domid);
  }
  // Past the bound of throws at one turn's end, the thread ends: its pool recovers.
  // A NaN async id stored and a trigger id Node refuses: Node will not queue from that context,
  // so the thread ends (the pool's recovery), as past the bound of throws. In a pool of its own:
  // a create placed on that thread as it ends fails ("pCPU thread lost").
  await host.createCpupool('valueof-symbol', 1);
  await run('valueof-symbol', 'id symbol');
  await host.createCpupool('valueof-chain', 1);
  await run('valueof-chain', 'valueof async_id chain');
  const { domain } = await host.create(config('after-chain', 'ticker.ts', 'pool = "valueof-chain"\n'));
  for (let i = 0; i < 200 && !/tick 1/.test(text(domain.domid)); i++) await sleep(50);
  process.stdout.write(`AFTER CHAIN ${/tick 1/.test(text(domain.domid)) ? 'ticks' : 'stopped'}\n`);
});
