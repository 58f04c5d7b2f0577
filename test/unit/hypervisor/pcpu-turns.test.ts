// What the watchdog of a shared pCPU (cpupool.ts) sees of its thread's turns (guest/pcpu.ts):
// a turn that throws past its realm's guards ends all the same, crashing its domain alone; and a
// kernel image's read, outside any turn, never waits on a FIFO at its path. The realm here is a
// stub without the library OS's guards (its image is written by the test).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { PCPU_IMAGE } from '../../../src/guest/image.js';
import { Cpupool } from '../../../src/hypervisor/cpupool.js';
import { ring } from '../../../src/hypervisor/doorbell.js';
import { Hypervisor } from '../../../src/hypervisor/hypervisor.js';
import { within } from '../../support/hypervisor.js';
import { waitFor } from '../../support/wait.js';

const WATCHDOG_MS = 500;

/**
 * A realm image whose turns call the stub directly, as the library OS's would call its guarded
 * handlers: the domain named `thrower` asks for a turn once booted and throws in it, or, a
 * shell, throws in its claim; any other claimed shell calls main(). What is uncaught throws.
 */
const UNGUARDED_REALM = `(host) => ({
  boot(buffers, kernel, identity) {
    const throws = identity !== null && identity.name === 'thrower';
    if (throws) host.immediate();
    const none = () => {};
    return {
      timer: none, reply: none, push: none, expecting: () => false, upcall: () => false, unpaused: none,
      // The library OS's would crash the domain; this has the pCPU crash it (a claim that throws).
      uncaught(reason) {
        throw new Error(String(reason));
      },
      immediates() {
        if (throws) throw new Error('thrown past the realm guards');
      },
      claim(k, name) {
        if (name === 'thrower') throw new Error('thrown past the realm guards');
        host.mainCalled();
      },
    };
  },
})`;

async function stubPool(t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'xenode-pcpu-turns-'));
  const realm = join(dir, 'realm.js');
  const kernel = join(dir, 'kernel.js');
  await writeFile(realm, UNGUARDED_REALM);
  await writeFile(kernel, '');
  const logs: string[] = [];
  const hv = new Hypervisor();
  const pool = new Cpupool({ name: 'stub', cpus: 1, image: PCPU_IMAGE, realmImage: pathToFileURL(realm), watchdogMs: WATCHDOG_MS, onLog: (l) => logs.push(l) });
  t.after(async () => {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  });
  await pool.ready();
  /** Start domain `name` with `image` for its kernel, or as a shell (null). */
  const start = (name: string, image: string | null = kernel) => {
    const placement = pool.place();
    const d = hv.createDomain({ name, ramFrames: 64, doorbell: placement.doorbell, pauseWord: placement.pauseWord });
    const vcpu = pool.startVcpu(hv, d, placement, image && pathToFileURL(image).href, { onLog: (l) => logs.push(l) });
    // Created paused, as Xen's domains: the pCPU runs no turn of it before the unpause.
    const started = vcpu.then(() => hv.unpause(d.domid));
    return { d, placement, vcpu, started };
  };
  return { dir, pool, logs, start, kernel };
}

for (const when of ['turn', 'claim'] as const) {
  test(`a ${when} that throws past its realm's guards crashes its domain alone; it ends, so the watchdog resets no pCPU and the pool mate runs on`, { timeout: 60_000 }, async (t) => {
    const { pool, logs, start, kernel } = await stubPool(t);
    const mate = start('mate');
    await within(mate.started, "mate's start");
    const thrower = start('thrower', when === 'turn' ? kernel : null);
    await within(thrower.started, "thrower's start");
    if (when === 'claim') (await thrower.vcpu).loadKernel(pathToFileURL(kernel).href);
    assert.ok(await waitFor(() => thrower.d.shutdownReason !== null, 20_000), 'the thrower crashed');
    assert.ok(logs.some((l) => l.includes(`d${thrower.d.domid}: vCPU died: its ${when} threw: Error: thrown past the realm guards`)), logs.join('\n'));
    assert.equal(mate.d.shutdownReason, null, logs.join('\n'));
    // The thread is between turns, and rung, runs the mate's.
    const turns = pool.turns();
    ring(new Int32Array(mate.placement.doorbell.buffer), mate.placement.doorbell.slot);
    assert.ok(await waitFor(() => pool.turns() > turns, 20_000), "the mate's turn ran");
    assert.ok(!logs.some((l) => l.includes('without yielding')), logs.join('\n'));
    assert.equal(mate.d.shutdownReason, null, logs.join('\n'));
  });
}

for (const when of ['place', 'claim'] as const) {
  test(`a FIFO at a kernel image's path at its ${when}: the pCPU thread does not wait on it; the ${when} fails, the pool mate runs on`, { timeout: 60_000 }, async (t) => {
    const { dir, pool, logs, start } = await stubPool(t);
    const mate = start('mate');
    await within(mate.started, "mate's start");
    const fifo = join(dir, 'kernel-fifo.js');
    execFileSync('mkfifo', [fifo]);
    // No writer ever opens it: a read of it would never end.
    const cold = start('cold', when === 'place' ? fifo : null);
    if (when === 'place') {
      await assert.rejects(within(cold.started, "cold's place"), (e: Error) => /its image is not a regular file/.test(e.message));
    } else {
      (await within(cold.vcpu, "cold's start")).loadKernel(pathToFileURL(fifo).href);
      assert.ok(await waitFor(() => cold.d.shutdownReason !== null, 20_000), 'the claim crashed its domain');
      assert.ok(logs.some((l) => l.includes('its image is not a regular file')), logs.join('\n'));
    }
    assert.ok(!logs.some((l) => l.includes(dir)), `no host path in what the realm or the log is told: ${logs.join('\n')}`);
    const turns = pool.turns();
    ring(new Int32Array(mate.placement.doorbell.buffer), mate.placement.doorbell.slot);
    assert.ok(await waitFor(() => pool.turns() > turns, 20_000), "the mate's turn ran");
    assert.equal(mate.d.shutdownReason, null, logs.join('\n'));
  });
}
