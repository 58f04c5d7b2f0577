// A watchdog reset whose old pCPU thread does not end within its bound (cpupool.ts #reset): the
// destroy of its domains does not wait for it, and does not hand their doorbell slots or their
// memory to new domains while that thread may still run guest code on them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REALM_IMAGE } from '../../../src/guest/image.js';
import { Cpupool } from '../../../src/hypervisor/cpupool.js';
import { Hypervisor } from '../../../src/hypervisor/hypervisor.js';
import { within } from '../../support/hypervisor.js';
import { waitFor } from '../../support/wait.js';

test("a reset pCPU thread past its bound: its domains' destroys return, their slots and memory are not reused until it has ended", { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'xenode-stuck-'));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  process.env.XENODE_STUCK_FIFO = fifo;
  const logs: string[] = [];
  const hv = new Hypervisor();
  const pool = new Cpupool({
    name: 'stuck', cpus: 1, image: new URL('../../support/pcpu-stuck.js', import.meta.url), realmImage: REALM_IMAGE,
    watchdogMs: 100, exitMs: 100, onLog: (l) => logs.push(l),
  });
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
  const start = async (name: string) => {
    const placement = pool.place();
    const d = hv.createDomain({ name, ramFrames: 256, doorbell: placement.doorbell });
    await pool.startVcpu(hv, d, placement, null);
    return { d, slot: placement.doorbell.slot };
  };
  const mate = await start('mate');
  const stuck = await start('stuck') // the name pcpu-stuck.ts blocks on;
  assert.ok(await waitFor(() => logs.some((l) => l.includes('did not end within 100 ms')), 20_000), logs.join('\n'));
  assert.equal(stuck.d.shutdownReason, 'crash');
  assert.equal(mate.d.shutdownReason, 'crash');

  await within(Promise.all([hv.destroyDomain(mate.d.domid), hv.destroyDomain(stuck.d.domid)]), 'the destroys, the old thread still running');
  const victims = [mate.slot, stuck.slot];
  const nextSlot = () => {
    const p = pool.place();
    pool.unplace(p);
    return p.doorbell.slot;
  };
  assert.ok(!victims.includes(nextSlot()), 'a new domain gets neither victim\'s slot');
  assert.equal(hv.heap.stats().freeBytes, 0, "neither victim's memory is in the domheap");
  assert.ok(logs.some((l) => l.includes(`d${stuck.d.domid}'s slot and memory are kept out of reuse`)), logs.join('\n'));

  release();
  assert.ok(await waitFor(() => victims.includes(nextSlot()), 20_000), "the victims' slots come back once the old thread has ended");
});
