// Event channels, FIFO ABI: init_control/expand_array/set_priority as Xen checks them, the
// queues the hypervisor links in guest memory (head, LINK fields, ready bits), priorities,
// masking, events before their array page, busy ports, and dom0 past the 2-level ABI's 4,095.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import {
  EVTCHN_FIFO_CB_HEAD, EVTCHN_FIFO_CB_READY, EVTCHN_FIFO_LINK_MASK, EVTCHN_FIFO_PRIORITY_DEFAULT,
  SHINFO_EVTCHN_PENDING,
} from '../../../src/abi/event_channel.js';
import { PAGE_SIZE } from '../../../src/abi/xen.js';
import { directChannel } from '../../../src/hypervisor/control.js';
import { doorbellBytes, takeRung } from '../../../src/hypervisor/doorbell.js';
import { fifoChain, fifoPortState } from '../../../src/hypervisor/evtchn-fifo-dump.js';
import { breakQueueLocks, BUSY, eventWord, fifoSetPending, LINKED, MASKED, PENDING } from '../../../src/hypervisor/evtchn-fifo.js';
import { DEFERRED_RETRY_MAX_MS, UPCALL_WORD, deferredEvents, deferredRetryMs, retryTimerThrough } from '../../../src/hypervisor/evtchn.js';
import {
  CB_FIFO_ARRAY, CB_FIFO_CONTROL, CB_FIFO_NR_EVTCHNS, CB_FIFO_QUEUE_LOCK, CB_FIFO_QUEUE_TAIL, EV_FIFO, EVENT_WORDS_PER_PAGE, firstRamPfn, portBase,
} from '../../../src/hypervisor/layout.js';
import { POISONED, resetLock } from '../../../src/hypervisor/lock.js';
import { Hypercalls } from '../../../src/hypervisor/hypercalls.js';
import type { DomainView } from '../../../src/hypervisor/memory.js';
import { FifoQueues } from '../../../src/hypervisor/upcall-fifo.js';
import { UpcallLoop } from '../../../src/hypervisor/upcall.js';
import { dumpDomainEvtchn, dumpEvtchnInfo } from '../../../src/toolstack/debug-keys.js';
import { busyLock, harness, holdLock, whileBusy, xen, type Harness } from '../../support/hypervisor.js';

/**
 * A domain driven by hand from the test's thread, with no upcall loop: the test reads the
 * queues the hypervisor wrote and consumes them with FifoQueues, as its kernel would.
 */
async function fifoDomain(h: Harness, opts: { arrayPages?: number; ramFrames?: number } = {}) {
  const domain = h.hv.createDomain({ name: `fifo${h.hv.domains().length}`, ramFrames: opts.ramFrames ?? 16 });
  const hc = new Hypercalls(domain.view, directChannel(h.hv.controlPlane(domain.domid)));
  const [cbPfn] = hc.populatePhysmap(1);
  const offset = 64;
  assert.equal(await hc.evtchnInitControl(cbPfn!, offset, 0), 17);
  const cb = cbPfn! * PAGE_SIZE + offset;
  const queues = new FifoQueues(domain.view.mem32, cb);
  const pages: number[] = [];
  const expand = async (): Promise<void> => {
    const [pfn] = hc.populatePhysmap(1);
    queues.addPage(pfn!);
    pages.push(pfn!);
    await hc.evtchnExpandArray(pfn!);
  };
  for (let i = 0; i < (opts.arrayPages ?? 1); i++) await expand();
  const m = domain.view.mem32;
  const word = (port: number): number => Atomics.load(m, pages[port >> 10]! * 1024 + (port & 1023));
  const setWord = (port: number, v: number): void => {
    Atomics.store(m, pages[port >> 10]! * 1024 + (port & 1023), v);
  };
  /** Consume everything queued: the ports handled, in order. */
  const drain = (budget = 1 << 20): number[] => {
    const seen: number[] = [];
    queues.drain(budget, (p) => seen.push(p));
    return seen;
  };
  const upcall = (): number => Atomics.exchange(m, UPCALL_WORD, 0) & 0xff;
  return {
    domain, hc, queues, expand, word, setWord, drain, upcall,
    head: (q: number) => Atomics.load(m, ((cb + EVTCHN_FIFO_CB_HEAD) >> 2) + q),
    setHead: (q: number, port: number) => Atomics.store(m, ((cb + EVTCHN_FIFO_CB_HEAD) >> 2) + q, port),
    ready: () => Atomics.load(m, (cb + EVTCHN_FIFO_CB_READY) >> 2),
    /** A loopback port of its own that dom0 (or it) can raise: an IPI-like interdomain pair. */
    port: async (): Promise<[number, number]> => {
      const p0 = await h.dom0.evtchnAllocUnbound(domain.domid);
      return [p0, await hc.evtchnBindInterdomain(0, p0)];
    },
  };
}

