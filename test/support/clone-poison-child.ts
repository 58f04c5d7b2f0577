// The child of the shared-pool clone-poison test: a host with one shared pool saves and restores
// the guest of fixtures/guests/clone-poison.ts, next to a pool mate. Run apart from the test
// runner: Node's check of a realm's context setup aborted the whole process. Prints how the
// save went, the restored guest's console and how it ended, and whether the mate ticks on.
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { restoreFile } from '../../src/migration/restore.js';
import { saveDomain } from '../../src/migration/save.js';
import { parseDomainConfig } from '../../src/toolstack/domconfig.js';
import { Host } from '../../src/toolstack/host.js';
import { FIXTURES } from './cli.js';

const dir = await mkdtemp(join(tmpdir(), 'xenode-clone-poison-'));
const host = await Host.start({ log: () => {} });
const output = new Map<number, string>();
host.consoled.on('output', (domid, data) => output.set(domid, (output.get(domid) ?? '') + Buffer.from(data).toString('utf8')));
const config = (name: string, kernel: string) =>
  parseDomainConfig(`name = "${name}"\nkernel = "${join(FIXTURES, kernel)}"\nmemory = 16\npool = "poison"\n`, join(dir, `${name}.cfg`)).config;
try {
  await host.createCpupool('poison', 1);
  const mate = await host.create(config('poison-mate', 'ticker.ts'));
  const ticks = () => (output.get(mate.domain.domid)?.match(/tick/g) ?? []).length;
  const { domain } = await host.create(config('poison', 'clone-poison.ts'));
  await host.xs.wait(`/local/domain/${domain.domid}/data/ready`, (v) => v === '1');
  const file = join(dir, 'poison.save');
  process.stdout.write(`SAVE ${await saveDomain(host, domain.domid, file, { timeoutMs: 10_000 }).then(() => 'saved', (e: Error) => e.message)}\n`);
  const shut = once(host, 'shutdown');
  const r = await restoreFile(host, file);
  const [domid, , reason] = await shut;
  process.stdout.write(`${output.get(r.domain.domid) ?? ''}\nENDED d${domid === r.domain.domid ? 'restored' : domid} ${String(reason)}\n`);
  // The mate ticks every 50 ms: two more within 10 s, or it stopped.
  const before = ticks();
  for (let i = 0; i < 200 && ticks() < before + 2; i++) await sleep(50);
  process.stdout.write(`MATE ${String(host.hv.domain(mate.domain.domid).shutdownReason)} ${ticks() >= before + 2 ? 'ticks on' : 'stopped'}\n`);
} finally {
  await host.close();
  await rm(dir, { recursive: true, force: true });
}
