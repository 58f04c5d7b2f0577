// One end of a latency ping-pong between two guests (bench/evtchn.ts and bench/xenstore.ts with
// --pool: both ends in one shared cpupool, then both in Pool-0; bench/support/pingpong.ts). dom0
// introduces the ends through their data/pp nodes (data/pp/peer: the other end's domid); the
// pinger starts on data/pp/go and writes data/pp/result (round trips in µs).
//
// extra= key=value words: role=ping|pong  via=evtchn|xenstore|read  rounds=2000  warmup=500
//   evtchn:   an interdomain event channel; the pinger offers the port (data/pp/port), dom0
//             hands it to the ponger (data/pp/peer-port), which notifies back on every event.
//   xenstore: the pinger writes /local/pingpong/ping, the ponger watches it and writes
//             /local/pingpong/pong, which the pinger watches (dom0 made the nodes, each end
//             owning its own and reading the other's): two writes and two watch events a trip.
//   read:     the pinger alone, a read of its own node (guest -> xenstored -> guest).
import type { OS } from 'xenode';

const SHARED = '/local/pingpong';

export default async function main(os: OS): Promise<void> {
  const o = Object.fromEntries(os.cmdline.split(/\s+/).filter((w) => w.includes('=')).map((w) => w.split('=', 2) as [string, string]));
  const xs = os.xenstore;
  const peer = async () => Number(await xs.wait('data/pp/peer', (v) => v !== undefined, { timeout: 60_000 }));
  const total = Number(o['rounds'] ?? 2000) + Number(o['warmup'] ?? 500);
  const warmup = Number(o['warmup'] ?? 500);
  const samples: number[] = [];
  const record = (us: number, i: number) => {
    if (i >= warmup) samples.push(us);
  };
  const go = () => xs.wait('data/pp/go', (v) => v === '1', { timeout: 60_000 });
  let trips: Promise<void>;

  if (o['via'] === 'evtchn') {
    if (o['role'] === 'ping') {
      const port = await os.evtchn.allocUnbound(await peer());
      await xs.write('data/pp/port', String(port.port));
      await go();
      trips = new Promise((resolve) => {
        let i = 0;
        let t0 = performance.now();
        port.onEvent(() => {
          const t = performance.now();
          record((t - t0) * 1000, i);
          if (++i === total) return resolve();
          t0 = t;
          port.notify();
        });
        port.notify();
      });
    } else {
      const remote = Number(await xs.wait('data/pp/peer-port', (v) => v !== undefined, { timeout: 60_000 }));
      const port = await os.evtchn.bindInterdomain(await peer(), remote);
      port.onEvent(() => port.notify());
      await xs.write('data/pp/ready', '1');
      return new Promise(() => {}); // until destroyed
    }
  } else if (o['via'] === 'xenstore') {
    const mine = `${SHARED}/${o['role']}`;
    const theirs = `${SHARED}/${o['role'] === 'ping' ? 'pong' : 'ping'}`;
    if (o['role'] === 'pong') {
      await xs.watch(theirs, (ev) => {
        void xs.readOptional(ev.path).then((v) => (v ? xs.write(mine, v) : undefined));
      });
      await xs.write('data/pp/ready', '1');
      return new Promise(() => {});
    }
    await go();
    trips = new Promise((resolve, reject) => {
      let i = 0;
      let t0 = 0;
      const next = () => {
        t0 = performance.now();
        xs.write(mine, String(i + 1)).catch(reject);
      };
      void xs.watch(theirs, (ev) => {
        void xs.readOptional(ev.path).then((v) => {
          if (v !== String(i + 1)) return; // the watch's first event, or an old value
          record((performance.now() - t0) * 1000, i);
          if (++i === total) resolve();
          else next();
        });
      }).then(next, reject);
    });
  } else {
    await xs.write('data/pp/x', 'x');
    await go();
    trips = (async () => {
      for (let i = 0; i < total; i++) {
        const t0 = performance.now();
        await xs.read('data/pp/x');
        record((performance.now() - t0) * 1000, i);
      }
    })();
  }
  await trips;
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const at = (p: number) => samples[Math.min(samples.length - 1, Math.ceil((p / 100) * samples.length) - 1)];
  await xs.write('data/pp/result', JSON.stringify({ median: at(50), p99: at(99), mean, perSec: 1e6 / mean, rounds: samples.length }));
  return new Promise(() => {});
}
