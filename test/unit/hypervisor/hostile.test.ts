// Bad input (issue 2): a guest in a real worker thread that scribbles over the shared pages it
// owns, maps what it was never granted, sends on closed ports, exhausts its quotas and floods
// its control port gets error codes, or at worst a crash of its own domain. After each abuse
// dom0 and a second guest must still do real work.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import {
  EVTCHN_FIFO_PRIORITY_DEFAULT, EVTCHN_FIFO_PRIORITY_MIN, EVTCHNSTAT_interdomain, EVTCHNSTAT_unbound, EVTCHNSTAT_virq, NR_VIRQS, VIRQ_DOM_EXC,
} from '../../../src/abi/event_channel.js';
import {
  GNTMAP_host_map, GNTMAP_readonly, GNTST_bad_domain, GNTST_bad_gntref, GNTST_bad_handle, GNTST_eagain, GNTST_general_error, GNTST_no_space, GRANT_ENTRIES_PER_FRAME,
  GTF_permit_access, GTF_readonly, GTF_reading, GTF_writing, GrantError,
} from '../../../src/abi/grant_table.js';
import { DOMID_SELF, PAGE_SIZE } from '../../../src/abi/xen.js';
import { XenError } from '../../../src/errors.js';
import {
  CB_FIFO_ARRAY, CB_FIFO_CONTROL, CB_FIFO_QUEUE_LOCK, CB_FIFO_QUEUE_TAIL, CB_HEADER_WORDS, CB_MAX_GRANT_FRAMES, CB_TOT_PAGES, EV_REMOTE_DOM, EV_STATE,
  EVTCHN_WORDS, CB_NR_GRANT_FRAMES, CB_RAM_HWM, GNTTAB_RESERVED_CONSOLE, GT_LOCK,
  GNTTAB_RESERVED_XENSTORE, PFN_CONSOLE, PFN_GRANT_TABLE, PFN_SHARED_INFO, PFN_XENSTORE, firstRamPfn,
} from '../../../src/hypervisor/layout.js';
import { setPort } from '../../../src/hypervisor/evtchn.js';
import { eventWord, PENDING } from '../../../src/hypervisor/evtchn-fifo.js';
import { populatedPfns } from '../../../src/migration/save.js';
import { FLOOD_ID_BASE, rng } from '../../support/hypervisor-vcpu.js';
import { waitFor } from '../../support/wait.js';
import { FORGEABLE, grantEntryAddr, gntst, harness, holdLock, pingPong, ramPage, xen, type Harness } from '../../support/hypervisor.js';

/**
 * A well-behaved guest connected to dom0 by an event channel (it echoes) and a grant each way,
 * and `check()`, which uses all of it and dom0's control plane.
 */
async function witness(h: Harness) {
  const good = await h.guest();
  const p0 = await h.dom0.evtchnAllocUnbound(good.domid);
  const pg = await good.hc<number>('evtchnBindInterdomain', 0, p0);
  h.dom0Events.listen(p0);
  await good.call('echo', pg);
  const dom0Page = ramPage(h.dom0, 0);
  const ref = h.dom0.grantAccess(good.domid, dom0Page.pfn, false);
  const [gpfn] = await good.hc<number[]>('populatePhysmap', 1);
  await good.call('write', gpfn! * PAGE_SIZE, new Uint8Array([0x60, 0x0d]));
  const gref = await good.hc<number>('grantAccess', 0, gpfn, true);
  let round = 0;
  return {
    good,
    async check(): Promise<void> {
      round++;
      const echoed = h.dom0Events.next(p0);
      h.dom0.evtchnSend(p0);
      await echoed;
      const handle = await good.call<number>('map', 0, ref, false);
      await good.call('poke', handle, 0, new Uint8Array([round]));
      await good.call('unmap', handle);
      assert.equal(dom0Page.page[0], round);
      const m = h.dom0.grantMap(good.domid, gref, true);
      assert.deepEqual([...m.page.subarray(0, 2)], [0x60, 0x0d]);
      h.dom0.grantUnmap(m.handle);
      const port = await h.dom0.evtchnAllocUnbound(good.domid);
      await h.dom0.evtchnClose(port);
      assert.equal(good.domain.shutdownReason, null);
      assert.equal(h.hv.dom0.shutdownReason, null);
    },
  };
}

/** The hostile guest, connected to dom0 by an event channel, and a witness. */
async function setup(t: TestContext, opts: Parameters<Harness['guest']>[0] = {}) {
  const h = harness(t);
  const w = await witness(h);
  const bad = await h.guest(opts);
  const p0 = await h.dom0.evtchnAllocUnbound(bad.domid);
  const pb = await bad.hc<number>('evtchnBindInterdomain', 0, p0);
  h.dom0Events.listen(p0);
  await w.check();
  return { h, w, bad, p0, pb };
}

