// The blkbench stall's reproducer: Pool-0 blkbench guests keep 4 KiB random reads in flight on
// RAM disks (dom0's blkback) while other guests are created paused and destroyed back to back, as
// guests end and start around a running one in the blk bench and the demo. Every destroy has the
// hypervisor break the FIFO queue locks of dom0 it judges abandoned; that judgment once read a
// live sender's lock, freed between two loads, as abandoned and reset dom0's queue tail under it,
// orphaning the chain its consumer had not reached (ports LINKED for good, their guests' I/O
// stopped). A guest whose reads stop for --stall seconds is a stall: `xenode debug-keys e` is
// printed (stderr) and the round ends. Bounded: --rounds rounds of --runtime seconds.
//
//   npm run bench -- blk-churn [--guests=6] [--runtime=40] [--rounds=1] [--stall=8]
//
// Before the fix, 4 of 7 rounds stalled (after 54 to 125 destroys); after it, none of 10 (PERFORMANCE.md).
import { fileURLToPath } from 'node:url';
import { ToolstackApi } from '../src/toolstack/api.js';
import { hostEvtchnInfo } from '../src/toolstack/debug-keys.js';
import { Host } from '../src/toolstack/host.js';
import { HostLog } from '../src/toolstack/hostlog.js';
import { emit, numberOptions } from './support/harness.js';

const opts = numberOptions({ guests: 6, runtime: 40, rounds: 1, stall: 8 });
const BLKBENCH = fileURLToPath(new URL('../../examples/blkbench/blkbench.ts', import.meta.url));
const IDLE = fileURLToPath(new URL('../../bench/guests/idle.ts', import.meta.url));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** churnError: why the create/destroy churn stopped early (its round's reads still watched). */
interface Round { stalled: number | null; destroys: number; seconds: number; churnError: string | null }

async function round(): Promise<Round> {
  const host = await Host.start({ poolSize: 0 });
  try {
    const api = new ToolstackApi(host, { log: new HostLog() });
    const bench: number[] = [];
    for (let i = 0; i < opts.guests; i++) {
      const text = `name = "bb${i}"\nkernel = "${BLKBENCH}"\nmemory = 32\ndisk = [ 'vdev=xvda, target=ram:8388608' ]\n` +
        `extra = "rw=randread bs=4096 qd=32 runtime=${opts.runtime} ramp=0"\n`;
      bench.push((await api.call('create', { file: BLKBENCH, text })).domid);
    }
    const t0 = Date.now();
    let stop = false;
    let destroys = 0;
    const churn = (async () => {
      for (let i = 0; !stop && Date.now() - t0 < (opts.runtime + 5) * 1000; i++) {
        const { domid } = await api.call('create', { file: IDLE, text: `name = "churn${i}"\nkernel = "${IDLE}"\nmemory = 16\n`, paused: true });
        await api.call('destroy', { domain: domid });
        destroys++;
      }
    })().then(() => null, (e: unknown) => {
      // Caught at once: awaited only after the watch, it would crash the bench as unhandled.
      console.error(`churn stopped after ${destroys} destroys: ${(e as Error).message}`);
      return (e as Error).message;
    });
    // A guest still running whose read bytes did not move for --stall s, once they had time to start.
    const last = new Map<number, { bytes: number; at: number }>();
    let stalled: number | null = null;
    while (stalled === null && Date.now() - t0 < (opts.runtime + 30) * 1000) {
      await sleep(1000);
      const stats = await api.call('deviceStats', {});
      const running = bench.filter((domid) => host.hv.domains().some((d) => d.domid === domid && !d.dying && !d.shutdownReason));
      if (running.length === 0) break;
      for (const domid of running) {
        const bytes = stats.find((s) => s.domid === domid)?.vbds[0]?.readBytes ?? -1;
        const l = last.get(domid);
        if (!l || l.bytes !== bytes) last.set(domid, { bytes, at: Date.now() });
        else if (Date.now() - l.at > opts.stall * 1000 && Date.now() - t0 > 15_000) stalled = domid;
      }
    }
    stop = true;
    const churnError = await churn;
    if (stalled !== null) console.error(`d${stalled} did no read for ${opts.stall} s after ${destroys} destroys:\n${(await hostEvtchnInfo(host)).join('\n')}`);
    return { stalled, destroys, seconds: (Date.now() - t0) / 1000, churnError };
  } finally {
    await host.close();
  }
}

const rounds: Round[] = [];
for (let i = 0; i < opts.rounds; i++) rounds.push(await round());
emit({ bench: 'blk-churn', guests: opts.guests, runtime_s: opts.runtime, stalls: rounds.filter((r) => r.stalled !== null).length, rounds });
