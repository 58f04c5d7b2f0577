// vCPU threads that end before they are ready: the domain's start fails with a typed error
// instead of waiting for ever; one that dies once ready, before its domain starts, the same.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Hypervisor } from '../../../src/hypervisor/hypervisor.js';
import { startVcpu, VcpuExited, VcpuPool } from '../../../src/hypervisor/vcpu.js';

const T = { timeout: 30_000 };

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

test('a thread that dies after it is ready, before its domain starts: no uncaught error in dom0, and startVcpu rejects with VcpuExited', T, async (t) => {
  const source = "import { parentPort } from 'node:worker_threads';\n" +
    "parentPort.postMessage({ type: 'ready' });\n" +
    // Told to die once dom0 has its ready: a timer could fire first under load, and the error
    // (Node's internal port) be read before the ready (the thread's own port).
    "parentPort.once('message', () => { throw new Error('died after ready'); });\n";
  const hv = new Hypervisor();
  const pool = new VcpuPool({ size: 0, image: image(t, source) });
  t.after(() => pool.close());
  const d = hv.createDomain({ name: 'late', ramFrames: 16 });
  // Taken ahead, as a cold create takes it while the domain is built.
  const taken = pool.take({ heapMb: 16 });
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