/** The outcome of a call: 'ok', an errno, a GNTST name, or 'other: ...' (which fails the tests). */
async function outcome(call: () => unknown): Promise<string> {
  try {
    await call();
    return 'ok';
  } catch (e) {
    if (e instanceof XenError) return e.errno;
    if (e instanceof GrantError) return e.statusName;
    return `other: ${(e as Error).name}: ${(e as Error).message}`;
  }
}

function tally(outcomes: string[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const o of outcomes) t[o] = (t[o] ?? 0) + 1;
  return t;
}

/** dom0 maps a ref of `domid` and unmaps it at once, as a backend probing a ring would. */
function mapAndUnmap(h: Harness, domid: number, ref: number, readonly: boolean): () => void {
  return () => h.dom0.grantUnmap(h.dom0.grantMap(domid, ref, readonly).handle);
}

test('garbage in its grant table: dom0 maps every ref and gets only GNTST codes', async (t) => {
  const { h, w, bad } = await setup(t);
  const entries = 4 * (PAGE_SIZE / 8);
  await bad.call('scribble', PFN_GRANT_TABLE * PAGE_SIZE, entries * 8, 1);
  // Entries that look right but point at what cannot be granted, and some with forged
  // GTF_reading/GTF_writing bits.
  const forged = [PFN_SHARED_INFO, PFN_GRANT_TABLE + 1, bad.domain.view.nrFrames, -1];
  for (let i = 0; i < forged.length; i++) {
    const entry = new Uint32Array([GTF_permit_access | GTF_reading | GTF_writing, forged[i]! >>> 0]);
    await bad.call('write', grantEntryAddr(i), new Uint8Array(entry.buffer));
  }
  const outcomes: string[] = [];
  for (let ref = 0; ref < entries + 8; ref++) {
    for (const readonly of [true, false]) outcomes.push(await outcome(mapAndUnmap(h, bad.domid, ref, readonly)));
  }
  const counts = tally(outcomes);
  assert.deepEqual(Object.keys(counts).filter((o) => !o.startsWith('GNTST_') && o !== 'ok'), []);
  assert.equal(counts['GNTST_bad_gntref'], 16);
  assert.equal(counts['GNTST_bad_page'] ?? 0, forged.length * 2);
  assert.equal(bad.domain.view.foreignPins, 0);
  // The guest's own grant operations still answer with codes.
  await assert.rejects(bad.call('map', 0, 1 << 20, true), gntst(GNTST_bad_gntref));
  await w.check();
});

test('garbage in its shared_info (pending/mask bitmaps, selector, upcall bytes) and ring pages', async (t) => {
  const { h, w, bad, p0, pb } = await setup(t);
  await bad.call('scribble', PFN_SHARED_INFO * PAGE_SIZE, PAGE_SIZE, 2);
  for (let i = 0; i < 100; i++) h.dom0.evtchnSend(p0);
  // The console and xenstore rings: garbage indices in pages granted to dom0 through the
  // reserved refs. No consumer runs here; dom0 can map them and reads only bytes.
  await bad.call('scribble', PFN_XENSTORE * PAGE_SIZE, 2 * PAGE_SIZE, 3);
  await bad.hc('grantAccessRef', GNTTAB_RESERVED_CONSOLE, 0, PFN_CONSOLE, false);
  await bad.hc('grantAccessRef', GNTTAB_RESERVED_XENSTORE, 0, PFN_XENSTORE, false);
  for (const ref of [GNTTAB_RESERVED_CONSOLE, GNTTAB_RESERVED_XENSTORE]) {
    const m = h.dom0.grantMap(bad.domid, ref, false);
    assert.equal(m.page.length, PAGE_SIZE);
    h.dom0.grantUnmap(m.handle);
  }
  await w.check();
  // The guest still runs, and its events still work once it clears its own mess.
  await bad.call('write', PFN_SHARED_INFO * PAGE_SIZE, new Uint8Array(PAGE_SIZE));
  await bad.call('listen', pb);
  await pingPong(h, bad, p0, pb);
});

