// A watchdog reset whose old pCPU thread does not end within its bound (cpupool.ts #reset): the
// destroy of its domains does not wait for it, and does not hand their doorbell slots or their
// memory to new domains while that thread may still run guest code on them, whether they were
// placed or still being placed when it got stuck; and neither does a pool closed while its thread
// is stuck.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { REALM_IMAGE } from '../../../src/guest/image.js';
import { Cpupool } from '../../../src/hypervisor/cpupool.js';
import { Hypervisor } from '../../../src/hypervisor/hypervisor.js';
import { within } from '../../support/hypervisor.js';
import { waitFor } from '../../support/wait.js';

/**
 * Far above what placing a domain takes on a loaded host: the stub gives no thread id, so the
 * bound is in wall time, and only the stuck thread must reach it.
 */
const WATCHDOG_MS = 2000;
const EXIT_MS = 500;
const FRAMES = 256;

/** A one-pCPU pool of pcpu-stuck.ts threads, and the FIFO its stuck thread reads. */
async function stuckPool(t: TestContext, watchdogMs = WATCHDOG_MS) {
  const dir = await mkdtemp(join(tmpdir(), 'xenode-stuck-'));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const marker = join(dir, 'entered');
  process.env.XENODE_STUCK_FIFO = fifo;
  process.env.XENODE_STUCK_MARKER = marker;
  const logs: string[] = [];
  const hv = new Hypervisor();
  const pool = new Cpupool({
    name: 'stuck', cpus: 1, image: new URL('../../support/pcpu-stuck.js', import.meta.url), realmImage: REALM_IMAGE,
    watchdogMs, exitMs: EXIT_MS, onLog: (l) => logs.push(l),
  });
  /**
   * Until the stuck thread has entered its read of the FIFO (its marker): from then on it runs no
   * JavaScript that could read a message, and its read's open waits for a writer, where
   * terminate() cannot reach it. Looking by opening a writer would let the read go on.
   */
  const blocked = () => waitFor(() => existsSync(marker), 20_000);
  let released = false;
  /**
   * The stuck thread's read returns: a writer's open lets its open return, and the writer's close
   * ends what it reads (whichever the terminated thread gets to). Without a reader (it never got
   * stuck) the open fails at once (ENXIO), as there is nothing to end.
   */
  const release = () => {
    if (released) return;
    released = true;
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      /* no reader */
    }
  };
  t.after(async () => {
    release();
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  });
  await pool.ready();
  const create = (name: string, ramFrames = FRAMES) => {
    const placement = pool.place();
    const d = hv.createDomain({ name, ramFrames, doorbell: placement.doorbell, pauseWord: placement.pauseWord });
    return { d, placement, slot: placement.doorbell.slot, bytes: d.view.buffers.memory.byteLength };
  };
  const start = async (name: string) => {
    const c = create(name);
    await pool.startVcpu(hv, c.d, c.placement, null);
    return c;
  };
  const nextSlot = () => {
    const p = pool.place();
    pool.unplace(p);
    return p.doorbell.slot;
  };
  const overran = () => waitFor(() => logs.some((l) => l.includes(`did not end within ${EXIT_MS} ms`)), 20_000);
  return { hv, pool, logs, blocked, release, create, start, nextSlot, overran };
}

test("a reset pCPU thread past its bound: its domains' destroys return, their slots and memory (and memory lent to them) are not reused until it has ended, then are", { timeout: 60_000 }, async (t) => {
  const { hv, logs, release, create, start, nextSlot, overran } = await stuckPool(t);
  const mate = await start('mate');
  // A domain with no vCPU that lends its memory to mate (an interdomain channel between them).
  const lender = create('lender', FRAMES / 2);
  const offered = hv.controlPlane(lender.d.domid).allocUnbound(lender.d.domid, mate.d.domid);
  assert.ok(hv.controlPlane(mate.d.domid).bindInterdomain(lender.d.domid, offered).peer, 'mate was handed the lender\'s buffers');
  const stuck = await start('stuck'); // the name pcpu-stuck.ts blocks on, once placed
  assert.ok(await overran(), logs.join('\n'));
  assert.equal(stuck.d.shutdownReason, 'crash');
  assert.equal(mate.d.shutdownReason, 'crash');

  await within(Promise.all([hv.destroyDomain(mate.d.domid), hv.destroyDomain(stuck.d.domid)]), 'the destroys, the old thread still running');
  await hv.destroyDomain(lender.d.domid);
  assert.equal(hv.findDomain(lender.d.domid), undefined, 'the lender was reaped');
  const victims = [mate.slot, stuck.slot];
  assert.ok(!victims.includes(nextSlot()), 'a new domain gets neither victim\'s slot');
  assert.equal(hv.heap.stats().freeBytes, 0, "neither victim's memory nor the lender's is in the domheap");
  assert.ok(logs.some((l) => l.includes(`d${stuck.d.domid}'s slot and memory are kept out of reuse`)), logs.join('\n'));

  release();
  assert.ok(await waitFor(() => victims.includes(nextSlot()), 20_000), "the victims' slots come back once the old thread has ended");
  // The lender was reaped while a thread that may run its borrower lingered: its memory waits for that thread too.
  assert.ok(await waitFor(() => hv.heap.stats().freeBytes === mate.bytes + stuck.bytes + lender.bytes, 20_000),
    "the victims' memory goes back to the domheap then, and so does the lender's");
});

