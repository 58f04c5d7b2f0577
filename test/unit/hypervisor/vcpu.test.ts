// vCPU threads that end before they are ready: the domain's start fails with a typed error
// instead of waiting for ever; one that dies once ready, before its domain starts, the same; and
// so do the starts waiting for a shared pool's pCPU thread that ends before it is ready.
// A domain destroyed while its vCPU starts (a thread, or a realm on a shared pCPU): its memory
// is not handed to another domain while the start may still run on it; one destroyed (and
// reaped) before its start is never handed to a thread.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { PCPU_IMAGE, REALM_IMAGE } from '../../../src/guest/image.js';
import { Cpupool } from '../../../src/hypervisor/cpupool.js';
import { Hypervisor } from '../../../src/hypervisor/hypervisor.js';
import { startVcpu, VcpuExited, VcpuPool } from '../../../src/hypervisor/vcpu.js';
import { within, xen } from '../../support/hypervisor.js';
import { waitFor } from '../../support/wait.js';

const T = { timeout: 30_000 };

/** A domain placed in a slot of `pool`'s doorbell, as the builder makes one for a shared pool. */
function placed(hv: Hypervisor, pool: Cpupool, name: string) {
  const placement = pool.place();
  return { placement, d: hv.createDomain({ name, ramFrames: 16, doorbell: placement.doorbell, pauseWord: placement.pauseWord }) };
}