test('maps refs it was never granted, unmaps handles it never had', async (t) => {
  const { h, w, bad } = await setup(t, { maxMaptrackFrames: 1 });
  const page = ramPage(h.dom0, 0x33);
  const forGood = h.dom0.grantAccess(w.good.domid, page.pfn, false);
  const forBad = h.dom0.grantAccess(bad.domid, page.pfn, true);
  await assert.rejects(bad.call('map', 0, forGood, true), gntst(GNTST_general_error), "the witness's grant");
  await assert.rejects(bad.call('map', 0, forBad, false), gntst(GNTST_general_error), 'rw map of a ro grant');
  await assert.rejects(bad.call('map', 0, 1 << 30, true), gntst(GNTST_bad_gntref));
  await assert.rejects(bad.call('map', w.good.domid, 8, true), gntst(GNTST_bad_domain), 'not connected to the witness');
  await assert.rejects(bad.hc('connect', w.good.domid), xen('EPERM'));
  await assert.rejects(bad.hc('connect', 4242), xen('ESRCH'));
  const next = rng(7);
  const outcomes: string[] = [];
  for (let i = 0; i < 300; i++) outcomes.push(await outcome(() => bad.call('map', 0, next() % 4096, next() % 2 === 0)));
  for (let i = 0; i < 100; i++) outcomes.push(await outcome(() => bad.call('unmap', next() % 1024)));
  assert.deepEqual(Object.keys(tally(outcomes)).filter((o) => o.startsWith('other')), []);
  // What it was granted, it may map until its maptrack is full.
  const handles: number[] = [];
  for (;;) {
    const o = await bad.call<number>('map', 0, forBad, true).catch((e: GrantError) => e);
    if (o instanceof GrantError) {
      assert.equal(o.status, GNTST_no_space);
      break;
    }
    handles.push(o);
  }
  assert.equal(handles.length, 510);
  assert.equal(h.dom0.endAccess(forBad, false), false, 'dom0 cannot revoke while mapped, as in Xen');
  await w.check();
  await assert.rejects(bad.call('unmap', 4000), gntst(GNTST_bad_handle));
  // Destroying the guest drops every one of its mappings.
  await h.hv.destroyDomain(bad.domid);
  assert.equal(h.hv.dom0.view.foreignPins, 0);
  assert.equal(h.dom0.endAccess(forBad), true);
  await w.check();
});

test('sends on closed, unbound and made-up ports', async (t) => {
  const { h, w, bad, p0, pb } = await setup(t);
  await bad.hc('evtchnClose', pb);
  await assert.rejects(bad.hc('evtchnSend', pb), xen('EINVAL'));
  h.dom0.evtchnSend(p0); // dom0's end is unbound now: dropped
  const offered = await bad.hc<number>('evtchnAllocUnbound', 0);
  await bad.hc('evtchnSend', offered); // unbound: dropped, as Xen does
  const next = rng(11);
  const outcomes: string[] = [];
  for (let i = 0; i < 200; i++) {
    const port = [next() % 2048, -(next() % 5), next() / 3][i % 3]!;
    outcomes.push(await outcome(() => bad.hc(['evtchnSend', 'evtchnUnmask', 'evtchnMask', 'evtchnClose'][i % 4] as 'evtchnSend', port)));
  }
  assert.deepEqual(Object.keys(tally(outcomes)).filter((o) => o !== 'ok' && o !== 'EINVAL'), []);
  await w.check();
});

test('exhausts its frames, ports and grant refs', async (t) => {
  const { h, w, bad } = await setup(t, { ramFrames: 8, maxEvtchns: 40, maxGrantFrames: 1 });
  for (let i = 0; i < 8; i++) await bad.hc('populatePhysmap', 1);
  await assert.rejects(bad.hc('populatePhysmap', 1), xen('ENOMEM'));
  await assert.rejects(bad.hc('populatePhysmap', 2 ** 53), xen('ENOMEM'));
  await assert.rejects(bad.hc('decreaseReservation', [0, 1, 2]), xen('EINVAL'));
  let ports = 0;
  for (;;) {
    const o = await outcome(() => bad.hc('evtchnAllocUnbound', 0));
    if (o !== 'ok') {
      assert.equal(o, 'ENOSPC');
      break;
    }
    ports++;
  }
  assert.equal(ports, 39, 'one port is the channel to dom0');
  let refs = 0;
  for (;;) {
    const o = await outcome(() => bad.hc('grantAccess', 0, PFN_CONSOLE, true));
    if (o !== 'ok') {
      assert.equal(o, 'GNTST_general_error');
      break;
    }
    refs++;
  }
  assert.equal(refs, PAGE_SIZE / 8 - 8, 'all but the reserved entries');
  await assert.rejects(bad.hc('grantSetupTable', 2), gntst(GNTST_general_error));
  await w.check();
  // dom0 still creates domains, and they work.
  const more = await h.guest();
  assert.equal(typeof (await more.hc('evtchnAllocUnbound', 0)), 'number');
});

