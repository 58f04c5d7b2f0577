// Create-to-main() through pre-built domains (shells, src/toolstack/shells.ts), as LightVM's
// split toolstack does it, next to the same creates without shells (a vCPU thread from the
// pool: today's warm path; and a fresh thread: cold), with the breakdown of a shell's create:
// dom0 (the create call until the kernel is handed over), delivery (until the parked vCPU
// thread has the message), the guest (its name from xenstore, the kernel linked, main()).
// The physical limit measured in the same run: a message to an idle worker thread and its
// reply, which any hand-off to a waiting thread costs.
//
// Last, a storm: --storm creates at once from 10 clients of the command API (each succeeds or
// is refused with EAGAIN/ENOMEM), while an eleventh client times `list` (goal: within 100 ms).
//
//   npm run bench -- shells [--samples=40] [--gap=300] [--shells=4] [--storm=200]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { parseDomainConfig } from '../src/toolstack/domconfig.js';
import { ToolstackApi } from '../src/toolstack/api.js';
import { Host } from '../src/toolstack/host.js';
import { HostLog } from '../src/toolstack/hostlog.js';
import { emit, numberOptions, summarize } from './support/harness.js';
const opts = numberOptions({ samples: 40, gap: 300, shells: 4, storm: 200 });
const KERNEL = fileURLToPath(new URL('../../bench/guests/idle.ts', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'xenode-bench-shells-'));
const disk = join(dir, 'disk.img');
await writeFile(disk, Buffer.alloc(1 << 20));
let seq = 0;
const config = (withDisk) => parseDomainConfig(`name = "s${seq++}"\nkernel = "${KERNEL}"\nmemory = 32\n${withDisk ? `disk = [ 'vdev=xvda, target=${disk}' ]\n` : ''}`, KERNEL).config;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const wall = () => performance.timeOrigin + performance.now();
async function one(host, withDisk) {
    const t0 = wall();
    const built = await host.create(config(withDisk));
    const t1 = wall();
    const marks = await built.vcpu.mainCalled;
    const t2 = wall();
    await host.destroy(built.domain.domid);
    const handed = marks?.handed;
    return {
        total: t2 - t0,
        dom0: t1 - t0,
        delivery: handed === undefined ? NaN : handed - t1,
        guest: handed === undefined ? NaN : t2 - handed,
        named: handed === undefined ? NaN : marks.named - handed,
        linked: handed === undefined ? NaN : marks.linked - handed,
        fromShell: handed !== undefined,
    };
}
async function series(host, withDisk, gapMs) {
    const out = [];
    for (let i = 0; i < 2; i++)
        await one(host, withDisk); // JIT, kernel image cache
    for (let i = 0; i < opts.samples; i++) {
        await sleep(gapMs);
        out.push(await one(host, withDisk));
    }
    return out;
}
const stats = (xs) => {
    const s = summarize(xs.filter((x) => Number.isFinite(x)));
    return { p50: s.median, p99: s.p99 };
};
const report = (samples) => ({
    ...stats(samples.map((s) => s.total)),
    from_shell: samples.filter((s) => s.fromShell).length,
    dom0_p50: stats(samples.map((s) => s.dom0)).p50,
    delivery_p50: stats(samples.map((s) => s.delivery)).p50,
    guest_p50: stats(samples.map((s) => s.guest)).p50,
    guest_named_p50: stats(samples.map((s) => s.named)).p50,
    guest_linked_p50: stats(samples.map((s) => s.linked)).p50,
});
/** The physical limit of a hand-off: an idle worker thread gets a message and replies. */
async function handoffRoundTrip(n) {
    const w = new Worker('const p = require("node:worker_threads").parentPort; p.on("message", (m) => p.postMessage(m));', { eval: true });
    const out = [];
    for (let i = 0; i < n + 2; i++) {
        await sleep(Math.min(opts.gap, 50)); // let it go idle, as a parked shell is
        const t0 = performance.now();
        await new Promise((r) => {
            w.once('message', r);
            w.postMessage(i);
        });
        if (i >= 2)
            out.push(performance.now() - t0);
    }
    await w.terminate();
    return out;
}
/** --storm creates from 10 clients at once, `list` timed throughout; every domain destroyed after. */
async function storm(host) {
    const api = new ToolstackApi(host, { log: new HostLog() });
    const listMs = [];
    let going = true;
    const lister = (async () => {
        while (going) {
            const t0 = performance.now();
            await api.call('list', {});
            listMs.push(performance.now() - t0);
            await sleep(5);
        }
    })();
    const refused = {};
    const ids = [];
    const perClient = Math.ceil(opts.storm / 10);
    await Promise.all(Array.from({ length: 10 }, (_, c) => Promise.all(Array.from({ length: perClient }, async (_, i) => {
        try {
            const text = `name = "storm-${c}-${i}"\nkernel = "${KERNEL}"\nmemory = 32\n`;
            ids.push((await api.call('create', { file: KERNEL, text })).domid);
        }
        catch (e) {
            const errno = e.errno ?? String(e);
            refused[errno] = (refused[errno] ?? 0) + 1;
        }
    }))));
    going = false;
    await lister;
    await Promise.all(ids.map((id) => host.destroy(id)));
    const s = summarize(listMs);
    return { created: ids.length, refused, list_ms: { p50: s.median, p99: s.p99, max: Math.max(...listMs), n: s.n } };
}
try {
    const shelled = await Host.start({ poolSize: 2, shells: { count: opts.shells, memory: 32 } });
    await sleep(2000);
    const warm = await series(shelled, false, opts.gap);
    const disked = await series(shelled, true, opts.gap);
    const stormed = await storm(shelled);
    await shelled.close();
    const pooled = await Host.start({ poolSize: 2 });
    pooled.pool.warm({ heapMb: 24 });
    await sleep(1000);
    const threadPool = await series(pooled, false, opts.gap);
    await pooled.close();
    const cold = await Host.start({ poolSize: 0 });
    const coldMs = await series(cold, false, 0);
    await cold.close();
    const limit = stats(await handoffRoundTrip(opts.samples));
    const w = report(warm);
    emit({
        bench: 'shells',
        samples: opts.samples,
        shells: opts.shells,
        warm_ms: w,
        warm_disk_ms: report(disked),
        thread_pool_ms: report(threadPool),
        cold_ms: report(coldMs),
        limit_handoff_roundtrip_ms: limit,
        warm_over_limit_p50: w.p50 / limit.p50,
        storm: { creates: opts.storm, clients: 10, ...stormed },
        targets: { warm_p50_ms: 2, warm_disk_p50_ms: 3, cold_p50_ms: 40, storm_list_max_ms: 100 },
    });
}
finally {
    await rm(dir, { recursive: true, force: true });
}
//# sourceMappingURL=shells.js.map