// xl save and xl restore of a 32 MiB unikernel (memory=32: 8 MiB of I/O memory, 6 MiB of it
// filled by the guest, ~24 MiB of JS heap, which does not travel), each against the same-run
// limit: writing the same number of bytes to a file of the same directory, and reading them
// back. Save: from the request to the file written and the domain destroyed. Restore: from the
// request to the restored guest's main(os) being called (a warm vCPU pool, as in `create`).
//
//   npm run bench -- saverestore [--samples=20] [--mb=6]
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { restoreFile } from '../src/migration/restore.js';
import { saveDomain } from '../src/migration/save.js';
import { memorySplit } from '../src/toolstack/builder.js';
import { parseDomainConfig } from '../src/toolstack/domconfig.js';
import { Host } from '../src/toolstack/host.js';
import { emit, numberOptions, summarize } from './support/harness.js';
const opts = numberOptions({ samples: 20, mb: 6 });
const KERNEL = fileURLToPath(new URL('../../bench/guests/ckpt.ts', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'xenode-bench-sr-'));
const host = await Host.start({ poolSize: 2 });
// Pre-started vCPU threads for the guest's heap size, as the host daemon keeps them.
host.pool.warm({ heapMb: memorySplit(32).heapMb });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const config = parseDomainConfig(`name = "ckpt"\nkernel = "${KERNEL}"\nmemory = 32\nextra = "mb=${opts.mb}"\n`, KERNEL).config;
let built = await host.create(config);
await host.xs.wait(`/local/domain/${built.domain.domid}/data/ckpt`, (v) => v === 'filled', { timeout: 30_000 });
const saveMs = [];
const restoreMs = [];
const writeMs = [];
const readMs = [];
const parts = { suspend: [], image: [], destroy: [], read: [], build: [], boot: [] };
let bytes = 0;
for (let i = 0; i < opts.samples + 2; i++) {
    const file = join(dir, `ckpt-${i}.save`);
    await sleep(200); // the pool refills between restores, as on a host not restoring back to back
    const t0 = performance.now();
    const saved = await saveDomain(host, built.domain.domid, file);
    const t1 = performance.now();
    const r = await restoreFile(host, file);
    await r.vcpu.mainCalled;
    const t2 = performance.now();
    bytes = saved.bytes;
    // The same-run limit: the same bytes through the same file system.
    const data = await readFile(file);
    const limit = join(dir, `limit-${i}`);
    const t3 = performance.now();
    await writeFile(limit, data);
    const t4 = performance.now();
    await readFile(limit);
    const t5 = performance.now();
    const ok = await host.xs.wait(`/local/domain/${r.domain.domid}/data/ckpt`, (v) => v === 'intact' || v === 'corrupt', { timeout: 30_000 });
    if (ok !== 'intact')
        throw new Error(`restored guest's memory is ${ok}`);
    await rm(file);
    await rm(limit);
    built = r;
    if (i < 2)
        continue; // JIT, caches
    saveMs.push(t1 - t0);
    parts.suspend.push(saved.ms.suspend);
    parts.image.push(saved.ms.image);
    parts.destroy.push(t1 - t0 - saved.ms.suspend - saved.ms.image);
    parts.read.push(r.ms.read);
    parts.build.push(r.ms.build);
    parts.boot.push(t2 - t1 - r.ms.read - r.ms.build);
    restoreMs.push(t2 - t1);
    writeMs.push(t4 - t3);
    readMs.push(t5 - t4);
}
await host.close();
await rm(dir, { recursive: true, force: true });
const s = summarize(saveMs);
const r = summarize(restoreMs);
const w = summarize(writeMs);
const rd = summarize(readMs);
emit({
    bench: 'saverestore',
    samples: opts.samples,
    guest_memory_mib: 32,
    image_mib: bytes / 2 ** 20,
    save_ms: { median: s.median, p99: s.p99 },
    restore_to_main_ms: { median: r.median, p99: r.p99 },
    limit_write_same_bytes_ms: { median: w.median },
    limit_read_same_bytes_ms: { median: rd.median },
    save_over_write: s.median / w.median,
    breakdown_median_ms: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, summarize(v).median])),
    restore_over_read: r.median / rd.median,
    goals_ms: { save: 30, restore: 20 },
});
//# sourceMappingURL=saverestore.js.map