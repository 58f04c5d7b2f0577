// The differential fuzz (bench/xsdiff) in its short form: 20 seeds of 600 requests on two
// connections, sent to xenode's xenstored and to Debian's cxenstored 4.17 (fetched with
// apt-get download, run without a hypervisor through a small LD_PRELOAD shim built with gcc),
// every reply and watch event compared. The intended differences are the rules in
// bench/xsdiff/rules.ts (docs/XENSTORE.md); any other difference fails, printed with the
// requests before it. The long run: npm run bench -- xenstore-diff --ops=10000 --seeds=20.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Xenstored } from '../../src/xenstore/server/daemon.js';
import { cxenstoredUnavailable, startCxenstored } from '../../bench/xsdiff/cxenstored.js';
import { type Difference, runSeed } from '../../bench/xsdiff/run.js';

const SEEDS = 20;
const OPS = 600;

const skip = await cxenstoredUnavailable();
if (skip !== undefined) console.log(`# skipping: ${skip}`);

test(`xenstored answers ${SEEDS * OPS} fuzzed requests as cxenstored 4.17 does, but for the documented differences`, { skip }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'xenode-xsdiff-'));
  const xs = new Xenstored();
  const socket = join(dir, 'socket');
  await xs.listen(socket);
  let cx = await startCxenstored();
  const differences: Difference[] = [];
  let ops = 0;
  try {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = await runSeed(seed, OPS, { socket, alive: () => true }, cx);
      ops += r.ops;
      if (r.difference !== undefined) differences.push(r.difference);
      if (r.difference !== undefined) {
        await cx.stop();
        cx = await startCxenstored();
      }
    }
  } finally {
    await cx.stop();
    await xs.close();
    await rm(dir, { recursive: true, force: true });
  }
  assert.deepEqual(differences, [], JSON.stringify(differences, null, 1));
  assert.equal(ops, SEEDS * OPS);
});
