// A shell's RAM faulted in by the scrubber's thread while it waits: every RAM frame is gone
// over, no byte changes (a frame written meanwhile keeps what was written), and the work stops
// once the domain's runtime populates a frame of its own or the domain is dying.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PAGE_SIZE } from '../../../src/abi/xen.js';
import { CB_DYING, firstRamPfn } from '../../../src/hypervisor/layout.js';
import { ThreadScrubber } from '../../../src/hypervisor/scrub.js';
import { harness } from '../../support/hypervisor.js';

test('prefault goes over every RAM frame and changes no byte', async (t) => {
  const scrubber = new ThreadScrubber();
  t.after(() => scrubber.close());
  const d = harness(t).local({ ramFrames: 300 });
  const { mem8, geometry } = d.domain.view;
  const first = firstRamPfn(geometry);
  // What a restore or the guest wrote: a frame below the RAM, and RAM frames' first words.
  mem8[PAGE_SIZE + 5] = 0x5a;
  mem8[first * PAGE_SIZE] = 0x11;
  mem8[(first + 299) * PAGE_SIZE + 3] = 0x22;
  const before = mem8.slice();
  assert.equal(await scrubber.prefault(d.domain), 300);
  assert.deepEqual(mem8, before);
});

test('prefault stops once the runtime populates a frame, or the domain is dying', async (t) => {
  const scrubber = new ThreadScrubber();
  t.after(() => scrubber.close());
  const h = harness(t);
  const running = h.local({ ramFrames: 300 });
  const [pfn] = running.hc.populatePhysmap(1) as [number];
  running.domain.view.mem8[pfn * PAGE_SIZE] = 0x77;
  assert.equal(await scrubber.prefault(running.domain), 0);
  assert.equal(running.domain.view.mem8[pfn * PAGE_SIZE], 0x77, "the runtime's frame is untouched");

  const dying = h.local({ ramFrames: 300 });
  Atomics.store(dying.domain.view.ctl, CB_DYING, 1);
  assert.equal(await scrubber.prefault(dying.domain), 0);
});

test('prefaults and wipes share the thread: a wipe asked during a prefault is done', async (t) => {
  const scrubber = new ThreadScrubber();
  t.after(() => scrubber.close());
  const h = harness(t);
  const big = h.local({ ramFrames: 4096 });
  const prefaulted = scrubber.prefault(big.domain);
  const buf = new SharedArrayBuffer(1 << 16);
  new Uint8Array(buf).fill(9);
  await scrubber.scrub(buf);
  assert.ok(new Uint8Array(buf).every((b) => b === 0));
  assert.equal(await prefaulted, 4096);
});