function image(t: { after(fn: () => void): void }, source: string): URL {
  const dir = mkdtempSync(join(tmpdir(), 'xenode-vcpu-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'runtime.mjs');
  writeFileSync(file, source);
  return pathToFileURL(file);
}

for (const [what, source] of [
  ['throws while loading', "throw new Error('broken runtime');\n"],
  ['exits while loading', 'process.exit(3);\n'],
] as const) {
  test(`a runtime that ${what}: startVcpu rejects with VcpuExited and the domain can go`, T, async (t) => {
    const hv = new Hypervisor();
    const pool = new VcpuPool({ size: 1, image: image(t, source) });
    t.after(() => pool.close());
    const d = hv.createDomain({ name: 'doomed', ramFrames: 16 });
    await assert.rejects(startVcpu(hv, d, 'unused', { heapMb: 16, pool }), VcpuExited);
    // A pooled thread dies the same way and is not handed out as ready.
    pool.warm({ heapMb: 16 });
    await assert.rejects(pool.take({ heapMb: 16 }).ready, VcpuExited);
    await hv.destroyDomain(d.domid);
    assert.equal(hv.findDomain(d.domid), undefined);
  });
}

/**
 * A thread pool whose runtime is `source`, a domain of 16 frames, and a thread taken for it ahead,
 * as a cold create takes one while the domain is built.
 */
function takenAhead(t: TestContext, source: string, name: string) {
  const hv = new Hypervisor();
  const pool = new VcpuPool({ size: 0, image: image(t, source) });
  t.after(() => pool.close());
  const d = hv.createDomain({ name, ramFrames: 16 });
  return { hv, pool, d, taken: pool.take({ heapMb: 16 }) };
}

test('a thread that dies after it is ready, before its domain starts: no uncaught error in dom0, and startVcpu rejects with VcpuExited', T, async (t) => {
  const source = "import { parentPort } from 'node:worker_threads';\n" +
    "parentPort.postMessage({ type: 'ready' });\n" +
    // Told to die once dom0 has its ready: a timer could fire first under load, and the error
    // (Node's internal port) be read before the ready (the thread's own port).
    "parentPort.once('message', () => { throw new Error('died after ready'); });\n";
  const { hv, pool, d, taken } = takenAhead(t, source, 'late');
  await taken.ready;
  const exited = new Promise((r) => taken.worker.once('exit', r)); // not events.once: it rejects on the 'error'
  taken.worker.postMessage('die');
  await exited;
  await assert.rejects(startVcpu(hv, d, 'unused', { heapMb: 16, pool, taken }), (e: unknown) => {
    assert.ok(e instanceof VcpuExited, String(e));
    assert.match(e.message, /died after ready/);
    return true;
  });
  await hv.destroyDomain(d.domid);
});

test("a domain destroyed while its vCPU starts (no vCPU attached to stop): its memory goes back to the domheap only once the start has ended", T, async (t) => {
  const source = "import { parentPort } from 'node:worker_threads';\n" +
    "parentPort.postMessage({ type: 'ready' });\n" +
    "parentPort.on('message', () => {});\n"; // it boots on the domain's memory until it is ended
  const hv = new Hypervisor();
  const pool = new VcpuPool({ size: 0, image: image(t, source) });
  t.after(() => pool.close());
  const d = hv.createDomain({ name: 'doomed', ramFrames: 16 });
  const bytes = d.view.buffers.memory.byteLength;
  // Its ready is held: the boot is posted, and startVcpu waits for the thread.
  const th = pool.take({ heapMb: 16 });
  t.after(() => th.worker.terminate());
  let open!: () => void;
  const held = new Promise<void>((resolve) => (open = resolve));
  const started = startVcpu(hv, d, 'unused', { heapMb: 16, pool, taken: { ...th, ready: held.then(() => th.ready) } });
  await hv.destroyDomain(d.domid);
  assert.equal(hv.findDomain(d.domid), undefined, 'reaped: nothing maps it');
  assert.equal(hv.heap.stats().freeBytes, 0, 'its memory is not in the domheap while the thread may boot on it');
  open();
  await assert.rejects(started, xen('ESRCH'));
  assert.equal(th.worker.threadId, -1, 'the thread has ended');
  assert.ok(await waitFor(() => hv.heap.stats().freeBytes === bytes), 'its memory goes back once the start has ended');
});

test("a domain destroyed while its realm is placed on a shared pCPU: its memory goes back to the domheap only once the start has ended", T, async (t) => {
  const hv = new Hypervisor();
  const pool = new Cpupool({ name: 'dense', cpus: 1, image: PCPU_IMAGE, realmImage: REALM_IMAGE });
  t.after(() => pool.close());
  const { placement, d } = placed(hv, pool, 'doomed');
  const bytes = d.view.buffers.memory.byteLength;
  // startVcpu waits for the pCPU thread to be up first: the destroy lands while the start is under way.
  const started = pool.startVcpu(hv, d, placement, null);
  await hv.destroyDomain(d.domid);
  assert.equal(hv.findDomain(d.domid), undefined, 'reaped: nothing maps it');
  assert.equal(hv.heap.stats().freeBytes, 0, 'its memory is not in the domheap while its realm may be placed on it');
  await assert.rejects(started, xen('ESRCH'));
  assert.equal(pool.hosts(d.domid), false, 'its realm left the pCPU');
  assert.ok(await waitFor(() => hv.heap.stats().freeBytes === bytes), 'its memory goes back once the start has ended');
});

// A destroy that lands before the start (during the build's device attach, builder.ts) reaps the
// domain at once, nothing mapping it: its memory goes back to the domheap then, and may be
// another domain's by the time the start would hand it to a thread.
test("a domain destroyed before its vCPU starts (reaped): startVcpu fails (ESRCH) and hands no thread its memory, which went back to the domheap", T, async (t) => {
  const source = "import { parentPort } from 'node:worker_threads';\n" +
    "parentPort.postMessage({ type: 'ready' });\n" +
    "parentPort.on('message', () => {});\n";
  const { hv, pool, d, taken: th } = takenAhead(t, source, 'doomed');
  const bytes = d.view.buffers.memory.byteLength;
  t.after(() => th.worker.terminate());
  const posted: unknown[] = [];
  const post = th.worker.postMessage.bind(th.worker);
  th.worker.postMessage = (m: unknown, transfer?: Parameters<typeof post>[1]) => (posted.push(m), post(m, transfer));
  await hv.destroyDomain(d.domid);
  assert.equal(hv.findDomain(d.domid), undefined, 'reaped: nothing maps it');
  assert.equal(hv.heap.stats().freeBytes, bytes, 'its memory went back to the domheap');
  await assert.rejects(startVcpu(hv, d, 'unused', { heapMb: 16, pool, taken: th }), xen('ESRCH'));
  assert.deepEqual(posted, [], 'no thread was handed its memory');
  assert.equal(hv.heap.stats().freeBytes, bytes, 'its memory went back once');
});

test("a domain destroyed before its realm is placed on a shared pCPU (reaped): startVcpu fails (ESRCH), no realm runs on its memory, and its slot goes back", T, async (t) => {
  const hv = new Hypervisor();
  const pool = new Cpupool({ name: 'dense', cpus: 1, image: PCPU_IMAGE, realmImage: REALM_IMAGE });
  t.after(() => pool.close());
  await pool.ready(); // the start goes straight to the placement
  const { placement, d } = placed(hv, pool, 'doomed');
  const bytes = d.view.buffers.memory.byteLength;
  await hv.destroyDomain(d.domid);
  assert.equal(hv.heap.stats().freeBytes, bytes, 'reaped: its memory went back to the domheap');
  let settled = false;
  const started = pool.startVcpu(hv, d, placement, null).finally(() => (settled = true));
  started.catch(() => {});
  // A placed realm stays a resident until its placement's reply and its evict (thread round trips).
  let hosted = false;
  for (let i = 0; i < 1_000_000 && !settled; i++) {
    hosted ||= pool.hosts(d.domid);
    await new Promise((r) => setImmediate(r));
  }
  await assert.rejects(started, xen('ESRCH'));
  assert.equal(hosted, false, 'no realm was placed on its memory');
  assert.equal(pool.place().doorbell.slot, placement.doorbell.slot, 'its slot went back');
  assert.equal(hv.heap.stats().freeBytes, bytes, 'its memory went back once');
});

// A shared pool's pCPU thread that ends before it is ready (its image failed, say): the starts
// waiting for it fail, and give back the doorbell slots they were placed in. Before, they waited
// for ever, and held their slots. The pool starts a successor (cpupool.ts lost()), which runs
// the next domain in one of those slots.
test("a pCPU thread that ends before it is ready: the starts waiting for it fail (ENODEV), their slots go back, and its successor runs the next domain", T, async (t) => {
  // The first thread ends before it is ready (nothing keeps it); the next ones are pCPUs.
  const source = "import { existsSync, writeFileSync } from 'node:fs';\n" +
    "const first = new URL('./first-ended', import.meta.url);\n" +
    `if (!existsSync(first)) writeFileSync(first, '');\nelse await import(${JSON.stringify(PCPU_IMAGE.href)});\n`;
  const hv = new Hypervisor();
  const pool = new Cpupool({ name: 'unready', cpus: 1, image: image(t, source), realmImage: REALM_IMAGE });
  t.after(() => pool.close());
  const create = (name: string) => placed(hv, pool, name);
  const early = [create('early-a'), create('early-b')];
  const starts = early.map(({ d, placement }) => pool.startVcpu(hv, d, placement, null));
  for (const [i, { d }] of early.entries()) {
    await assert.rejects(within(starts[i]!, `d${d.domid}'s start`, 10_000), xen('ENODEV'));
    await hv.destroyDomain(d.domid);
  }
  await pool.ready();
  const next = create('next');
  assert.ok(early.some((e) => e.placement.doorbell.slot === next.placement.doorbell.slot), 'placed in a slot they gave back');
  await within(pool.startVcpu(hv, next.d, next.placement, null), 'the start on the successor');
  assert.equal(pool.hosts(next.d.domid), true);
  await hv.destroyDomain(next.d.domid);
});

/**
 * A pool of one pCPU where the kernel `source` fails to start (`rounds` times, each in the slot
 * the last gave back), logging nothing; then the pCPU runs the next domain.
 */
async function failedStarts(t: TestContext, source: string, expected: RegExp, rounds: number, heapMb?: number): Promise<void> {
  const hv = new Hypervisor();
  const logs: string[] = [];
  const pool = new Cpupool({ name: 'broken', cpus: 1, image: PCPU_IMAGE, realmImage: REALM_IMAGE, ...(heapMb && { heapMb }), onLog: (l) => logs.push(l) });
  t.after(() => pool.close());
  const kernel = image(t, source).href;
  let slot: number | undefined;
  for (let i = 0; i < rounds; i++) {
    const { placement, d } = placed(hv, pool, `broken-${i}`);
    slot ??= placement.doorbell.slot;
    assert.equal(placement.doorbell.slot, slot, 'each in the slot the last gave back');
    await assert.rejects(within(pool.startVcpu(hv, d, placement, kernel), 'the failed start', 10_000), expected);
    await hv.destroyDomain(d.domid);
  }
  assert.deepEqual(logs, []);
  const next = placed(hv, pool, 'next');
  await within(pool.startVcpu(hv, next.d, next.placement, null), 'the next start');
  assert.equal(pool.hosts(next.d.domid), true);
  await hv.destroyDomain(next.d.domid);
}

// A kernel that does not compile fails its placement after the pCPU took a realm for it. Before,
// that realm and its share of the thread's heap were never released (the failure's evict found
// no resident): each such create leaked ~0.5 MiB, and some 66 of them ran a 32 MiB pCPU out of
// heap, which crashed every domain on it.
test("kernels that do not compile, placed again and again on a shared pCPU: each start fails with its error and releases its realm; the pCPU runs the next domain", T, (t) =>
  failedStarts(t, 'this is not javascript (\n', /its realm did not start: Unexpected identifier/, 160, 32));

// A kernel's top level can close the function it is wrapped in and throw anything before it runs
// as one: an object whose message getter throws made the placement's own error report throw, so
// dom0 never heard that it failed and the start waited for good.
test("a kernel that throws, before its function, an object whose message getter throws: the start fails; the pCPU runs the next domain", T, (t) =>
  failedStarts(t, "}); throw { get message() { throw new Error('no message'); } }; (function () {\n", /its realm did not start$/, 1));
