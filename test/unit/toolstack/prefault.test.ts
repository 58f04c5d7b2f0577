// A shell's RAM faulted in while it waits: every RAM frame is written (with the zero it holds),
// nothing else is, and the work stops as soon as the shell is no longer idle or its runtime
// has populated a frame of its own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PAGE_SIZE } from '../../../src/abi/xen.js';
import { firstRamPfn, totalFrames } from '../../../src/hypervisor/layout.js';
import { PREFAULT_BATCH_FRAMES, prefaultRam } from '../../../src/toolstack/prefault.js';
import { harness } from '../../support/hypervisor.js';

test('prefaultRam goes over every RAM frame and leaves the memory as it was', async (t) => {
  const d = harness(t).local({ ramFrames: 300 });
  const { mem8, geometry } = d.domain.view;
  // A frame below the RAM (start_info) is not the prefault's to touch.
  mem8[PAGE_SIZE + 5] = 0x5a;
  let checks = 0;
  await prefaultRam(d.domain, () => (checks++, true));
  assert.equal(checks, Math.ceil(geometry.ramFrames / PREFAULT_BATCH_FRAMES), 'one idle check per batch, every batch run');
  assert.equal(mem8[PAGE_SIZE + 5], 0x5a);
  const first = firstRamPfn(geometry);
  assert.ok(mem8.subarray(first * PAGE_SIZE, totalFrames(geometry) * PAGE_SIZE).every((b) => b === 0));
});

test('prefaultRam stops once the shell is taken or its runtime populates a frame', async (t) => {
  const h = harness(t);
  const taken = h.local({ ramFrames: 300 });
  let batches = 0;
  await prefaultRam(taken.domain, () => ++batches <= 2);
  assert.equal(batches, 3, 'the third batch found the shell taken and stopped');

  const running = h.local({ ramFrames: 300 });
  const [pfn] = running.hc.populatePhysmap(1) as [number];
  running.domain.view.mem8[pfn * PAGE_SIZE] = 0x77;
  let asked = 0;
  await prefaultRam(running.domain, () => (asked++, true));
  assert.equal(asked, 1, 'stopped before its first batch');
  assert.equal(running.domain.view.mem8[pfn * PAGE_SIZE], 0x77, "the runtime's frame is untouched");
});