test('floods its control port with malformed, unknown and oversized requests', async (t) => {
  const { w, bad } = await setup(t);
  let id = FLOOD_ID_BASE;
  const req = (op: unknown, args: unknown) => ({ id: id++, op, args });
  // Dropped without a reply: not a request at all.
  const shapeless = [null, 42, 'close', [], {}, { id: 'x', op: 'close', args: [] }, { id: 1.5e9, op: 7, args: [] },
    { id: 1.6e9, op: 'close' }, { id: 1.7e9, op: 'close', args: 'abc' }, { push: { peer: null } }];
  const answered = [
    ...['constructor', '__proto__', 'toString', 'hasOwnProperty', 'destroyDomain', 'link', '', 'x'.repeat(100_000)]
      .map((op) => req(op, [])),
    req('allocUnbound', ['x', {}]),
    req('allocUnbound', [0, 0]),
    req('bindInterdomain', [null, null]),
    req('bindInterdomain', [0, { valueOf: 1 }]),
    req('bindVirq', [VIRQ_DOM_EXC, 0]),
    req('bindVirq', [NR_VIRQS * 1000, 'vcpu']),
    req('close', [[1]]),
    req('status', [0, 1]),
    req('status', [DOMID_SELF, -1]),
    req('setupTable', ['9']),
    req('setupTable', [2 ** 31]),
    req('peer', [w.good.domid]),
    req('peer', [bad.domid]),
    req('shutdown', ['sideways']),
    req('shutdown', [{ toString: 'crash' }]),
    req('close', new Array(100_000).fill(1)),
    req('bindVirq', ['v'.repeat(4 << 20), 0]),
    req('allocUnbound', [new Uint8Array(8 << 20), 0]),
  ];
  // Fewer than CONTROL_BURST in all: past that, the domain is cut off as a flooder (control.test.ts).
  const many = Array.from({ length: 2_000 }, (_, i) => req(['close', 'status', 'bindVirq', 'nope'][i % 4], [i, i]));
  const replies = await bad.call<{ id: number; ok: boolean; errno?: string; status?: number }[]>(
    'flood', [...shapeless, ...answered, ...many], answered.length + many.length);
  assert.equal(replies.length, answered.length + many.length);
  const byError = tally(replies.map((r) => (r.ok ? 'ok' : r.errno ?? new GrantError(r.status!, '').statusName)));
  assert.deepEqual(Object.keys(byError).sort(), ['EINVAL', 'ENOENT', 'ENOSYS', 'EPERM', 'ESRCH', 'GNTST_general_error']);
  assert.equal(byError['ENOSYS'], 8 + many.length / 4);
  assert.equal(bad.domain.shutdownReason, null, 'no garbage shut the guest down');
  await w.check();
  // The guest's own control calls still work afterwards.
  const port = await bad.hc<number>('evtchnAllocUnbound', 0);
  await bad.hc('evtchnClose', port);
});

test('rewrites a grant entry without pause while dom0 maps it: every map succeeds or fails cleanly', async (t) => {
  const { h, w, bad } = await setup(t);
  const [pfn] = await bad.hc<number[]>('populatePhysmap', 1);
  const ref = 8;
  const word = (flags: number, domid: number) => ((domid << 16) | flags) >>> 0;
  await bad.call('write', grantEntryAddr(ref) + 4, new Uint8Array(new Uint32Array([pfn!]).buffer));
  const values = [word(GTF_permit_access, 0), word(GTF_permit_access | GTF_readonly, 0), 0, word(GTF_permit_access, w.good.domid)];
  const flipping = bad.call<number>('flip', grantEntryAddr(ref), values, 300);
  let done = false;
  void flipping.finally(() => (done = true));
  const outcomes: string[] = [];
  while (!done) {
    for (let i = 0; i < 200; i++) outcomes.push(await outcome(mapAndUnmap(h, bad.domid, ref, i % 2 === 0)));
    await new Promise((r) => setImmediate(r));
  }
  assert.ok((await flipping) > 0);
  const counts = tally(outcomes);
  t.diagnostic(`maps while the entry flips: ${JSON.stringify(counts)}`);
  assert.deepEqual(Object.keys(counts).filter((o) => o !== 'ok' && o !== 'GNTST_general_error'), []);
  assert.equal(bad.domain.view.foreignPins, 0);
  await w.check();
});

test('a guest that crashes while holding mappings costs only itself', async (t) => {
  const { h, w, bad } = await setup(t);
  const page = ramPage(h.dom0, 0);
  const ref = h.dom0.grantAccess(bad.domid, page.pfn, false);
  const handle = await bad.call<number>('map', 0, ref, false);
  await bad.call('poke', handle, 0, new Uint8Array([0xee]));
  await bad.call('crash');
  await bad.exited;
  assert.equal(bad.domain.stateString, '---sc-');
  await w.check();
  assert.equal(h.dom0.endAccess(ref, false), false);
  await h.hv.destroyDomain(bad.domid);
  assert.equal(h.dom0.endAccess(ref), true);
  assert.equal(page.page[0], 0xee);
  await w.check();
});

test('destroyed while its vCPU is inside event-channel hypercalls: dom0 never waits on a lock the vCPU died holding', async (t) => {
  const h = harness(t);
  const w = await witness(h);
  for (let i = 0; i < 6; i++) {
    const bad = await h.guest();
    const p0 = await h.dom0.evtchnAllocUnbound(bad.domid);
    const pb = await bad.hc<number>('evtchnBindInterdomain', 0, p0);
    await bad.call('hammer', 'evtchnSend', pb);
    await new Promise((r) => setTimeout(r, 2 + 3 * i));
    await h.hv.destroyDomain(bad.domid);
    assert.deepEqual(await h.dom0.evtchnStatus(p0), { status: EVTCHNSTAT_unbound, vcpu: 0, remoteDomid: bad.domid });
  }
  await w.check();
});