test('init_control, expand_array and set_priority refuse what Xen refuses', async (t) => {
  const h = harness(t);
  const d = h.hv.createDomain({ name: 'plain', ramFrames: 200 });
  const hc = new Hypercalls(d.view, directChannel(h.hv.controlPlane(d.domid)));
  const [pfn] = hc.populatePhysmap(1);
  const pd = await hc.evtchnBindInterdomain(0, await h.dom0.evtchnAllocUnbound(d.domid));
  await assert.rejects(hc.evtchnExpandArray(pfn!), xen('EOPNOTSUPP'));
  await assert.rejects(hc.evtchnSetPriority(pd, 3), xen('ENOSYS'));
  await assert.rejects(hc.evtchnInitControl(pfn!, 0, 1), xen('ENOENT'));
  await assert.rejects(hc.evtchnInitControl(pfn!, 4, 0), xen('EINVAL'), 'not 8-byte aligned');
  await assert.rejects(hc.evtchnInitControl(pfn!, PAGE_SIZE - 64, 0), xen('EINVAL'), 'crosses the page');
  await assert.rejects(hc.evtchnInitControl(2, 0, 0), xen('EINVAL'), 'not RAM (the xenstore page)');
  await assert.rejects(hc.evtchnInitControl(pfn! + 1, 0, 0), xen('EINVAL'), 'not populated');
  assert.equal(await hc.evtchnInitControl(pfn!, PAGE_SIZE - 72, 0), 17);
  await assert.rejects(hc.evtchnInitControl(pfn!, 0, 0), xen('EINVAL'), 'already has one');
  await assert.rejects(hc.evtchnExpandArray(pfn! + 1), xen('EINVAL'));
  await assert.rejects(hc.evtchnSetPriority(pd, 16), xen('EINVAL'));
  await assert.rejects(hc.evtchnSetPriority(9999, 1), xen('EINVAL'));
  await hc.evtchnSetPriority(pd, 0);
  // The port count is a word of its control block, which its guest may rewrite (layout.ts).
  // Before, a count of no whole number of pages was taken as it was: -1024 wrote the frame over
  // its lowest queue's tail word, 512 wrote it nowhere (a fractional index) and counted it.
  const tail = Atomics.load(d.view.ctl, CB_FIFO_ARRAY - 1);
  for (const count of [-EVENT_WORDS_PER_PAGE, EVENT_WORDS_PER_PAGE / 2]) {
    Atomics.store(d.view.ctl, CB_FIFO_NR_EVTCHNS, count);
    await assert.rejects(hc.evtchnExpandArray(pfn!), xen('EINVAL'), `port count ${count}`);
    assert.equal(Atomics.load(d.view.ctl, CB_FIFO_NR_EVTCHNS), count);
  }
  assert.equal(Atomics.load(d.view.ctl, CB_FIFO_ARRAY - 1), tail);
  Atomics.store(d.view.ctl, CB_FIFO_NR_EVTCHNS, 0);
  const frames = hc.populatePhysmap(129);
  for (let i = 0; i < 128; i++) await hc.evtchnExpandArray(frames[i]!);
  await assert.rejects(hc.evtchnExpandArray(frames[128]!), xen('ENOSPC'));
});

test('events are linked in arrival order, the first one as head, and the upcall is raised once', async (t) => {
  const h = harness(t);
  const d = await fifoDomain(h);
  const ports = [await d.port(), await d.port(), await d.port()];
  // Each bind raised one event (Xen does, for notifications lost while unbound).
  assert.deepEqual(d.drain(), ports.map(([, p]) => p));
  d.upcall();
  const [a, b, c] = ports.map(([, p]) => p) as [number, number, number];
  for (const [p0] of [ports[1]!, ports[0]!, ports[2]!]) h.dom0.evtchnSend(p0);
  assert.equal(d.upcall(), 1);
  assert.equal(d.head(EVTCHN_FIFO_PRIORITY_DEFAULT), b);
  assert.equal(d.ready(), 1 << EVTCHN_FIFO_PRIORITY_DEFAULT);
  assert.equal(d.word(b) & EVTCHN_FIFO_LINK_MASK, a);
  assert.equal(d.word(a) & EVTCHN_FIFO_LINK_MASK, c);
  assert.equal(d.word(c), PENDING | LINKED, 'the tail links nowhere');
  // A second send of a pending event adds nothing (edge semantics).
  h.dom0.evtchnSend(ports[0]![0]);
  assert.equal(d.word(a) & EVTCHN_FIFO_LINK_MASK, c);
  assert.equal(d.upcall(), 0);
  assert.deepEqual(d.drain(), [b, a, c]);
  for (const p of [a, b, c]) assert.equal(d.word(p), 0, 'unlinked and not pending');
  assert.equal(d.ready(), 0);
  // The queue is empty: the next event is a new head, and raises the upcall again.
  h.dom0.evtchnSend(ports[2]![0]);
  assert.equal(d.head(EVTCHN_FIFO_PRIORITY_DEFAULT), c);
  assert.equal(d.upcall(), 1);
  assert.deepEqual(d.drain(), [c]);
});

test('a higher priority overtakes a lower queue, also in the middle of its walk', async (t) => {
  const h = harness(t);
  const d = await fifoDomain(h);
  const ports = [await d.port(), await d.port(), await d.port()];
  d.drain();
  const [low1, low2, urgent] = ports.map(([, p]) => p) as [number, number, number];
  await d.hc.evtchnSetPriority(urgent, 0);
  await d.hc.evtchnSetPriority(low2, 15);
  await d.hc.evtchnSetPriority(low1, 15);
  h.dom0.evtchnSend(ports[0]![0]);
  h.dom0.evtchnSend(ports[1]![0]);
  assert.equal(d.ready(), 1 << 15);
  const seen: number[] = [];
  // One event of the low queue, then the urgent one arrives.
  d.queues.drain(1, (p) => seen.push(p));
  assert.deepEqual(seen, [low1]);
  h.dom0.evtchnSend(ports[2]![0]);
  assert.equal(d.ready(), 1 | (1 << 15));
  d.queues.drain(10, (p) => seen.push(p));
  assert.deepEqual(seen, [low1, urgent, low2]);
});

