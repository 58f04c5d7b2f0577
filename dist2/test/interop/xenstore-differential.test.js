// The differential fuzz (bench/xsdiff) in its short form: 20 seeds of 600 requests on two
// connections, sent to xenode's xenstored and to Debian's cxenstored 4.17 (fetched with
// apt-get download, run without a hypervisor through a small LD_PRELOAD shim built with gcc),
// every reply and watch event compared. The intended differences are the rules in
// bench/xsdiff/rules.ts (docs/XENSTORE.md); any other difference fails, printed with the
// requests before it. The long run: npm run bench -- xenstore-diff --ops=10000 --seeds=20.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cxenstoredUnavailable } from '../../bench/xsdiff/cxenstored.js';
import { runFuzz } from '../../bench/xsdiff/run.js';
const SEEDS = 20;
const OPS = 600;
const skip = await cxenstoredUnavailable();
if (skip !== undefined)
    console.log(`# skipping: ${skip}`);
test(`xenstored answers ${SEEDS * OPS} fuzzed requests as cxenstored 4.17 does, but for the documented differences`, { skip }, async () => {
    const r = await runFuzz(1, SEEDS, OPS);
    assert.deepEqual(r.differences, [], JSON.stringify(r.differences, null, 1));
    assert.equal(r.ops, SEEDS * OPS);
});
//# sourceMappingURL=xenstore-differential.test.js.map