/** lock.ts's tag of a holder whose thread is unknown: never judged dead, so a waiter waits its whole bound. */
const LIVE_HOLDER = (1 << 30) - 1;

// Its control block is memory it can write (layout.ts). Before, dom0's binds and closes took the
// guest's event-channel lock there, on dom0's thread: a holder written into it made each wait
// 2 s (every other domain's backends and xenstored stalled) and fail with ETIMEDOUT, and a
// destroy walked the port count it claimed, past its table, and threw a RangeError.
test('writes a live holder into every word of its control block: what dom0 does with it returns at once, and it can be torn down', async (t) => {
  const { h, w, bad, p0 } = await setup(t);
  const offered = await bad.hc<number>('evtchnAllocUnbound', 0);
  const [gpfn] = await bad.hc<number[]>('populatePhysmap', 1);
  const gref = await bad.hc<number>('grantAccess', 0, gpfn, true);
  await bad.call('ctlFill', LIVE_HOLDER);
  assert.equal(await outcome(() => h.dom0.evtchnBindInterdomain(bad.domid, offered)), 'EINVAL', 'its entry is not an unbound port for dom0 any more');
  assert.equal(await outcome(() => h.dom0.evtchnSend(p0)), 'ok', 'dropped: its end does not point back');
  assert.equal(await outcome(() => h.dom0.evtchnClose(p0)), 'ok');
  assert.match(await outcome(mapAndUnmap(h, bad.domid, gref, true)), /^(ok|GNTST_\w+)$/);
  await w.check();
  await h.hv.destroyDomain(bad.domid);
  await w.check();
});

// A port's entry is in that control block: a destroy closes every port it claims. Before, an entry
// that claimed a VIRQ past the VIRQ table had the close index past the control block: the destroy
// threw (a RangeError) halfway, and the mappings it held were never dropped.
test('rewrites its ports as VIRQs it cannot have: its destroy closes them and drops its mappings', async (t) => {
  const { h, w, bad, pb } = await setup(t);
  const page = ramPage(h.dom0, 1);
  const ref = h.dom0.grantAccess(bad.domid, page.pfn, false);
  await bad.call('map', 0, ref, false);
  const ports = [pb, await bad.hc<number>('evtchnAllocUnbound', 0), await bad.hc<number>('evtchnAllocUnbound', 0)];
  for (const [i, virq] of [NR_VIRQS, 0x7fff_ffff, -1].entries()) {
    const base = bad.domain.view.evtchnBase + ports[i]! * EVTCHN_WORDS;
    await bad.call('ctlStore', base + EV_REMOTE_DOM, virq);
    await bad.call('ctlStore', base + EV_STATE, EVTCHNSTAT_virq);
  }
  await h.hv.destroyDomain(bad.domid);
  assert.equal(h.dom0.endAccess(ref), true, 'its mapping of the page dom0 granted was dropped');
  await w.check();
});

// The remote domain and port a close (or a destroy's) puts back to unbound are in that table too.
// Before, dom0 read and wrote the remote port there unbounded: a port below the remote's table
// named words of its header, and where they happened to read as an entry pointing back (here
// nr/max_grant_frames and tot_pages), the close zeroed that honest domain's tot_pages and max_pages.
test("names another domain's header words as its ports' other end: dom0's close and its destroy leave them alone", async (t) => {
  const h = harness(t);
  const honest = h.local({ maxGrantFrames: 2 });
  const bad = h.local();
  await honest.hc.grantSetupTable(2);
  honest.hc.populatePhysmap(5);
  const hv = honest.domain.view;
  const header = () => [...hv.ctl.subarray(0, CB_HEADER_WORDS)];
  const before = header();
  // Its port numbered as honest's tot_pages, to match the word an entry's remote port would be.
  let port = 0;
  while (port < Atomics.load(hv.ctl, CB_TOT_PAGES)) port = await bad.hc.evtchnAllocUnbound(0);
  const below = (CB_NR_GRANT_FRAMES - hv.evtchnBase) / EVTCHN_WORDS;
  assert.ok(Number.isInteger(below) && below < 0 && before[CB_NR_GRANT_FRAMES] === EVTCHNSTAT_interdomain && before[CB_MAX_GRANT_FRAMES] === bad.domid);
  const rewrite = () => setPort(bad.domain.view, port, EVTCHNSTAT_interdomain, honest.domid, below);
  rewrite();
  await bad.hc.evtchnClose(port);
  assert.deepEqual(header(), before, 'its close');
  rewrite();
  await h.hv.destroyDomain(bad.domid);
  assert.deepEqual(header(), before, 'its destroy');
  honest.hc.populatePhysmap(1);
});