test('a priority change moves later events to the new queue; the old queue is not corrupted', async (t) => {
  const h = harness(t);
  const d = await fifoDomain(h);
  const [[a0, a], [b0, b]] = [await d.port(), await d.port()];
  d.drain();
  h.dom0.evtchnSend(a0);
  assert.deepEqual(d.drain(), [a]); // unlinked by the guest; still the hypervisor's tail of queue 7
  await d.hc.evtchnSetPriority(a, 0);
  h.dom0.evtchnSend(a0); // linked on queue 0: queue 7's tail must forget it
  h.dom0.evtchnSend(b0); // so this one becomes queue 7's head, not a link after a's word
  assert.equal(d.head(0), a);
  assert.equal(d.head(EVTCHN_FIFO_PRIORITY_DEFAULT), b);
  assert.equal(d.word(a) & EVTCHN_FIFO_LINK_MASK, 0);
  assert.deepEqual(d.drain(), [a, b]);
});

test('masking: a masked event stays pending unlinked; unmask links it; a masked linked one is skipped', async (t) => {
  const h = harness(t);
  const d = await fifoDomain(h);
  const [[a0, a], [b0, b]] = [await d.port(), await d.port()];
  d.drain();
  d.upcall();
  d.hc.evtchnMask(a);
  assert.equal(d.word(a), MASKED);
  h.dom0.evtchnSend(a0);
  assert.equal(d.word(a), MASKED | PENDING);
  assert.equal(d.upcall(), 0);
  assert.deepEqual(d.drain(), []);
  d.hc.evtchnUnmask(a);
  assert.equal(d.word(a), PENDING | LINKED);
  assert.equal(d.upcall(), 1);
  assert.deepEqual(d.drain(), [a]);
  // Masked after it was linked: the guest unlinks it without handling it; unmask relinks it.
  h.dom0.evtchnSend(b0);
  d.hc.evtchnMask(b);
  assert.deepEqual(d.drain(), []);
  assert.equal(d.word(b), MASKED | PENDING);
  d.hc.evtchnUnmask(b);
  assert.deepEqual(d.drain(), [b]);
});

test('events before their array page are kept and raised when the page comes; 2-level pending bits carry over', async (t) => {
  const h = harness(t);
  const dom = h.hv.createDomain({ name: 'late', ramFrames: 16 });
  const hc = new Hypercalls(dom.view, directChannel(h.hv.controlPlane(dom.domid)));
  const early = await h.dom0.evtchnAllocUnbound(dom.domid);
  const ep = await hc.evtchnBindInterdomain(0, early); // pending under the 2-level ABI (bind raises one)
  assert.ok(Atomics.load(dom.view.mem32, SHINFO_EVTCHN_PENDING >> 2) & (1 << ep));
  const [cbPfn] = hc.populatePhysmap(1);
  await hc.evtchnInitControl(cbPfn!, 0, 0);
  const p0 = await h.dom0.evtchnAllocUnbound(dom.domid);
  const pd = await hc.evtchnBindInterdomain(0, p0); // no page yet: its bind event waits
  const queues = new FifoQueues(dom.view.mem32, cbPfn! * PAGE_SIZE);
  Atomics.store(dom.view.mem32, UPCALL_WORD, 0);
  const [arr] = hc.populatePhysmap(1);
  queues.addPage(arr!);
  await hc.evtchnExpandArray(arr!);
  assert.equal(Atomics.load(dom.view.mem32, UPCALL_WORD) & 0xff, 1);
  const seen: number[] = [];
  queues.drain(100, (p) => seen.push(p));
  assert.deepEqual(seen.sort((x, y) => x - y), [ep, pd].sort((x, y) => x - y));
});

test('a closed port still linked on a queue is busy: it is not handed out again until unlinked', async (t) => {
  const h = harness(t);
  const d = await fifoDomain(h);
  const [[a0, a]] = [await d.port()];
  d.drain();
  h.dom0.evtchnSend(a0);
  await d.hc.evtchnClose(a);
  assert.equal(d.word(a), LINKED, 'close clears PENDING only');
  const next = await d.hc.evtchnAllocUnbound(0);
  assert.notEqual(next, a);
  assert.deepEqual(d.drain(), [], 'the guest unlinks it and skips it (not pending)');
  assert.equal(await d.hc.evtchnAllocUnbound(0), a);
});

test('garbage in its own event words and control block: sends stay bounded and only its events suffer', async (t) => {
  const h = harness(t);
  const bad = await fifoDomain(h);
  const good = await fifoDomain(h);
  const badPorts = [await bad.port(), await bad.port(), await bad.port()];
  const [g0, gp] = await good.port();
  good.drain();
  h.dom0.evtchnSend(badPorts[0]![0]); // linked as the queue's tail
  // A tail forever BUSY with a LINK to nowhere, words linked to ports out of range, a head and
  // ready bits of garbage: the hypervisor must neither spin nor touch anything but its words.
  bad.setWord(badPorts[0]![1], LINKED | BUSY | 0x1ffff);
  bad.setWord(badPorts[1]![1], LINKED | MASKED | 77777);
  for (let i = 0; i < 1000; i++) {
    for (const [p0] of badPorts) h.dom0.evtchnSend(p0);
    bad.setWord(badPorts[2]![1], (i * 2654435761) | 0);
  }
  // Its consumer walks garbage without leaving its array, and then works again once cleaned.
  assert.ok(bad.drain(10_000).every((p) => p > 0 && p < bad.queues.covered));
  for (const [, p] of badPorts) bad.setWord(p, 0);
  bad.drain();
  h.dom0.evtchnSend(g0);
  assert.deepEqual(good.drain(), [gp]);
  assert.equal(good.word(gp), 0);
});

