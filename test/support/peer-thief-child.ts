// The child of the shared-pool peer-thief test: a host with one shared pool runs the guest that
// hunts its library OS for other domains' buffers and fills what it finds with -1
// (fixtures/guests/peer-thief.ts), with a disk, next to a pool mate, then a Pool-0 guest that needs dom0's
// xenstored and console. Run apart from the test runner: dom0 throwing at what the thief wrote
// in its buffers ended the whole process. Prints the thief's console, whether the Pool-0 guest
// ran to its poweroff, and whether the mate ticks on.
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDomainConfig } from '../../src/toolstack/domconfig.js';
import { Host } from '../../src/toolstack/host.js';
import { FIXTURES, ROOT } from './cli.js';

const dir = await mkdtemp(join(tmpdir(), 'xenode-peer-thief-'));
const host = await Host.start({ log: () => {} });
const output = new Map<number, string>();
host.consoled.on('output', (domid, data) => output.set(domid, (output.get(domid) ?? '') + Buffer.from(data).toString('utf8')));
const config = (name: string, kernel: string, pool = 'pool = "thief"\n') =>
  parseDomainConfig(`name = "${name}"\nkernel = "${kernel}"\nmemory = 16\n${pool}`, join(dir, `${name}.cfg`)).config;
const text = (domid: number) => output.get(domid) ?? '';
try {
  await host.createCpupool('thief', 1);
  const mate = await host.create(config('thief-mate', join(FIXTURES, 'ticker.ts')));
  const ticks = () => (text(mate.domain.domid).match(/tick/g) ?? []).length;
  const image = join(dir, 'thief.img');
  await writeFile(image, new Uint8Array(1 << 20));
  const thief = await host.create(config('thief', join(FIXTURES, 'peer-thief.ts'), `pool = "thief"\ndisk = [ 'vdev=xvda, target=${image}' ]\n`));
  for (let i = 0; i < 400 && !/RAN ON/.test(text(thief.domain.domid)) && thief.domain.shutdownReason === null; i++) await sleep(50);
  process.stdout.write(`${text(thief.domain.domid)}\nTHIEF ${String(thief.domain.shutdownReason)}\n`);
  const off = once(host, 'destroyed');
  const pool0 = await host.create(config('after-thief', join(ROOT, 'examples/hello/hello.ts'), ''));
  await Promise.race([off, sleep(20_000)]);
  process.stdout.write(`POOL0 ${/Powering off/.test(text(pool0.domain.domid)) ? 'ran' : 'stuck'}\n`);
  // The mate ticks every 50 ms: two more within 10 s, or it stopped.
  const before = ticks();
  for (let i = 0; i < 200 && ticks() < before + 2; i++) await sleep(50);
  process.stdout.write(`MATE ${String(mate.domain.shutdownReason)} ${ticks() >= before + 2 ? 'ticks on' : 'stopped'}\n`);
} finally {
  await host.close();
  await rm(dir, { recursive: true, force: true });
}
