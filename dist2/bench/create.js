// Domain create-to-main() latency, cold (a new vCPU thread per domain) and warm (a thread
// from the pool of pre-started ones), and how the warm figure holds up as more domains run;
// then how many idle domains the host holds and what each costs in memory.
//
//   npm run bench -- create [--samples=40] [--idle=100] [--pool=4]
import { fileURLToPath } from 'node:url';
import { parseDomainConfig } from '../src/toolstack/domconfig.js';
import { Host } from '../src/toolstack/host.js';
import { emit, numberOptions, summarize } from './support/harness.js';
const opts = numberOptions({ samples: 40, idle: 100, pool: 4 });
const KERNEL = fileURLToPath(new URL('../../bench/guests/idle.ts', import.meta.url));
let seq = 0;
const config = () => parseDomainConfig(`name = "idle-${seq++}"\nkernel = "${KERNEL}"\nmemory = 32\n`, KERNEL).config;
/** ms from the create call to the guest's main() being called. */
async function createToMain(host) {
    const t0 = performance.now();
    const built = await host.create(config());
    await built.vcpu.mainCalled;
    return { ms: performance.now() - t0, domid: built.domain.domid, warm: built.vcpu.warm };
}
async function series(host, n, keep, settle) {
    const out = [];
    for (let i = 0; i < n; i++) {
        await settle();
        const r = await createToMain(host);
        out.push(r.ms);
        if (!keep)
            await host.destroy(r.domid);
    }
    return out;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Cold: no pool.
const cold = await Host.start({ poolSize: 0 });
await series(cold, 2, false, async () => { }); // JIT and kernel image cache
const coldMs = await series(cold, opts.samples, false, async () => { });
await cold.close();
// Warm: the pool refills in the background; give it time between creates, as a host that is
// not creating domains back to back would.
const warm = await Host.start({ poolSize: opts.pool });
warm.pool.warm({ heapMb: 24 });
await sleep(500);
await series(warm, 2, false, () => sleep(300));
const warmMs = await series(warm, opts.samples, false, () => sleep(300));
// Density: boot idle guests and keep them; warm create latency as the host fills up.
const rss0 = process.memoryUsage().rss;
const t0 = performance.now();
const fillMs = [];
for (let i = 0; i < opts.idle; i++)
    fillMs.push((await createToMain(warm)).ms);
const bootAll = performance.now() - t0;
await sleep(300);
const rss1 = process.memoryUsage().rss;
const tail = await series(warm, Math.min(opts.samples, 20), true, () => sleep(300));
await warm.close();
const c = summarize(coldMs);
const w = summarize(warmMs);
const t = summarize(tail);
emit({
    bench: 'create',
    samples: opts.samples,
    cold_ms: { median: c.median, p99: c.p99 },
    warm_ms: { median: w.median, p99: w.p99 },
    warm_with_idle_ms: { running: opts.idle, median: t.median, p99: t.p99 },
    idle_domains: opts.idle,
    boot_all_idle_s: bootAll / 1000,
    boot_idle_median_ms: summarize(fillMs).median,
    rss_per_idle_domain_mib: (rss1 - rss0) / opts.idle / 2 ** 20,
    targets: { warm_median_ms: 5, cold_median_ms: 60 },
});
//# sourceMappingURL=create.js.map