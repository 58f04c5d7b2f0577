// The liveness watchdog (cpupool.ts #check): a pCPU thread held outside any turn, where the turn
// watchdog does not look (guest code that V8 or Node ran between turns), is reset with the pool's
// recovery, whether it spins or sleeps there; an idle one, asleep on its doorbell, is not. A bound
// too short for a few beats is refused.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { REALM_IMAGE } from '../../../src/guest/image.js';
import { XenError } from '../../../src/errors.js';
import { Cpupool, MIN_WATCHDOG_MS } from '../../../src/hypervisor/cpupool.js';
import { Hypervisor } from '../../../src/hypervisor/hypervisor.js';
import { waitFor } from '../../support/wait.js';

const WATCHDOG_MS = 500;

/** A one-pCPU pool of pcpu-held.ts threads, and a domain started on it by name. */
async function heldPool(t: TestContext) {
  const logs: string[] = [];
  const hv = new Hypervisor();
  const pool = new Cpupool({
    name: 'held', cpus: 1, image: new URL('../../support/pcpu-held.js', import.meta.url), realmImage: REALM_IMAGE,
    watchdogMs: WATCHDOG_MS, onLog: (l) => logs.push(l),
  });
  t.after(() => pool.close());
  await pool.ready();
  const start = async (name: string) => {
    const placement = pool.place();
    const d = hv.createDomain({ name, ramFrames: 256, doorbell: placement.doorbell, pauseWord: placement.pauseWord });
    await pool.startVcpu(hv, d, placement, null);
    return d;
  };
  return { pool, logs, start };
}

for (const held of ['held-spin', 'held-wait']) {
  test(`a pCPU thread held outside any turn (${held === 'held-spin' ? 'spinning' : 'asleep in Atomics.wait'}) is reset by the liveness watchdog: its domains crash, the pCPU runs new ones; an idle one is not`, { timeout: 60_000 }, async (t) => {
    const { pool, logs, start } = await heldPool(t);
    const mate = await start('mate');
    // Idle, asleep on its doorbell, for several times the bound: its beat moves, nothing counts.
    await new Promise((r) => setTimeout(r, 4 * WATCHDOG_MS));
    assert.equal(mate.shutdownReason, null, logs.join('\n'));
    const culprit = await start(held);
    assert.ok(await waitFor(() => mate.shutdownReason !== null && culprit.shutdownReason !== null, 30_000), logs.join('\n'));
    assert.deepEqual([mate.shutdownReason, culprit.shutdownReason], ['crash', 'crash']);
    assert.ok(logs.some((l) => l.includes("pCPU 0's thread was held") && l.includes('outside any turn') && l.includes('liveness watchdog')), logs.join('\n'));
    assert.ok(!logs.some((l) => l.includes('without yielding')), 'no turn was blamed');
    // The reset thread runs new domains.
    const again = await start('again');
    assert.equal(again.shutdownReason, null);
    assert.ok(pool.hosts(again.domid));
  });
}

// A bound of a beat or two would reset an idle thread whose beat a loaded host delayed.
test('a pool whose watchdog bound is shorter than four beats is refused', async () => {
  let pool: Cpupool | undefined;
  let refused: unknown;
  try {
    pool = new Cpupool({ name: 'short', cpus: 1, image: new URL('../../support/pcpu-held.js', import.meta.url), realmImage: REALM_IMAGE, watchdogMs: MIN_WATCHDOG_MS - 1 });
  } catch (e) {
    refused = e;
  }
  await pool?.close();
  assert.ok(refused instanceof XenError && refused.errno === 'EINVAL', String(refused));
});

// A thread lost in a turn leaves its heartbeat saying that turn runs: its successor, idle and
// asleep on its doorbell, was taken for that domain's turn asleep, and reset at the bound.
test("a pCPU thread lost during a turn: its successor is not taken for that turn and reset", { timeout: 60_000 }, async (t) => {
  const { pool, logs, start } = await heldPool(t);
  const lost = await start('lost-in-turn');
  assert.ok(await waitFor(() => lost.shutdownReason !== null, 30_000), logs.join('\n'));
  assert.ok(logs.some((l) => l.includes('restarting it')), logs.join('\n'));
  await pool.ready();
  // Idle for several times the bound: nothing counts against the new thread.
  await new Promise((r) => setTimeout(r, 4 * WATCHDOG_MS));
  assert.ok(!logs.some((l) => l.includes('without yielding') || l.includes('resetting')), logs.join('\n'));
  const after = await start('after');
  assert.equal(after.shutdownReason, null, logs.join('\n'));
});