test('dom0 on the FIFO ABI holds more than 4,095 ports and gets their events', async (t) => {
  const h = harness(t);
  await h.dom0Events.loop.useFifo(h.dom0);
  const d = h.hv.createDomain({ name: 'many', ramFrames: 16, maxEvtchns: 8 });
  const hc = new Hypercalls(d.view, directChannel(h.hv.controlPlane(d.domid)));
  const ports: number[] = [];
  for (let i = 0; i < 4200; i++) ports.push(await h.dom0.evtchnAllocUnbound(d.domid));
  assert.equal(Math.max(...ports), 4200);
  const last = ports.at(-1)!;
  // The guest sends before dom0 has a handler (and an array page) for the port: the event waits
  // in the hypervisor and comes once the array grows to cover it.
  const pd = await hc.evtchnBindInterdomain(0, last);
  hc.evtchnSend(pd);
  h.dom0Events.listen(last);
  await h.dom0Events.until(last, 1);
  const next = h.dom0Events.next(last);
  hc.evtchnSend(pd);
  await next;
  assert.ok((h.dom0Events.loop.fifoPorts ?? 0) > last);
  assert.equal((await h.dom0.evtchnStatus(last)).remotePort, pd);
});

/** Another thread takes the domain's default queue lock, as a guest's send or unmask the OS preempted inside it would; `release` lets go. */
async function holdQueueLock(t: TestContext, view: DomainView): Promise<{ index: number; release(): Promise<unknown>; die(): Promise<unknown> }> {
  const index = CB_FIFO_QUEUE_LOCK + EVTCHN_FIFO_PRIORITY_DEFAULT;
  return { index, ...(await holdLock(t, view.ctl, index)) };
}

/** Until `cond` holds (checked every millisecond, for up to about 20 s on a loaded host). */
async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 20_000 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
  assert.ok(cond(), what);
}

/** A FIFO domain with a port bound to dom0's `p0`, nothing pending, and its default queue's lock held by another thread. */
async function heldQueue(t: TestContext) {
  const h = harness(t);
  const d = await fifoDomain(h);
  const [p0, p] = await d.port();
  d.drain();
  d.upcall();
  return { h, d, p0, p, held: await holdQueueLock(t, d.domain.view) };
}

test('a guest thread preempted while it holds a queue lock: dom0 does not wait for it, and the event is linked once the lock is free', async (t) => {
  const { h, d, p0, p, held } = await heldQueue(t);
  // Waiting would block this thread until the holder, which needs this thread's message, let go.
  h.dom0.evtchnSend(p0);
  assert.notEqual(Atomics.load(d.domain.view.ctl, held.index), 0, 'the lock is still held: the send did not wait for it');
  assert.equal(deferredEvents(d.domain.view), 1);
  assert.equal(d.word(p) & LINKED, 0, 'not linked while the lock is held');
  assert.equal(d.upcall(), 0);
  await held.release();
  await until('the deferred event was linked', () => deferredEvents(d.domain.view) === 0);
  assert.equal(d.upcall(), 1, 'the upcall is raised when it is linked');
  assert.deepEqual(d.drain(), [p]);
});

test('a queue lock its holder keeps: dom0 tries it ever less often, up to a bound, and links the event once it is free', async (t) => {
  const { h, d, p0, p, held } = await heldQueue(t);
  h.dom0.evtchnSend(p0);
  assert.equal(deferredRetryMs(d.domain.view), 1, 'tried again soon at first');
  // Not every millisecond for as long as the holder keeps it (a hostile guest, forever).
  await until('the retries backed off to their bound', () => deferredRetryMs(d.domain.view) === DEFERRED_RETRY_MAX_MS);
  assert.equal(deferredEvents(d.domain.view), 1, 'the event is kept, not dropped');
  assert.equal(d.word(p) & LINKED, 0);
  // Another event for the same held queue waits with it, at the same pace.
  h.dom0.evtchnSend(p0);
  assert.equal(deferredRetryMs(d.domain.view), DEFERRED_RETRY_MAX_MS);
  await held.release();
  await until('the deferred event was linked', () => deferredEvents(d.domain.view) === 0);
  assert.equal(deferredRetryMs(d.domain.view), undefined, 'nothing is left to retry');
  assert.equal(d.upcall(), 1);
  assert.deepEqual(d.drain(), [p]);
});

