// The child of the shared-pool clone-poison test: saves and restores the guest of
// fixtures/guests/clone-poison.ts, next to a pool mate. Run apart from the test runner: Node's
// check of a realm's context setup aborted the whole process. Prints how the save went, the
// restored guest's console and how it ended, and whether the mate ticks on.
import { once } from 'node:events';
import { join } from 'node:path';
import { restoreFile } from '../../src/migration/restore.js';
import { saveDomain } from '../../src/migration/save.js';
import { poolChild } from './pool-child.js';

await poolChild('poison', async ({ host, dir, text, config }) => {
  const { domain } = await host.create(config('poison', 'clone-poison.ts'));
  await host.xs.wait(`/local/domain/${domain.domid}/data/ready`, (v) => v === '1');
  const file = join(dir, 'poison.save');
  process.stdout.write(`SAVE ${await saveDomain(host, domain.domid, file, { timeoutMs: 10_000 }).then(() => 'saved', (e: Error) => e.message)}\n`);
  const shut = once(host, 'shutdown');
  const r = await restoreFile(host, file);
  const [domid, , reason] = await shut;
  process.stdout.write(`${text(r.domain.domid)}\nENDED d${domid === r.domain.domid ? 'restored' : domid} ${String(reason)}\n`);
});
