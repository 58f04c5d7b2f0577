// A guest for the disk migration benchmark: `qd=` workers write 4 KiB blocks at random places on
// its disk (xvda) and it keeps the longest time without a completed write. It hands over its
// counters and when its last write completed, so after a migration the stall at the switch is
// from its last completed write at the source to its first at the destination. It writes
// data/diskload/ready = 'started' (or 'resumed'); when dom0 writes data/diskload/stop = 1 it
// writes data/diskload/result: '{"ops", "max_gap_ms", "switch_gap_ms", "iops"}', max_gap_ms
// being the longest gap outside the switch.
import type { OS } from 'xenode';

interface Counters { ops: number; maxGap: number; lastDone: number; since: number; switchGap: number }

const epoch = () => performance.timeOrigin + performance.now();

export default async function main(os: OS): Promise<void> {
  const qd = Number(/qd=(\d+)/.exec(os.cmdline)?.[1] ?? 8);
  const resumed = os.resumed as Counters | undefined;
  const c: Counters = resumed ? { ...resumed } : { ops: 0, maxGap: 0, lastDone: 0, since: epoch(), switchGap: 0 };
  let first = resumed !== undefined;
  os.lifecycle.onSuspend(() => ({ ...c }));
  const disk = await os.block();
  const blocks = Math.floor(disk.info().sizeSectors / 8);
  const done = () => {
    const now = epoch();
    if (first) c.switchGap = now - c.lastDone;
    else if (c.lastDone) c.maxGap = Math.max(c.maxGap, now - c.lastDone);
    first = false;
    c.lastDone = now;
    c.ops++;
  };
  let stopped = false;
  const worker = async (): Promise<void> => {
    const buf = os.io.alloc(4096).subarray(0, 4096);
    buf.fill(0x5a);
    while (!stopped) {
      await disk.write(Math.floor(Math.random() * blocks) * 8, buf);
      done();
    }
  };
  const workers = Array.from({ length: qd }, worker);
  await os.xenstore.write('data/diskload/ready', resumed ? 'resumed' : 'started');
  await os.xenstore.wait('data/diskload/stop', (v) => v === '1', { timeout: 3_600_000 });
  stopped = true;
  await Promise.all(workers);
  const iops = c.ops / ((epoch() - c.since) / 1000);
  await os.xenstore.write('data/diskload/result', JSON.stringify({ ops: c.ops, max_gap_ms: c.maxGap, switch_gap_ms: c.switchGap, iops }));
}