// A realm's copy of evtchn.ts arms its retries through its library OS's own timer (realm.ts hands
// globals.ts setOwnTimer to retryTimerThrough), which the pCPU keeps outside the domain's timer
// bound, one per domain (pcpu.ts, as set_timer_op's). Here a stand-in holds what it arms, and the
// bounded setTimeout refuses the retry (ENOMEM, as the realm's at its bound). Before, a refused
// retry waited for the realm's next timer turn: with all its timers long, for the soonest of them,
// and after a clearTimeout brought it below its bound, for whichever came next.
test('the retry arms the timer it is given, never the bounded setTimeout: one held at a time, and the event is linked when it fires once the lock is free', async (t) => {
  const { h, d, p0, p, held } = await heldQueue(t);
  const armed = new Map<number, () => void>();
  let nextId = 1;
  retryTimerThrough((fn) => {
    const id = nextId++;
    armed.set(id, fn);
    return { id } as unknown as NodeJS.Timeout;
  });
  const real = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout };
  globalThis.setTimeout = ((...a: Parameters<typeof setTimeout>) => {
    if (a[0]?.name === 'retryDeferred') throw new Error('ENOMEM: the domain has as many timers armed as its shared pCPU allows');
    return real.setTimeout(...a);
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((timer?: { id?: number }) => {
    if (typeof timer?.id === 'number') armed.delete(timer.id);
    else real.clearTimeout(timer as NodeJS.Timeout);
  }) as typeof clearTimeout;
  t.after(() => {
    Object.assign(globalThis, real);
    retryTimerThrough((fn, ms) => setTimeout(fn, ms).unref());
    // A retry the stand-in still holds (the test failed before it fired) runs now: the module
    // forgets the stand-in's handle, and arms a real timer if it has events left. Kept, that
    // handle would stop every later retry from being armed (armRetry: one armed sooner).
    for (const fn of armed.values()) fn();
  });
  /** The held retry fires: the realm gave its place back first. */
  const fire = () => {
    assert.equal(armed.size, 1, 'one retry timer is held');
    const [[id, fn]] = [...armed];
    armed.delete(id);
    fn();
  };
  h.dom0.evtchnSend(p0);
  h.dom0.evtchnSend(p0);
  assert.equal(deferredEvents(d.domain.view), 1);
  await new Promise((r) => real.setTimeout(r, 2));
  fire();
  assert.equal(deferredEvents(d.domain.view), 1, 'the lock is still held');
  assert.equal(armed.size, 1, 'armed again');
  await held.release();
  await new Promise((r) => real.setTimeout(r, 2 * DEFERRED_RETRY_MAX_MS));
  fire();
  assert.equal(deferredEvents(d.domain.view), 0, 'linked when it fired after the lock was freed');
  assert.equal(d.upcall(), 1);
  assert.deepEqual(d.drain(), [p]);
  assert.equal(armed.size, 0, 'nothing left to retry');
});

test("a driven loop that leaves FIFO events over its budget rings its pCPU's doorbell for them", async (t) => {
  const h = harness(t);
  await h.dom0Events.loop.useFifo(h.dom0);
  const buffer = new SharedArrayBuffer(doorbellBytes());
  const slot = 9;
  const d = h.hv.createDomain({ name: 'pooled', ramFrames: 16, maxEvtchns: 8192, doorbell: { buffer, slot }, pauseWord: new Int32Array(1) });
  const hc = new Hypercalls(d.view, directChannel(h.hv.controlPlane(d.domid)));
  const errors: unknown[] = [];
  const loop = new UpcallLoop(d.view, { onError: (e) => errors.push(e), pausable: false, driven: true });
  await loop.useFifo(hc);
  // More events than one pass handles (FIFO_BUDGET, 4,096), each on a port of its own.
  const n = 4200;
  const remote: number[] = [];
  let handled = 0;
  for (let i = 0; i < n; i++) {
    const p0 = await h.dom0.evtchnAllocUnbound(d.domid);
    loop.on(await hc.evtchnBindInterdomain(0, p0), () => handled++);
    remote.push(p0);
  }
  await until('the event array covers every port', () => (loop.fifoPorts ?? 0) > n);
  loop.start();
  const db = new Int32Array(buffer);
  for (const p0 of remote) h.dom0.evtchnSend(p0);
  assert.deepEqual(takeRung(db, []), [slot], 'the first event rang');
  assert.ok(loop.runPending());
  assert.ok(handled > 0 && handled < n, `one pass handled ${handled} of ${n}`);
  // The pCPU runs a domain's turn only when its bit is rung: the rest must ring it again.
  assert.deepEqual(takeRung(db, []), [slot], 'the events left over rang');
  assert.ok(loop.runPending());
  assert.equal(handled, n);
  assert.deepEqual(takeRung(db, []), []);
  assert.deepEqual(errors, []);
});

test("a send that locks two queues and finds the second's lock poisoned is deferred, holding neither", async (t) => {
  const h = harness(t);
  const d = await fifoDomain(h);
  const [, p] = await d.port();
  const c = d.domain.view.ctl;
  // Priority 3 now, last linked on queue 7: the send locks queue 3, then queue 7.
  Atomics.store(c, portBase(d.domain.view, p) + EV_FIFO, 3 | (7 << 8));
  Atomics.store(c, CB_FIFO_QUEUE_LOCK + 7, POISONED); // its owner died inside a send
  assert.equal(fifoSetPending(d.domain.view, p), undefined);
  assert.equal(Atomics.load(c, CB_FIFO_QUEUE_LOCK + 3), 0, "queue 3's lock was let go");
  resetLock(c, CB_FIFO_QUEUE_LOCK + 7);
});

test("a stalled event's dump: its queue's READY, HEAD, tail and lock, the consumer's walk, and whether the walk reaches the port", async (t) => {
  const h = harness(t);
  const d = await fifoDomain(h);
  const ports = [await d.port(), await d.port(), await d.port()];
  d.drain();
  d.upcall();
  const [a, b, c] = ports.map(([, p]) => p) as [number, number, number];
  const view = d.domain.view;
  const walkAt = (q: number): number => d.queues.walkAt(q);
  h.dom0.evtchnSend(ports[0]![0]);
  h.dom0.evtchnSend(ports[1]![0]);
  const q = EVTCHN_FIFO_PRIORITY_DEFAULT;
  let s = fifoPortState(view, b, walkAt);
  assert.deepEqual([s.priority, s.lastQueue, s.word], [q, q, `0x${((PENDING | LINKED) >>> 0).toString(16)}`]);
  assert.equal(s.queues.length, 1);
  assert.deepEqual({ ...s.queues[0]!, chain: s.queues[0]!.chain.map((l) => l.port) }, {
    q, ready: true, head: a, tail: b, lock: 0, walk: 0, chain: [a, b], reachesPort: true, reachesTail: true,
  });
  // A drain stopped by its budget after one event: the walk is at b, and starts there.
  assert.deepEqual(d.queues.drain(1, () => {}) ? 'all' : 'left', 'left');
  s = fifoPortState(view, b, walkAt);
  assert.deepEqual([s.queues[0]!.walk, s.queues[0]!.chain.map((l) => l.port)], [b, [b]]);
  // A LINKED word nothing links to (a lost link): neither the walk nor the head reaches it.
  d.setWord(c, PENDING | LINKED | a);
  s = fifoPortState(view, c);
  assert.equal(s.queues[0]!.walk, null, 'no consumer on this thread');
  assert.equal(s.queues[0]!.reachesPort, false);
  assert.deepEqual(s.fromPort.map((l) => l.port), [c, a], 'the chain from the port follows its LINK');
  // A chain that loops is followed once round, a port outside the array ends it.
  d.setWord(a, LINKED | c);
  assert.deepEqual(fifoChain(view, c).map((l) => l.port), [c, a]);
  d.setWord(a, LINKED | 5000);
  assert.deepEqual(fifoChain(view, a).at(-1), { port: 5000, word: 'no page' });
});

/** A Pool-0 guest bound to dom0's FIFO port `p0`, whose send on `pg` found dom0's queue lock held and was deferred on its thread. */
async function guestDeferred(t: TestContext) {
  const h = harness(t);
  await h.dom0Events.loop.useFifo(h.dom0);
  const g = await h.guest();
  const p0 = await h.dom0.evtchnAllocUnbound(g.domid);
  h.dom0Events.listen(p0);
  const pg = await g.hc<number>('evtchnBindInterdomain', 0, p0);
  const held = await holdQueueLock(t, h.hv.dom0.view);
  const event = h.dom0Events.next(p0);
  await g.hc('evtchnSend', pg);
  assert.equal(Atomics.load(h.hv.dom0.view.mem32, eventWord(h.hv.dom0.view, p0)) & LINKED, 0, 'deferred: not linked while the lock is held');
  return { h, g, p0, held, event };
}

// Its thread retries the event from a timer of its own. Before, a pause put the thread in a
// blocking wait where no timer runs: the event waited for the unpause.
test("a Pool-0 guest paused with a send deferred: the event is linked once the lock is free, while it stays paused", async (t) => {
  const { h, g, p0, held, event } = await guestDeferred(t);
  h.hv.pause(g.domid);
  // An event has its loop go round to the pause, where it blocks (a pause met while it polled was
  // seen only at its next event), and the lock is let go once it has had time to get there.
  h.dom0.evtchnSend(p0);
  await new Promise((r) => setTimeout(r, 50));
  await held.release();
  await event;
  assert.equal(g.domain.paused, true);
});

// Before, the event went with the thread: dom0's backend of that channel never got it.
test('a Pool-0 guest destroyed with a send deferred: the channel gets an event all the same', async (t) => {
  const { h, g, held, event } = await guestDeferred(t);
  await h.hv.destroyDomain(g.domid);
  await held.release();
  await event;
});

// Its place is kept as a byte offset in an int32 word: past 2 GiB it read back negative, as no
// control block in the domain's RAM, and none of its events raised its upcall.
test('a control block past 2 GiB of the domain\'s memory gets its events', async (t) => {
  const h = harness(t);
  const frames = (2 ** 31) / PAGE_SIZE + 16;
  const domain = h.hv.createDomain({ name: 'big', ramFrames: frames });
  const first = firstRamPfn(domain.view.geometry);
  h.hv.restorePhysmap(domain.domid, first + frames);
  const hc = new Hypercalls(domain.view, directChannel(h.hv.controlPlane(domain.domid)));
  const cbPfn = first + frames - 1;
  assert.ok(cbPfn * PAGE_SIZE > 2 ** 31);
  await hc.evtchnInitControl(cbPfn, 0, 0);
  await hc.evtchnExpandArray(first);
  const queues = new FifoQueues(domain.view.mem32, cbPfn * PAGE_SIZE);
  queues.addPage(first);
  const p0 = await h.dom0.evtchnAllocUnbound(domain.domid);
  const p = await hc.evtchnBindInterdomain(0, p0);
  const seen: number[] = [];
  queues.drain(1 << 10, (port) => seen.push(port));
  Atomics.store(domain.view.mem32, UPCALL_WORD, 0);
  h.dom0.evtchnSend(p0);
  assert.equal(Atomics.load(domain.view.mem32, UPCALL_WORD) & 0xff, 1, 'its upcall is raised');
  queues.drain(1 << 10, (port) => seen.push(port));
  assert.deepEqual(seen, [p, p], 'the bind\'s event and the send\'s, each from its queue');
});

// A held event is tried for up to DEFERRED_RETRY_MAX_MS after its send. Before, the try checked
// only that its port was not closed: one closed and offered to another domain meanwhile got the
// old channel's event, though nothing points it back at that sender any more.
test('a held event whose port was closed and offered to another domain before its lock was free is dropped', async (t) => {
  const { h, d, p0, p, held } = await heldQueue(t);
  const other = h.local();
  h.dom0.evtchnSend(p0);
  assert.equal(deferredEvents(d.domain.view), 1);
  await d.hc.evtchnClose(p);
  assert.equal(await d.hc.evtchnAllocUnbound(other.domid), p, 'the same port, unbound for another domain now');
  await held.release();
  await until('the held event was tried', () => deferredEvents(d.domain.view) === 0);
  assert.equal(d.word(p) & (PENDING | LINKED), 0);
  assert.equal(d.upcall(), 0);
});

/** A FIFO domain whose default queue holds a chain of two events its consumer has not reached, and a third port bound. */
async function queuedTwo(t: TestContext) {
  const h = harness(t);
  const d = await fifoDomain(h);
  const ports = [await d.port(), await d.port(), await d.port()];
  d.drain();
  d.upcall();
  h.dom0.evtchnSend(ports[0]![0]);
  h.dom0.evtchnSend(ports[1]![0]);
  assert.equal(d.upcall(), 1);
  return { h, d, ports, view: d.domain.view, index: CB_FIFO_QUEUE_LOCK + EVTCHN_FIFO_PRIORITY_DEFAULT };
}

// The lock of a thread that died inside a send is broken at its domain's destroy. Before, the
// queue's tail was reset with it: the next event was made the HEAD over the chain the consumer had
// not reached, and every port on that chain stayed LINKED, so none of them was linked again (the
// blkbench stall's dump: dom0's backend port PENDING | LINKED in the middle of a chain, no upcall).
test('a queue lock broken after its holder died keeps the chain: the events queued before are consumed, then the next one', async (t) => {
  const { h, d, ports, view, index } = await queuedTwo(t);
  const [a, b, c] = ports.map(([, p]) => p) as [number, number, number];
  const held = await holdQueueLock(t, view);
  await held.die();
  await until('the holder is gone and its lock broken', () => {
    breakQueueLocks(view);
    return Atomics.load(view.ctl, index) === 0;
  });
  h.dom0.evtchnSend(ports[2]![0]);
  assert.deepEqual(d.drain(), [a, b, c]);
  // None of them is left LINKED: each gets its next event.
  for (const [p0] of ports) h.dom0.evtchnSend(p0);
  assert.deepEqual(d.drain(), [a, b, c]);
});

// Its holder died after it made its event the HEAD of an empty queue and recorded it as the tail,
// before it set READY (done after the unlock, as in Xen): the next event is linked after that tail
// and announces nothing, so the break announces the queue. Before, the tail's reset made the next
// event a new HEAD over it: the dead holder's event was lost.
test("a queue lock broken after its holder died before it announced its event: the queue is announced, the event consumed", async (t) => {
  const { d, ports, view, index } = await queuedTwo(t);
  const [a, b, c] = ports.map(([, p]) => p) as [number, number, number];
  d.drain();
  const q = EVTCHN_FIFO_PRIORITY_DEFAULT;
  const held = await holdQueueLock(t, view);
  // What fifoSetPending had done for c when its thread died: c linked as the HEAD and tail, no READY.
  d.setWord(c, PENDING | LINKED);
  d.setHead(q, c);
  Atomics.store(view.ctl, CB_FIFO_QUEUE_TAIL + q, c);
  await held.die();
  let raise = false;
  await until('the holder is gone and its lock broken', () => {
    raise ||= breakQueueLocks(view);
    return Atomics.load(view.ctl, index) === 0;
  });
  assert.equal(raise, true, 'the upcall is to be raised');
  assert.equal(d.ready(), 1 << q);
  assert.deepEqual(d.drain(), [c]);
  assert.equal(d.word(a) | d.word(b) | d.word(c), 0);
});

// Its sender was killed after it unlocked and before it set READY (a deferred retry runs outside
// the hypercall gate): no lock is left to break, and the next event links after that tail unannounced.
// Before, only a broken lock's queue was announced: `raise false ready 0`, and every later event on
// the queue was linked and never announced.
test('a destroy announces a queue with a tail whose sender died after its unlock, before READY: no lock held', async (t) => {
  const { h, d, ports, view, index } = await queuedTwo(t);
  const [a, , c] = ports.map(([, p]) => p) as [number, number, number];
  d.drain();
  const q = EVTCHN_FIFO_PRIORITY_DEFAULT;
  d.setWord(c, PENDING | LINKED);
  d.setHead(q, c);
  Atomics.store(view.ctl, CB_FIFO_QUEUE_TAIL + q, c);
  assert.equal(Atomics.load(view.ctl, index), 0, 'the lock is free');
  assert.equal(d.ready(), 0);
  assert.equal(breakQueueLocks(view), true, 'the upcall is to be raised');
  assert.equal(d.ready(), 1 << q);
  assert.equal(breakQueueLocks(view), false, 'READY already set: nothing new to raise');
  h.dom0.evtchnSend(ports[0]![0]);
  assert.deepEqual(d.drain(), [c, a]);
  h.dom0.evtchnSend(ports[0]![0]);
  assert.deepEqual(d.drain(), [a], 'the queue announces its next event again');
});

// The break judged one load of the lock word and reset another: a live holder that let go between
// the two read as abandoned (a free lock counted as such), and the queue's tail was reset under it.
// The holder here takes and frees the lock as a busy sender does; the break must never act on it.
test('a queue lock a live thread keeps taking and freeing is never broken', async (t) => {
  const { h, d, ports, view, index } = await queuedTwo(t);
  const [a, b, c] = ports.map(([, p]) => p) as [number, number, number];
  const busy = await busyLock(t, view.ctl, index);
  // A stress test, a race not forced (the deterministic tests above are the guards). With the old
  // two-load judgement the holder saw its lock freed under it in 4 of 4 runs on 2 loaded cores (9 to 38 holds).
  const { tries } = whileBusy(busy, () => {
    breakQueueLocks(view);
    return false;
  });
  const { holds, stolen } = await busy.stop();
  assert.ok(tries > 0 && holds > 0, `the break ran (${tries} tries) while the holder held its lock (${holds} holds)`);
  assert.equal(stolen, 0, `its lock was broken under the holder in ${stolen} of ${holds} holds (${tries} tries)`);
  assert.equal(Atomics.load(view.ctl, CB_FIFO_QUEUE_TAIL + EVTCHN_FIFO_PRIORITY_DEFAULT), b, "the queue's tail is kept");
  h.dom0.evtchnSend(ports[2]![0]);
  assert.deepEqual(d.drain(), [a, b, c]);
});

// What `xenode debug-keys e` shows of a queue whose chain was orphaned, as the tail's reset at a
// lock's break did: the ports left LINKED on no chain the consumer walks, and the queue's state.
test("debug key 'e': each port's [p/m/l] and event word, each queue's READY, HEAD, tail, lock and walk, and the LINKED ports no walk reaches", async (t) => {
  const { h, d, ports, view } = await queuedTwo(t);
  const [a, b, c] = ports.map(([, p]) => p) as [number, number, number];
  const q = EVTCHN_FIFO_PRIORITY_DEFAULT;
  const walkAt = (n: number): number => d.queues.walkAt(n);
  const line = (lines: string[], port: number): string => lines.find((l) => l.startsWith(`    ${String(port).padStart(4)} `))!;
  let lines = dumpDomainEvtchn(d.domain, walkAt);
  assert.match(lines[0]!, new RegExp(`^Event channel information for domain ${d.domain.domid} `));
  assert.match(lines[1]!, /upcall_pending=0 upcall_mask=0 runstate=\S+ deferred_by_dom0=0 abi=fifo/);
  assert.ok(lines.includes(`  queue ${q}: READY=1 HEAD=${a} tail=${b} lock=0x0 walk=0 chain=[${a}:0x${((PENDING | LINKED | b) >>> 0).toString(16)} ${b}:0x${((PENDING | LINKED) >>> 0).toString(16)}]`), lines.join('\n'));
  assert.match(line(lines, a), new RegExp(`^ +${a} \\[1/0/1\\] w=0x[0-9a-f]+ q=${q}/${q}: s=2 \\(interdomain\\) d=0 p=${ports[0]![0]}$`));
  assert.doesNotMatch(lines.join('\n'), /ORPHANED/);
  // The tail reset the old break made: c becomes a new HEAD over the chain a -> b.
  Atomics.store(view.ctl, CB_FIFO_QUEUE_TAIL + q, 0);
  h.dom0.evtchnSend(ports[2]![0]);
  lines = dumpDomainEvtchn(d.domain, walkAt);
  assert.ok(lines.some((l) => l.startsWith(`  queue ${q}: READY=1 HEAD=${c} tail=${c} `)), lines.join('\n'));
  for (const p of [a, b]) assert.match(line(lines, p), /ORPHANED\?/);
  assert.doesNotMatch(line(lines, c), /ORPHANED/);
  // Without the consumer's walk (a guest's, on its own thread) it is only said not to be reached from HEAD.
  assert.match(line(dumpDomainEvtchn(d.domain, () => null), a), /not reached from HEAD/);
});

// Its guest writes the words the dump reads: a control block moved out of its RAM (fifoActive only
// asks for non-zero) made `debug-keys e` throw a RangeError for the whole host. Now that domain says
// so, and a LINK cycle or ports outside the array in its queues end the chains; the others are dumped.
test("debug key 'e' on a guest's garbage: a control block out of range, a LINK cycle, ports out of range; the dump completes", async (t) => {
  const { h, d, ports, view } = await queuedTwo(t);
  const [a, b] = ports.map(([, p]) => p) as [number, number, number];
  const q = EVTCHN_FIFO_PRIORITY_DEFAULT;
  d.setWord(b, PENDING | LINKED | a);
  Atomics.store(view.ctl, CB_FIFO_QUEUE_TAIL + q + 1, 0x1ffff);
  d.setHead(q + 2, 0x7fffffff);
  const forged = await fifoDomain(h);
  Atomics.store(forged.domain.view.ctl, CB_FIFO_CONTROL, 0x7ffffff8);
  const lines = dumpEvtchnInfo({ domains: [forged.domain, d.domain], dom0Loop: { fifoWalkAt: () => null }, blkRings: [] });
  const at = lines.indexOf(`Event channel information for domain ${forged.domain.domid} (${forged.domain.name}, ${forged.domain.stateString}):`);
  assert.ok(at > 0, lines.join('\n'));
  assert.equal(lines[at + 2], '  control block out of range');
  assert.ok(lines.some((l) => l.startsWith(`Event channel information for domain ${d.domain.domid} `)), lines.join('\n'));
  assert.ok(lines.some((l) => l.startsWith(`  queue ${q}: READY=1 HEAD=${a} tail=${b} `) && l.includes(`chain=[${a}:`) && l.endsWith(` ${b}:${'0x' + ((PENDING | LINKED | a) >>> 0).toString(16)}]`)), lines.join('\n'));
  assert.ok(lines.includes(`  queue ${q + 1}: READY=0 HEAD=0 tail=${0x1ffff} lock=0x0 walk=? chain=[] (tail not reached; from it: [${0x1ffff}:no page])`), lines.join('\n'));
  assert.ok(lines.some((l) => l.startsWith(`  queue ${q + 2}: READY=0 HEAD=${0x7fffffff} `) && l.includes(`chain=[${0x7fffffff}:no page]`)), lines.join('\n'));
});
