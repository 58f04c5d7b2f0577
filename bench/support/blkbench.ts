// One blkbench guest (examples/blkbench) on one disk, run to its result: shared by the benches
// that compare image formats through the whole block path (qcow2, vhd).
import { fileURLToPath } from 'node:url';
import { parseDomainConfig } from '../../src/toolstack/domconfig.js';
import type { Host } from '../../src/toolstack/host.js';

export const BLKBENCH = fileURLToPath(new URL('../../../examples/blkbench/blkbench.ts', import.meta.url));

/** A blkbench result. */
export interface Point { iops: number; mbps: number; p50_us: number; p99_us: number }

export interface BlkbenchRun {
  /** The guest's name; unique on the host. */
  readonly name: string;
  readonly format: string;
  readonly target: string;
  /** blkbench's load options (`rw=... bs=... qd=...`). */
  readonly load: string;
  readonly runtime: number;
  readonly ramp: number;
  /** How long the guest may take to boot and connect its disk, in ms. */
  readonly readyTimeout: number;
}

/**
 * Boot a blkbench guest on `target`, start its load, and return its result; the guest is
 * destroyed and its disk closed: `destroy` returns once the backend has closed the disk, and an
 * image's close flushes it (a qcow2 image's fdatasync of what the run wrote took up to 20 s at
 * load 15), so the next run does not run beside that.
 */
export async function runBlkbench(host: Host, r: BlkbenchRun): Promise<Point> {
  const cfg = `name = "${r.name}"\nkernel = "${BLKBENCH}"\nmemory = 64\n` +
    `disk = [ 'vdev=xvda, format=${r.format}, target=${r.target}' ]\nextra = "${r.load} runtime=${r.runtime} ramp=${r.ramp} sync=1"\n`;
  const built = await host.create(parseDomainConfig(cfg, BLKBENCH).config);
  const d = built.domain.domid;
  try {
    const node = (k: string) => `/local/domain/${d}/data/blkbench/${k}`;
    await host.xs.wait(node('ready'), (v) => v === '1', { timeout: r.readyTimeout });
    await host.xs.write(node('go'), '1');
    const res = await host.xs.wait(node('result'), (v) => v !== undefined, { timeout: 60_000 + r.runtime * 4000 });
    const p = JSON.parse(res!) as Point;
    return { iops: p.iops, mbps: p.mbps, p50_us: p.p50_us, p99_us: p.p99_us };
  } finally {
    await host.destroy(d).catch(() => {});
  }
}

/** The point of median IOPS (the lower middle one of an even count). */
export function medianPoint(points: readonly Point[]): Point {
  return [...points].sort((a, b) => a.iops - b.iops)[(points.length - 1) >> 1]!;
}
