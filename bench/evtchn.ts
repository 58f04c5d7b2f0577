// Event-channel notify round trip between two domains, each a worker thread with the real
// Hypercalls and UpcallLoop, next to bare ping-pongs between the same two threads: Atomics.wait
// (the baseline) and Atomics.waitAsync (how a vCPU sleeps). The modes take turns in
// blocks so that drift in the machine's load hits all of them alike.
//
//   node dist/bench/evtchn.js [--rounds=5] [--block=4000] [--warmup=2000]
//   npm run bench -- evtchn --pool=1 [--rounds=3] [--block=4000]   (two guests, both in one shared
//        cpupool, then both in Pool-0, in turn: bench/support/pingpong.ts)
//
// Round trips are in microseconds. `whereTheTimeGoes` splits the difference: the hypervisor's
// own CPU cost of a send, what the event channel adds over a bare waitAsync ping-pong, and what
// waitAsync costs over Atomics.wait. The last line is JSON.
import { MessageChannel } from 'node:worker_threads';
import { directChannel, serveControlPort } from '../src/hypervisor/control.js';
import { Hypercalls } from '../src/hypervisor/hypercalls.js';
import { Hypervisor } from '../src/hypervisor/hypervisor.js';
import { BenchWorker, emit, numberOptions, rate, summarize } from './support/harness.js';
import type { BareRequest } from './support/evtchn-vcpu.js';
import { poolLatencyBench } from './support/pingpong.js';

const VCPU = new URL('./support/evtchn-vcpu.js', import.meta.url);
const opts = numberOptions({ rounds: 5, block: 4000, warmup: 2000, pool: 0 });
if (opts.pool) {
  await poolLatencyBench('evtchn', ['evtchn'], opts.block, opts.rounds);
  process.exit(0);
}

/** A domain with a bench vCPU thread, wired to the hypervisor the way startVcpu wires one. */
async function domain(hv: Hypervisor, name: string): Promise<{ domid: number; vcpu: BenchWorker }> {
  const d = hv.createDomain({ name, ramFrames: 16 });
  const vcpu = new BenchWorker(VCPU);
  const { port1, port2 } = new MessageChannel();
  serveControlPort(port1, hv.controlPlane(d.domid));
  hv.attachVcpu(d.domid, {
    async terminate() {
      port1.close();
      await vcpu.terminate();
    },
    cpuTime: () => vcpu.worker.performance.eventLoopUtilization().active,
    push: (grant) => port1.postMessage({ push: grant }),
  });
  hv.unpause(d.domid);
  await vcpu.request({ type: 'boot', buffers: d.view.buffers, control: port2 }, [port2]);
  return { domid: d.domid, vcpu };
}

const hv = new Hypervisor({ dom0RamFrames: 16 });
const a = await domain(hv, 'ping');
const b = await domain(hv, 'pong');
const pa = await a.vcpu.request<number>({ type: 'hc', method: 'evtchnAllocUnbound', args: [b.domid] });
const pb = await b.vcpu.request<number>({ type: 'hc', method: 'evtchnBindInterdomain', args: [a.domid, pa] });
await b.vcpu.request({ type: 'pong', port: pb });
// Let the event that bind_interdomain raises (and its echo) pass before measuring.
await new Promise((r) => setTimeout(r, 50));

type Mode = 'evtchn' | 'wait' | 'waitAsync';
const run: Record<Mode, (n: number) => Promise<Float64Array>> = {
  evtchn: (n) => a.vcpu.request({ type: 'ping', port: pa, rounds: n }),
  wait: (n) => bare('wait', n),
  waitAsync: (n) => bare('waitAsync', n),
};

async function bare(type: 'wait' | 'waitAsync', rounds: number): Promise<Float64Array> {
  const sab = new SharedArrayBuffer(8);
  const req = (role: BareRequest['role']) => ({ type, role, sab, rounds });
  const [samples] = await Promise.all([a.vcpu.request<Float64Array>(req('ping')), b.vcpu.request(req('pong'))]);
  return samples;
}

const modes = Object.keys(run) as Mode[];
const samples: Record<Mode, Float64Array[]> = { evtchn: [], wait: [], waitAsync: [] };
for (const mode of modes) await run[mode](opts.warmup);
for (let r = 0; r < opts.rounds; r++) {
  for (const mode of modes) samples[mode].push(await run[mode](opts.block));
}
await Promise.all([hv.destroyDomain(a.domid), hv.destroyDomain(b.domid)]);

// The hypervisor's own CPU time per hop: EVTCHNOP_send on the caller's thread (port check,
// event-channel lock, peer lookup, pending bit), measured where the remote port is already
// pending so that no wake is included.
const c = hv.createDomain({ name: 'send', ramFrames: 1 });
const chc = new Hypercalls(c.view, directChannel(hv.controlPlane(c.domid)));
const cport = await chc.evtchnBindInterdomain(0, await hv.dom0Hypercalls.evtchnAllocUnbound(c.domid));
const sendNs = 1e9 / rate(200, 1000, () => chc.evtchnSend(cport));

const us = (m: Mode) => {
  const all = new Float64Array(samples[m].reduce((n, s) => n + s.length, 0));
  let at = 0;
  for (const s of samples[m]) {
    all.set(s, at);
    at += s.length;
  }
  const s = summarize(all.map((ms) => ms * 1000));
  return { median: s.median, p99: s.p99, mean: s.mean, perSec: 1e6 / s.mean };
};
const evtchn = us('evtchn');
const wait = us('wait');
const waitAsync = us('waitAsync');
for (const [name, s] of Object.entries({ evtchn, wait, waitAsync })) {
  console.log(`${name.padEnd(10)} median ${s.median.toFixed(1)} us  p99 ${s.p99.toFixed(1)} us  ${Math.round(s.perSec)} round trips/s`);
}
emit({
  bench: 'evtchn',
  unit: 'us per round trip',
  roundTrips: opts.rounds * opts.block,
  evtchn,
  bareWait: wait,
  bareWaitAsync: waitAsync,
  whereTheTimeGoes: {
    sendNs,
    hypervisorOverWaitAsyncUs: evtchn.median - waitAsync.median,
    waitAsyncOverWaitUs: waitAsync.median - wait.median,
  },
  ratio: {
    medianVsWait: evtchn.median / wait.median,
    p99VsWait: evtchn.p99 / wait.p99,
    medianVsWaitAsync: evtchn.median / waitAsync.median,
    p99VsWaitAsync: evtchn.p99 / waitAsync.p99,
  },
  target: { medianVsWait: 1.3 },
});
