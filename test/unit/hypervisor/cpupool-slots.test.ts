// A domain whose start on a shared pCPU fails (cpupool.ts #place: its pCPU's thread ended before
// it was ready, or its realm did not start) keeps its doorbell slot until its teardown: its domid
// lives until then, and an unpause of it (or any domctl that reaches its slot) would reach the
// pause count of the slot's next domain.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test, type TestContext } from 'node:test';
import { REALM_IMAGE } from '../../../src/guest/image.js';
import { Cpupool, type Placement } from '../../../src/hypervisor/cpupool.js';
import { Hypervisor } from '../../../src/hypervisor/hypervisor.js';

function onePcpu(t: TestContext, image: URL, log: (line: string) => void = () => {}) {
  const hv = new Hypervisor({ log });
  const pool = new Cpupool({ name: 'slots', cpus: 1, image, realmImage: REALM_IMAGE });
  t.after(() => pool.close());
  const create = () => {
    const placement = pool.place();
    const d = hv.createDomain({ name: 'failing', ramFrames: 256, doorbell: placement.doorbell, pauseWord: placement.pauseWord });
    return { d, placement };
  };
  const nextSlot = () => {
    const p = pool.place();
    pool.unplace(p);
    return p.doorbell.slot;
  };
  return { hv, pool, create, nextSlot };
}

/** Its slot stays its own (not handed out, its pause count kept) until the destroy, and comes back then. */
async function keptUntilDestroyed(hv: Hypervisor, d: { domid: number }, placement: Placement, nextSlot: () => number) {
  const slot = placement.doorbell.slot;
  assert.equal(Atomics.load(placement.pauseWord, 0), 1, 'its slot keeps its pause count while it lives');
  assert.notEqual(nextSlot(), slot, 'a new domain does not get its slot while it lives');
  await hv.destroyDomain(d.domid);
  assert.equal(nextSlot(), slot, 'its slot is back once its destroy has returned');
  assert.equal(Atomics.load(placement.pauseWord, 0), 0, 'cleared for its next domain');
}

test("a realm that does not start (its kernel image is missing): the domain's slot goes back only once it is destroyed", { timeout: 60_000 }, async (t) => {
  const { hv, pool, create, nextSlot } = onePcpu(t, new URL('../../../src/guest/pcpu.js', import.meta.url));
  await pool.ready();
  const dir = await mkdtemp(join(tmpdir(), 'xenode-slots-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { d, placement } = create();
  await assert.rejects(pool.startVcpu(hv, d, placement, pathToFileURL(join(dir, 'missing.js')).href), /did not start/);
  await keptUntilDestroyed(hv, d, placement, nextSlot);
});

test("a pCPU whose thread ends before it is ready: the domain being placed there keeps its slot until it is destroyed", { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'xenode-slots-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  process.env.XENODE_EARLY_EXIT_MARKER = join(dir, 'exited');
  t.after(() => delete process.env.XENODE_EARLY_EXIT_MARKER);
  const { hv, pool, create, nextSlot } = onePcpu(t, new URL('../../support/pcpu-early-exit.js', import.meta.url));
  // Placed before the first thread has run at all: its start waits for that thread's ready.
  const { d, placement } = create();
  await assert.rejects(pool.startVcpu(hv, d, placement, null), /ended before it was ready/);
  await pool.ready(); // the successor's
  await keptUntilDestroyed(hv, d, placement, nextSlot);
});

// Its slot goes back through Domain.whenDestroyed, run as its destroy tears it down. Before, a
// destroy that threw part-way (here its vCPU's terminate) never ran them, and the slot stayed out
// of use for good; nor did the callbacks after one that threw.
test("a failed start's slot goes back even if its destroy throws part-way, or another teardown callback throws (logged)", { timeout: 60_000 }, async (t) => {
  const lines: string[] = [];
  const { hv, pool, create, nextSlot } = onePcpu(t, new URL('../../../src/guest/pcpu.js', import.meta.url), (line) => lines.push(line));
  await pool.ready();
  const dir = await mkdtemp(join(tmpdir(), 'xenode-slots-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { d, placement } = create();
  d.whenDestroyed(() => {
    throw new Error('a callback that throws');
  });
  await assert.rejects(pool.startVcpu(hv, d, placement, pathToFileURL(join(dir, 'missing.js')).href), /did not start/);
  const slot = placement.doorbell.slot;
  assert.notEqual(nextSlot(), slot, 'kept while it lives');
  hv.attachVcpu(d.domid, { terminate: () => Promise.reject(new Error('its thread would not stop')), cpuTime: () => 0, push() {} });
  await assert.rejects(hv.destroyDomain(d.domid), /would not stop/);
  assert.equal(nextSlot(), slot, 'its slot is back all the same');
  assert.match(lines.join('\n'), new RegExp(`d${d.domid}: what waited for its destroy threw: Error: a callback that throws`));
});