// What dom0 reads of the FIFO queues (the array's frames, the control block's place, each
// queue's tail) is in that control block too. Before, a frame or port out of range there had
// dom0's send index past the guest's memory: a RangeError out of dom0's evtchnSend.
test('FIFO ABI: it points its array pages, control block and queue tails outside its memory: dom0 sends on, only its events suffer', async (t) => {
  const { h, w, bad, p0 } = await setup(t);
  const [cb, arr] = await bad.hc<number[]>('populatePhysmap', 2);
  await bad.hc('evtchnInitControl', cb, 0, 0);
  await bad.hc('evtchnExpandArray', arr);
  const frames = bad.domain.view.nrFrames;
  for (const [index, value] of [
    [CB_FIFO_ARRAY, frames], [CB_FIFO_QUEUE_TAIL + EVTCHN_FIFO_PRIORITY_DEFAULT, 0x7fff_ffff], [CB_FIFO_CONTROL, frames * PAGE_SIZE],
    [CB_FIFO_ARRAY, -1], [CB_FIFO_CONTROL, -8],
  ] as const) {
    await bad.call('ctlStore', index, value);
    for (let i = 0; i < 3; i++) assert.equal(await outcome(() => h.dom0.evtchnSend(p0)), 'ok', `word ${index} = ${value}`);
  }
  await w.check();
  await h.hv.destroyDomain(bad.domid);
  await w.check();
});

// The grant table's size and the RAM's high-water mark are words of that control block: dom0
// bounds them by the domain's geometry. Before, a raised table size had dom0's map read past the
// guest's memory (a RangeError), and a raised high-water mark had a save walk frames it does not have.
test('raises its grant table size and its RAM high-water mark: dom0 stays within its geometry', async (t) => {
  const { h, w, bad } = await setup(t);
  const geometry = bad.domain.view.geometry;
  await bad.call('ctlStore', CB_NR_GRANT_FRAMES, 0x7fff_ffff);
  const past = geometry.maxGrantFrames * GRANT_ENTRIES_PER_FRAME;
  for (const ref of [past, past + 1_000_000, 0x7fff_0000]) {
    assert.equal(await outcome(mapAndUnmap(h, bad.domid, ref, true)), 'GNTST_bad_gntref', `ref ${ref}`);
  }
  await bad.call('ctlStore', CB_RAM_HWM, firstRamPfn(geometry) + geometry.ramFrames + 16);
  const pfns = populatedPfns(bad.domain);
  assert.equal(pfns.length, geometry.ramFrames, 'no more frames than it has');
  assert.ok(pfns.every((p) => p < bad.domain.view.nrFrames));
  await w.check();
});

// Its grant table's lock, the count of pins others hold on it and its active entries were words of
// its control block. Before, a holder written into the lock made each of dom0's maps and copies of
// its grants (its backends') wait 2 s on dom0's thread and fail (GNTST_eagain), and a pin count it
// wrote decided when it was reaped: never, or while dom0 still mapped its memory. They are in a
// buffer its own thread is never given.
test('writes a live holder into every word of its control block it can and still run: dom0 maps its grants at once, and it is reaped once dom0 unmaps', async (t) => {
  const { h, w, bad } = await setup(t);
  assert.deepEqual((await bad.call<string[]>('ownBuffers')).includes('grants'), false, "its grant table's hypervisor side is not its own thread's");
  const [gpfn] = await bad.hc<number[]>('populatePhysmap', 1);
  const gref = await bad.hc<number>('grantAccess', 0, gpfn, true);
  for (const i of FORGEABLE) await bad.call('ctlStore', i, LIVE_HOLDER);
  const m = h.dom0.grantMap(bad.domid, gref, true);
  await w.check();
  const reaped = new Promise<number>((resolve) => h.hv.on('domainReaped', resolve));
  await h.hv.destroyDomain(bad.domid);
  assert.equal(h.hv.findDomain(bad.domid)?.dying, true, 'not reaped while dom0 maps its page');
  h.dom0.grantUnmap(m.handle);
  h.hv.domains(); // a reap
  assert.equal(await reaped, bad.domid);
  await w.check();
});

