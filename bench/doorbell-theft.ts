// A doorbell thief (issue 18, docs/SECURITY.md "The doorbell is not trusted"): a thread holding a
// shared pCPU's doorbell, as a Pool-0 peer of its domains does, clears one guest's bit whenever it
// is set. The guest (bench/guests/diskload.ts, one write in flight: each needs its disk's event)
// runs --seconds alone, then a second one as long under theft, in a pool of one pCPU. Reported:
// each run's writes a second and longest gap between two writes, the thefts, and how many of them
// the pCPU found at once (a ring woke it and its bit was gone) and how many its beat found.
//
//   npm run bench -- doorbell-theft [--seconds=3]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDomainConfig } from '../src/toolstack/domconfig.js';
import { Host } from '../src/toolstack/host.js';
import { doorbellThief } from '../test/support/doorbell-thief.js';
import { emit, numberOptions } from './support/harness.js';

const opts = numberOptions({ seconds: 3 });
const kernel = fileURLToPath(new URL('../../bench/guests/diskload.ts', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'xenode-bench-theft-'));
const host = await Host.start({ poolSize: 1 });
const pool = await host.createCpupool('theft', 1);
const node = (domid: number, k: string) => `/local/domain/${domid}/data/diskload/${k}`;

/** A diskload guest for --seconds, with a thief on its bit meanwhile if `steal`. */
async function run(name: string, steal: boolean): Promise<Record<string, number>> {
  const image = join(dir, `${name}.img`);
  await writeFile(image, new Uint8Array(1 << 20));
  const cfg = parseDomainConfig(`name = "${name}"\nkernel = "${kernel}"\nmemory = 16\npool = "theft"\nextra = "qd=1"\ndisk = [ 'vdev=xvda, target=${image}' ]\n`, join(dir, `${name}.cfg`)).config;
  const { domain } = await host.create(cfg);
  await host.xs.wait(node(domain.domid, 'ready'), (v) => v !== undefined, { timeout: 60_000 });
  const before = pool.rescued();
  const thefts = steal ? doorbellThief(domain.view.buffers.doorbell!, { thefts: Infinity, ms: opts.seconds * 1000 }) : Promise.resolve(0);
  await new Promise((r) => setTimeout(r, opts.seconds * 1000));
  const stolen = await thefts;
  const after = pool.rescued();
  await host.xs.write(node(domain.domid, 'stop'), '1');
  const result = JSON.parse((await host.xs.wait(node(domain.domid, 'result'), (v) => v !== undefined, { timeout: 60_000 }))!) as { iops: number; max_gap_ms: number };
  await host.destroy(domain.domid);
  return { writes_per_s: result.iops, max_gap_ms: result.max_gap_ms, thefts: stolen, found_at_once: after.stolen - before.stolen, found_by_beat: after.beat - before.beat };
}

try {
  const alone = await run('alone', false);
  const theft = await run('robbed', true);
  emit({ bench: 'doorbell-theft', unit: 'writes/s of one guest, one write in flight', seconds: opts.seconds, alone, theft });
} finally {
  await host.close();
  await rm(dir, { recursive: true, force: true });
}
