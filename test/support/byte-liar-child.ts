// The child of the shared-pool byte-liar test: a host with one shared pool runs the guest that
// lies about its typed arrays' lengths to its pCPU (fixtures/guests/byte-liar.ts), next to a
// pool mate. Run apart from the test runner: a host function that handed Node a lying view
// aborted the whole process. Prints the liar's console, how it ended, and whether its mate
// ticks on after it.
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDomainConfig } from '../../src/toolstack/domconfig.js';
import { Host } from '../../src/toolstack/host.js';
import { FIXTURES } from './cli.js';

const dir = await mkdtemp(join(tmpdir(), 'xenode-byte-liar-'));
const host = await Host.start({ log: () => {} });
const output = new Map<number, string>();
host.consoled.on('output', (domid, data) => output.set(domid, (output.get(domid) ?? '') + Buffer.from(data).toString('utf8')));
const config = (name: string, kernel: string) =>
  parseDomainConfig(`name = "${name}"\nkernel = "${join(FIXTURES, kernel)}"\nmemory = 16\npool = "liar"\n`, join(dir, `${name}.cfg`)).config;
try {
  await host.createCpupool('liar', 1);
  const mate = await host.create(config('liar-mate', 'ticker.ts'));
  const ticks = () => (output.get(mate.domain.domid)?.match(/tick/g) ?? []).length;
  const shut = once(host, 'shutdown');
  const liar = await host.create(config('liar', 'byte-liar.ts'));
  const [domid, , reason] = await shut;
  process.stdout.write(`${output.get(liar.domain.domid) ?? ''}\nENDED d${domid === liar.domain.domid ? 'liar' : domid} ${String(reason)}\n`);
  // The mate ticks every 50 ms: two more within 10 s, or it stopped.
  const before = ticks();
  for (let i = 0; i < 200 && ticks() < before + 2; i++) await sleep(50);
  process.stdout.write(`MATE ${String(host.hv.domain(mate.domain.domid).shutdownReason)} ${ticks() >= before + 2 ? 'ticks on' : 'stopped'}\n`);
} finally {
  await host.close();
  await rm(dir, { recursive: true, force: true });
}