// A mapper's maptrack (what names each pin it holds) is memory its thread holds, where its guest
// may reach it (SECURITY.md, the known hole). Before, dom0's destroy released whatever pin a
// handle there named: a forged one took another mapper's pin away, so the granter could be
// reaped, and its memory handed on, while dom0 still mapped its page.
test("its maptrack names a pin dom0 holds on another guest's grant: its destroy releases none of that guest's pins", async (t) => {
  const { h, w, bad } = await setup(t);
  const mate = await h.guest();
  const [mpfn] = await mate.hc<number[]>('populatePhysmap', 1);
  const mref = await mate.hc<number>('grantAccess', 0, mpfn, true);
  const m = h.dom0.grantMap(mate.domid, mref, true);
  const page = ramPage(h.dom0, 1);
  await bad.call('map', 0, h.dom0.grantAccess(bad.domid, page.pfn, false), false);
  const mt = bad.domain.maptrack!;
  const [[handle]] = [...mt.live()];
  mt.free(handle!);
  mt.alloc(mref, GNTMAP_host_map | GNTMAP_readonly, mate.domid);
  await h.hv.destroyDomain(bad.domid);
  assert.equal(mate.domain.view.foreignPins, 1, "dom0's pin stays");
  h.dom0.grantUnmap(m.handle);
  assert.equal(mate.domain.view.foreignPins, 0);
  await w.check();
});

test("a mapper stuck holding a linked peer's grant lock: dom0's map of that peer's grant gets GNTST_eagain after a bound; the mapper's destroy frees the lock and crashes that peer", async (t) => {
  const { h, w, bad } = await setup(t);
  const mate = await h.guest();
  // The mate binds to the hostile guest's port: the hostile guest is handed the mate's buffers.
  const offered = await bad.hc<number>('evtchnAllocUnbound', mate.domid);
  await mate.hc('evtchnBindInterdomain', bad.domid, offered);
  const [mpfn] = await mate.hc<number[]>('populatePhysmap', 1);
  const mref = await mate.hc<number>('grantAccess', 0, mpfn, true);
  await bad.call('holdLock', GT_LOCK, 'spin', mate.domid, 'grants');
  const grants = mate.domain.view.grants!;
  assert.notEqual(Atomics.load(grants, GT_LOCK), 0);
  assert.throws(() => h.dom0.grantMap(mate.domid, mref, true), gntst(GNTST_eagain));
  await h.hv.destroyDomain(bad.domid);
  assert.equal(Atomics.load(grants, GT_LOCK), 0);
  assert.equal(mate.domain.shutdownReason, 'crash', 'a table the dead vCPU may have been updating is not trusted again');
  await w.check();
});

// A destroy releases every pin the domain's maptrack names and skips the handles its guest forged
// (GNTST_bad_handle). Before, it skipped every failure: a pin it could not release (the granter's
// grant lock held past its bound) stayed, and its granter was never reaped, with nothing said.
test("a destroy that cannot release a pin (the granter's grant lock held past its bound) completes and says so", async (t) => {
  const h = harness(t);
  const granter = await h.guest();
  const mapper = await h.guest();
  h.hv.link(mapper.domid, granter.domid);
  await mapper.hc('connect', granter.domid);
  const [pfn] = await granter.hc<number[]>('populatePhysmap', 1);
  await mapper.call('map', granter.domid, await granter.hc<number>('grantAccess', mapper.domid, pfn, true), true);
  const held = await holdLock(t, granter.domain.view.grants!, GT_LOCK);
  await assert.rejects(h.hv.destroyDomain(mapper.domid), gntst(GNTST_eagain));
  assert.equal(h.hv.findDomain(mapper.domid), undefined, 'the mapper was torn down and reaped all the same');
  assert.equal(granter.domain.view.foreignPins, 1, "the pin stays: the granter is not reaped under it");
  await held.release();
});

// Its FIFO queue locks are words of its control block too, and its own unmask takes them. Before,
// a Pool-0 thread sending to it (a peer guest, a driver domain's backend) waited for a held one:
// a holder it wrote there made each such send wait 2 s and fail (ETIMEDOUT). Every sender defers now.
test("FIFO ABI: it writes a live holder into its queue locks: a peer thread's sends to it return at once, and are linked once it lets go", async (t) => {
  const { h, w, bad } = await setup(t);
  const [cb, arr] = await bad.hc<number[]>('populatePhysmap', 2);
  await bad.hc('evtchnInitControl', cb, 0, 0);
  await bad.hc('evtchnExpandArray', arr);
  const mate = await h.guest();
  const offered = await bad.hc<number>('evtchnAllocUnbound', mate.domid);
  const mp = await mate.hc<number>('evtchnBindInterdomain', bad.domid, offered);
  for (let q = 0; q <= EVTCHN_FIFO_PRIORITY_MIN; q++) await bad.call('ctlStore', CB_FIFO_QUEUE_LOCK + q, LIVE_HOLDER);
  const word = eventWord(bad.domain.view, offered);
  Atomics.and(bad.domain.view.mem32, word, ~PENDING);
  assert.equal(await outcome(() => mate.hc('evtchnSend', mp)), 'ok');
  assert.equal(Atomics.load(bad.domain.view.mem32, word) & PENDING, 0, 'not linked while the lock is held');
  for (let q = 0; q <= EVTCHN_FIFO_PRIORITY_MIN; q++) await bad.call('ctlStore', CB_FIFO_QUEUE_LOCK + q, 0);
  assert.ok(await waitFor(() => (Atomics.load(bad.domain.view.mem32, word) & PENDING) !== 0, 10_000, 5), "linked once the lock was let go");
  await w.check();
});

