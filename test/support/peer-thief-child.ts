// The child of the shared-pool peer-thief test: the guest that hunts its library OS for other
// domains' buffers and fills what it finds with -1 (fixtures/guests/peer-thief.ts), with a disk,
// next to a pool mate, then a Pool-0 guest that needs dom0's xenstored and console. Run apart
// from the test runner: dom0 throwing at what the thief wrote in its buffers ended the whole
// process. Prints the thief's console, whether the Pool-0 guest ran to its poweroff, and whether
// the mate ticks on.
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT } from './cli.js';
import { poolChild } from './pool-child.js';

await poolChild('thief', async ({ host, dir, text, config }) => {
  const image = join(dir, 'thief.img');
  await writeFile(image, new Uint8Array(1 << 20));
  const thief = await host.create(config('thief', 'peer-thief.ts', `pool = "thief"\ndisk = [ 'vdev=xvda, target=${image}' ]\n`));
  for (let i = 0; i < 400 && !/RAN ON/.test(text(thief.domain.domid)) && thief.domain.shutdownReason === null; i++) await sleep(50);
  process.stdout.write(`${text(thief.domain.domid)}\nTHIEF ${String(thief.domain.shutdownReason)}\n`);
  const off = once(host, 'destroyed');
  const pool0 = await host.create(config('after-thief', join(ROOT, 'examples/hello/hello.ts'), ''));
  await Promise.race([off, sleep(20_000)]);
  process.stdout.write(`POOL0 ${/Powering off/.test(text(pool0.domain.domid)) ? 'ran' : 'stuck'}\n`);
});
