// The warm-up a pool thread runs while it waits: the whole boot path (upcalls, console,
// a xenstore request and its reply) on scratch memory, leaving nothing running behind it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { within } from '../../support/hypervisor.js';
const WARMUP = new URL('../../../src/guest/warmup.js', import.meta.url).href;
test('a warm-up runs every step of the boot path, and leaves no handle that keeps its thread alive', async () => {
    // In a thread of its own, as in the vCPU pool: the thread ends by itself only if the warm-up
    // left no timer or other handle behind.
    const worker = new Worker(`const { parentPort } = require('node:worker_threads');
     import(${JSON.stringify(WARMUP)}).then(async (m) => parentPort.postMessage(await m.warmUp()));`, { eval: true });
    const [completed] = (await within(once(worker, 'message'), 'the warm-up'));
    assert.equal(completed, true, 'the scratch xenstore reply was read: the warm-up went through');
    const [code] = (await within(once(worker, 'exit'), 'the warmed-up thread to exit by itself', 5_000));
    assert.equal(code, 0);
});
//# sourceMappingURL=warmup.test.js.map