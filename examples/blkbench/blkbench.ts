// blkbench: a fio-like load generator guest. It keeps `qd` requests of `bs` bytes in flight on
// each of its `disks` disks for `runtime` seconds and prints one line of JSON: operations, IOPS,
// MB/s, latency percentiles and a latency histogram (so a harness can merge several guests).
//
// extra= takes key=value words:
//   rw=randread|randwrite|read|write|randrw   mix=50 (percent reads for randrw)
//   bs=4096  qd=32  runtime=2 (seconds)  size=0 (bytes of each disk to use; 0: all of it)
//   disks=1: how many disks it loads, each with qd requests in flight: its first disk, or
//           xvda, xvdb, ... for more than one
//   persistent=1  indirect=256  ring=0 (ring page order)  queues=1   (blkfront options)
//   iomem=1: buffers are I/O pages (os.io), which blkfront grants without copying; 0: ordinary
//           Uint8Arrays, copied through blkfront's bounce pages
//   ramp=0.2: seconds of the same load before measuring (fio's ramp_time: the JIT warms up);
//           its operations and wall-clock span are in the result's `ramp`
//   fill=0: 1 writes the whole area first (a RAM disk never written reads from one zero page)
//   sync=1: write data/blkbench/ready and start when dom0 writes data/blkbench/go;
//           the result also goes to data/blkbench/result.
import { HISTOGRAM_BUCKETS, bucketOf, percentileOf, type OS } from 'xenode';

function options(cmdline: string): Record<string, string> {
  const o: Record<string, string> = {};
  for (const w of cmdline.split(/\s+/)) {
    const eq = w.indexOf('=');
    if (eq > 0) o[w.slice(0, eq)] = w.slice(eq + 1);
  }
  return o;
}

export default async function main(os: OS): Promise<void> {
  const o = options(os.cmdline);
  const num = (k: string, d: number) => (o[k] === undefined ? d : Number(o[k]));
  const rw = o['rw'] ?? 'randread';
  const bs = num('bs', 4096);
  const qd = num('qd', 32);
  const runtimeMs = num('runtime', 2) * 1000;
  const mix = num('mix', 50) / 100;
  const sync = o['sync'] === '1';
  const iomem = num('iomem', 1) === 1;
  const rampMs = num('ramp', 0.2) * 1000;
  const fill = num('fill', 0) === 1;
  const nDisks = num('disks', 1);
  if (!Number.isInteger(nDisks) || nDisks < 1 || nDisks > 26) throw new Error(`disks=${o['disks']}: want 1 to 26`);
  const disks = await Promise.all(Array.from({ length: nDisks }, (_, i) => os.block(nDisks === 1 ? undefined : `xvd${String.fromCharCode(97 + i)}`, {
    persistent: num('persistent', 1) === 1,
    maxIndirectSegments: num('indirect', 256),
    ringPageOrder: num('ring', 0),
    queues: num('queues', 1),
  })));
  const sectors = Math.min(...disks.map((d) => d.info().sizeSectors));
  const span = Math.floor((num('size', 0) || sectors * 512) / bs);
  if (bs % 512 !== 0 || span < 1) throw new Error(`bs=${bs} does not fit the disk`);
  const hist = new Array<number>(HISTOGRAM_BUCKETS).fill(0);
  let ops = 0;
  let reads = 0;
  const cursors = disks.map(() => 0); // sequential loads: one position per disk
  let end = 0;
  const random = rw.startsWith('rand');
  // qd buffers per disk: buffers[i] works on disks[i % nDisks].
  const buffers = Array.from({ length: qd * nDisks }, () => (iomem ? os.io.alloc(bs).subarray(0, bs) : new Uint8Array(bs)));
  // One clock read per I/O, as fio takes one per completion: an I/O's completion time is its
  // latency's end, the end-of-run check and the next I/O's start (in a shared pool each read
  // crosses from the realm to its pCPU thread: at 8 guests, 7.6% of the pCPU threads' samples
  // were clock reads, most of them three per I/O here).
  const worker = async (buf: Uint8Array, i: number): Promise<void> => {
    const d = i % nDisks;
    const disk = disks[d]!;
    let now = performance.now();
    while (now < end) {
      const block = random ? Math.floor(Math.random() * span) : cursors[d]!++ % span;
      const read = rw === 'randread' || rw === 'read' || (rw === 'randrw' && Math.random() < mix);
      const s = now;
      if (read) await disk.read((block * bs) / 512, buf);
      else await disk.write((block * bs) / 512, buf);
      now = performance.now();
      hist[bucketOf((now - s) * 1000)]!++;
      ops++;
      if (read) reads++;
    }
  };
  if (fill) {
    // qd writes in flight, as the load will have: one at a time, 32 guests sharing a pCPU
    // spent their whole ready timeout on a 8 MiB fill at load 29.
    const next = disks.map(() => 0);
    await Promise.all(buffers.map(async (b, i) => {
      const d = i % nDisks;
      b.fill(0xa5);
      while (next[d]! < span) {
        const block = next[d]!++;
        await disks[d]!.write((block * bs) / 512, b);
      }
    }));
  }
  // The ramp's own figure is kept: a harness reports the warm-up it excludes from the measure.
  const ramp = { ops: 0, start_ms: 0, end_ms: 0 };
  if (rampMs > 0) {
    const r0 = performance.now();
    end = r0 + rampMs;
    await Promise.all(buffers.map(worker));
    Object.assign(ramp, { ops, start_ms: performance.timeOrigin + r0, end_ms: performance.timeOrigin + performance.now() });
    hist.fill(0);
    ops = reads = 0;
  }
  if (sync) {
    await os.xenstore.write('data/blkbench/ready', '1');
    await os.xenstore.wait('data/blkbench/go', (v) => v === '1');
  }
  const t0 = performance.now();
  end = t0 + runtimeMs;
  await Promise.all(buffers.map(worker));
  const secs = (performance.now() - t0) / 1000;
  const n = disks[0] as { negotiated?: { persistent: boolean; maxSegments: number } };
  const result = {
    guest: os.name, rw, bs, qd, disks: nDisks, iomem, seconds: Number(secs.toFixed(3)), ops, reads,
    // Wall-clock start and end (ms since the epoch), so a harness can add up guests over the
    // time they all ran rather than trusting each one's own rate.
    start_ms: performance.timeOrigin + t0, end_ms: performance.timeOrigin + t0 + secs * 1000,
    iops: Math.round(ops / secs), mbps: Number(((ops * bs) / secs / 1e6).toFixed(1)),
    p50_us: Number(percentileOf(hist, 50).toFixed(1)), p99_us: Number(percentileOf(hist, 99).toFixed(1)),
    persistent: n.negotiated?.persistent, max_segments: n.negotiated?.maxSegments,
    ramp, hist: hist.join(','),
  };
  console.log(JSON.stringify(result));
  if (sync) await os.xenstore.write('data/blkbench/result', JSON.stringify(result));
  for (const d of disks) await d.disconnect();
}
