// The block data path with every domain on one thread: dom0's blkback and 1, 8 and 32 guests'
// blkfronts as local domains (./support/onethread.ts), each guest keeping 32 random 4 KiB reads of I/O
// pages in flight on its own RAM disk, with persistent grants. Nothing sleeps or wakes across
// threads, so the CPU time per I/O is what the protocol and drivers cost both ends together,
// with warm caches; `npm run bench -- blk` gives the same load one thread per domain.
// Prints one line of JSON.
//
//   npm run bench -- blk-onethread [--runtime=1] [--qd=32] [--disk-mb=8]
import { RamDisk } from '../src/storage/ram.js';
import { ioPages } from '../src/guest/iopages.js';
import { OneThreadHost } from './support/onethread.js';
import { emit, numberOptions } from './support/harness.js';
const opts = numberOptions({ runtime: 1, qd: 32, 'disk-mb': 8 });
const BS = 4096;
async function measure(guests) {
    const host = new OneThreadHost();
    try {
        const fronts = [];
        for (let i = 0; i < guests; i++) {
            const g = host.guest(2048);
            const disk = new RamDisk(opts['disk-mb'] * 2 ** 20);
            const fill = new Uint8Array(BS).fill(0xa5); // a never-written RAM disk reads from one zero page
            for (let s = 0; s < disk.sectors; s += BS / 512)
                disk.write(s, [fill]);
            const f = await host.attach(g, `vdev=xvda, target=/bench/d${i}`, disk, { persistent: true });
            const io = ioPages(g.hc);
            fronts.push({ f, bufs: Array.from({ length: opts.qd }, () => io.alloc(BS).subarray(0, BS)) });
        }
        const span = (opts['disk-mb'] * 2 ** 20) / BS;
        let ops = 0;
        let end = 0;
        const worker = async (f, buf) => {
            while (performance.now() < end) {
                await f.read(Math.floor(Math.random() * span) * (BS / 512), buf);
                ops++;
            }
        };
        const round = async (ms) => {
            ops = 0;
            const t0 = performance.now();
            end = t0 + ms;
            const c0 = process.cpuUsage();
            await Promise.all(fronts.flatMap(({ f, bufs }) => bufs.map((b) => worker(f, b))));
            const c = process.cpuUsage(c0);
            return { guests, iops: ops / ((performance.now() - t0) / 1000), cpu_us_per_io: (c.user + c.system) / ops };
        };
        await round(500); // the JIT warms up
        return await round(opts.runtime * 1000);
    }
    finally {
        await host.close();
    }
}
const points = [];
for (const n of [1, 8, 32])
    points.push(await measure(n));
emit({ bench: 'blk-onethread', runtime_s: opts.runtime, qd: opts.qd, disk_mb: opts['disk-mb'], randread_4k: points });
//# sourceMappingURL=blk-onethread.js.map