// What the VDI benches (snapshot, vdi-migrate) share: a host with a state dir, VDIs written
// from dom0, blkbench guests on a VDI and the moment their load starts, and the machine's
// fdatasync time (the physical limit of operations made of synchronous flushes).
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { imageFormat } from '../../src/storage/open.js';
import type { Host } from '../../src/toolstack/host.js';
import { runBlkbench, type Point } from './blkbench.js';
import { summarize } from './harness.js';

const MiB = 2 ** 20;

/** Write `bytes` from the start of a VDI's image (whole 1 MiB requests), salted; the image is flushed. */
export async function writeVdi(host: Host, state: string, name: string, bytes: number, salt: number): Promise<void> {
  const v = (await host.vdis.list()).find((x) => x.record.name_label === name)!;
  const d = await imageFormat(v.record.sm_config['format']!).open(join(state, 'images', v.record.location), { readOnly: false });
  const buf = new Uint8Array(MiB).fill(salt);
  for (let s = 0; s < bytes / 512; s += MiB / 512) await d.write(s, [buf]);
  await d.flush();
  await d.close();
}

let seq = 0;

/** A blkbench guest on VDI `target` running `load` for `runtime` s (after a 0.5 s ramp); `done` is its result. */
export function vdiGuest(host: Host, target: string, load: string, runtime: number): { name: string; done: Promise<Point> } {
  const name = `vdibench-${seq++}`;
  return { name, done: runBlkbench(host, { name, format: 'vhd', target: `vdi:${target}`, load, runtime, ramp: 0.5, readyTimeout: 120_000 }) };
}

/** Until the named guest's load has started (its `go` node), then its ramp. */
export async function started(host: Host, name: string): Promise<void> {
  for (let i = 0; i < 6000; i++) {
    const d = host.hv.domains().find((x) => x.name === name);
    if (d && (await host.xs.readOptional(`/local/domain/${d.domid}/data/blkbench/go`)) === '1') {
      await new Promise((r) => setTimeout(r, 700));
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`guest ${name} never started its load`);
}

/** The median fdatasync of a small file in directory `dir`, now. */
export async function fdatasyncMs(dir: string): Promise<number> {
  const path = join(dir, '.probe');
  const fh = await open(path, 'w');
  const t: number[] = [];
  for (let i = 0; i < 20; i++) {
    await fh.write('x');
    const t0 = performance.now();
    await fh.datasync();
    t.push(performance.now() - t0);
  }
  await fh.close();
  await rm(path);
  return summarize(t).median;
}