test('a pCPU thread stuck while it places a domain (its top level), reset and past its bound: the failed start and the destroy keep its slot and memory out of reuse until the thread has ended', { timeout: 60_000 }, async (t) => {
  const { hv, logs, release, create, pool, nextSlot, overran } = await stuckPool(t);
  const { d, placement, slot, bytes } = create('stuck-placing'); // the name pcpu-stuck.ts blocks on before `placed`
  await assert.rejects(within(pool.startVcpu(hv, d, placement, null), 'the start'), /did not yield/);
  assert.ok(await overran(), logs.join('\n'));
  assert.ok(logs.some((l) => l.includes(`d${d.domid}'s slot and memory are kept out of reuse`)), logs.join('\n'));
  // As the builder's teardown does: no vCPU was attached, so the destroy has none to stop.
  await hv.destroyDomain(d.domid);
  assert.equal(hv.findDomain(d.domid), undefined, 'reaped');
  assert.equal(hv.heap.stats().freeBytes, 0, 'its memory is not in the domheap while the old thread may run its realm');
  assert.notEqual(nextSlot(), slot, 'nor is its slot given to a new domain');
  release();
  assert.ok(await waitFor(() => hv.heap.stats().freeBytes === bytes, 20_000), 'its memory goes back once the old thread has ended');
  assert.ok(await waitFor(() => nextSlot() === slot, 20_000), 'and its slot');
});

test('a destroy whose evict went to a pCPU thread that then got stuck returns once the watchdog has reset it, before that thread ends', { timeout: 60_000 }, async (t) => {
  const { hv, logs, blocked, release, start, overran } = await stuckPool(t);
  const mate = await start('mate');
  const stuck = await start('stuck');
  // The evict below goes to a thread that never reads it.
  assert.ok(await blocked(), 'the thread got stuck in its read');
  const destroyed = hv.destroyDomain(mate.d.domid);
  assert.ok(await overran(), logs.join('\n'));
  await within(destroyed, "mate's destroy, the old thread still stuck", 10_000);
  assert.equal(hv.heap.stats().freeBytes, 0, "mate's memory is not in the domheap while the old thread may run its realm");
  release();
  await within(hv.destroyDomain(stuck.d.domid), "stuck's destroy");
});

// A closing pool (the host's close) ends its threads while their domains are released. A thread
// that does not end (stuck in native code) may still run their realms: their memory goes back to
// the domheap only once it has ended, as for a reset thread past its bound.
test("a pool closed while its pCPU thread is stuck: its domains' destroys return, their memory is not reused until the thread has ended", { timeout: 60_000 }, async (t) => {
  // No watchdog reset before the close: the thread ends only through close() and release().
  const { hv, pool, blocked, release, start } = await stuckPool(t, 600_000);
  const mate = await start('mate');
  const stuck = await start('stuck');
  assert.ok(await blocked(), 'the thread got stuck in its read');
  assert.equal(await pool.close(EXIT_MS), 1, 'the thread did not end within its bound');
  assert.equal(stuck.d.shutdownReason, 'crash');
  await within(Promise.all([hv.destroyDomain(mate.d.domid), hv.destroyDomain(stuck.d.domid)]), 'the destroys, the thread still stuck', 10_000);
  assert.equal(hv.findDomain(mate.d.domid), undefined, 'reaped');
  assert.equal(hv.heap.stats().freeBytes, 0, 'their memory is not in the domheap while the thread may run their realms');
  release();
  assert.ok(await waitFor(() => hv.heap.stats().freeBytes === mate.bytes + stuck.bytes, 20_000), 'it goes back once the thread has ended');
});
