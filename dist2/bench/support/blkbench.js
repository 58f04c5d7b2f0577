// One blkbench guest (examples/blkbench) on one disk, run to its result: shared by the benches
// that compare image formats through the whole block path (qcow2, vhd).
import { fileURLToPath } from 'node:url';
import { parseDomainConfig } from '../../src/toolstack/domconfig.js';
export const BLKBENCH = fileURLToPath(new URL('../../../examples/blkbench/blkbench.ts', import.meta.url));
/** Boot a blkbench guest on `target`, start its load, and return its result; the guest is destroyed. */
export async function runBlkbench(host, r) {
    const cfg = `name = "${r.name}"\nkernel = "${BLKBENCH}"\nmemory = 64\n` +
        `disk = [ 'vdev=xvda, format=${r.format}, target=${r.target}' ]\nextra = "${r.load} runtime=${r.runtime} ramp=${r.ramp} sync=1"\n`;
    const built = await host.create(parseDomainConfig(cfg, BLKBENCH).config);
    const d = built.domain.domid;
    try {
        const node = (k) => `/local/domain/${d}/data/blkbench/${k}`;
        await host.xs.wait(node('ready'), (v) => v === '1', { timeout: r.readyTimeout });
        await host.xs.write(node('go'), '1');
        const res = await host.xs.wait(node('result'), (v) => v !== undefined, { timeout: 60_000 + r.runtime * 4000 });
        const p = JSON.parse(res);
        return { iops: p.iops, mbps: p.mbps, p50_us: p.p50_us, p99_us: p.p99_us };
    }
    finally {
        await host.destroy(d).catch(() => { });
    }
}
/** The point of median IOPS (the lower middle one of an even count). */
export function medianPoint(points) {
    return [...points].sort((a, b) => a.iops - b.iops)[(points.length - 1) >> 1];
}
//# sourceMappingURL=blkbench.js.map