test('FIFO ABI: it rewrites its event words and control block while dom0 sends: every send returns, only its events suffer', async (t) => {
  const { h, w, bad, p0 } = await setup(t);
  const [cb, arr] = await bad.hc<number[]>('populatePhysmap', 2);
  await bad.hc('evtchnInitControl', cb, 0, 0);
  await bad.hc('evtchnExpandArray', arr);
  const more = [p0];
  for (let i = 0; i < 3; i++) {
    const p = await h.dom0.evtchnAllocUnbound(bad.domid);
    await bad.hc('evtchnBindInterdomain', 0, p);
    more.push(p);
  }
  // Its first array page holds the words of all its ports; its control block the heads and ready bits.
  const churning = bad.call<number>('churn', arr! * PAGE_SIZE, 16, 7, 400);
  const churned = bad.call<number>('churn', cb! * PAGE_SIZE, 18, 8, 400);
  await new Promise((r) => setTimeout(r, 20));
  let sends = 0;
  const end = performance.now() + 300;
  while (sends < 200_000 && performance.now() < end) {
    for (const p of more) h.dom0.evtchnSend(p);
    sends += more.length;
  }
  assert.ok((await churning) > 0 && (await churned) > 0 && sends > 0);
  await w.check();
  // It is still a domain dom0 can talk to and tear down.
  assert.equal((await h.dom0.evtchnStatus(p0)).status, EVTCHNSTAT_interdomain);
  await h.hv.destroyDomain(bad.domid);
  assert.equal((await h.dom0.evtchnStatus(p0)).status, EVTCHNSTAT_unbound);
  await w.check();
});

test('bounded fuzz: random hypercalls and scribbles from a fixed seed', async (t) => {
  const { h, w, bad } = await setup(t, { ramFrames: 32, maxEvtchns: 64 });
  const seed = 0x5eed;
  const next = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[next() % xs.length]!;
  const int = () => pick([0, 1, 2, 3, 5, 8, 63, 64, 65, 1023, 1024, 4095, 4096, -1, 2 ** 31, 2 ** 32, 1.5, NaN, next() % 70]);
  const dom = () => pick([0, bad.domid, w.good.domid, DOMID_SELF, 99, -1, 0x7ff4, 1.5]);
  const page = ramPage(h.dom0, 1);
  for (let i = 0; i < 4; i++) h.dom0.grantAccess(bad.domid, page.pfn, i % 2 === 0);
  const side = () => (next() % 2 ? { domid: dom(), ref: int(), offset: int() } : { pfn: int(), offset: int() });
  const ops: (() => Promise<unknown>)[] = [
    () => bad.hc(pick(['evtchnSend', 'evtchnUnmask', 'evtchnMask', 'evtchnClose']) as 'evtchnSend', int()),
    () => bad.hc('evtchnStatus', int(), dom()),
    () => bad.hc('evtchnAllocUnbound', dom(), dom()),
    () => bad.hc('evtchnBindInterdomain', dom(), int()),
    () => bad.hc('evtchnBindVirq', int(), pick([0, 0, 1, -1])),
    () => bad.call('map', dom(), pick([8, 9, 10, 11, int()]), next() % 2 === 0),
    () => bad.call('unmap', int()),
    () => bad.hc('grantCopy', [{ source: side(), dest: side(), len: pick([0, 1, 4096, 4097, int()]) }]),
    () => bad.hc('grantSetupTable', int()),
    () => bad.hc('grantAccess', dom(), int(), next() % 2 === 0),
    () => bad.hc('populatePhysmap', pick([0, 1, 2, 40, int()])),
    () => bad.hc('decreaseReservation', [int(), int()].slice(0, 1 + (next() % 2))),
    () => bad.hc('connect', dom()),
    () => bad.hc('setTimer', pick([0, performance.now() + 1, -5])),
    () => bad.call('scribble', (next() % (PFN_GRANT_TABLE + 2)) * PAGE_SIZE + (next() % PAGE_SIZE), next() % 512, next()),
  ];
  const outcomes: string[] = [];
  for (let i = 0; i < 1500; i++) outcomes.push(await outcome(pick(ops)));
  const counts = tally(outcomes);
  t.diagnostic(`fuzz seed ${seed}: ${JSON.stringify(counts)}`);
  assert.deepEqual(Object.keys(counts).filter((o) => o.startsWith('other')), []);
  assert.ok(counts['ok']! > 100 && counts['EINVAL']! > 100);
  assert.equal(bad.domain.shutdownReason, null);
  await w.check();
  await h.hv.destroyDomain(bad.domid);
  assert.equal(h.hv.dom0.view.foreignPins, 0, "destroy dropped whatever the fuzz left mapped");
  await w.check();
});
