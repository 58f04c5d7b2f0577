// The same I/O on several disks directly in the bench's own thread (no guest, no ring): the
// disks take turns every 50 ms, so that a shared machine's drifting load falls on each alike.
// What the image formats themselves cost (vhd, qcow2 benches).
import type { Disk } from '../../src/storage/disk.js';

/** Operations per second on each of `disks`: `qd` requests of `bs` bytes in flight, `seconds` for each disk. */
export async function direct(disks: readonly Disk[], bs: number, random: boolean, write: boolean, qd: number, seconds: number): Promise<number[]> {
  const ops = disks.map(() => 0);
  const bufs = Array.from({ length: qd }, () => new Uint8Array(bs).fill(0x5a));
  const span = Math.floor((disks[0]!.sectors * 512) / bs);
  let cursor = 0;
  for (let slice = 0; slice < seconds * 20; slice++) {
    for (const [i, d] of disks.entries()) {
      const end = performance.now() + 50;
      await Promise.all(bufs.map(async (buf) => {
        while (performance.now() < end) {
          const at = ((random ? Math.floor(Math.random() * span) : cursor++ % span) * bs) / 512;
          await (write ? d.write(at, [buf]) : d.read(at, [buf]));
          ops[i]!++;
        }
      }));
    }
  }
  return ops.map((n) => n / seconds);
}
