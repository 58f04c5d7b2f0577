// tcppump: the guests of `npm run bench -- tcp-guests`, over their own TCP/IP stacks (os.tcpip(),
// DHCP from the bridge's gateway), running bench/support/tcp-pump.ts.
// - `role=sink`: the byte sink on `port=`, the request/answer exchange on port+1, and on port+2
//   connections that are only held open; once `idle=` of those are held it writes its JS heap
//   (before the first and now) as JSON to data/tcppump/idle. As each byte-sink stream ends
//   (the source's FIN), its counters (retransmissions, out-of-order arrivals, ACKs sent, ...:
//   those not 0) go to data/tcppump/sink-tcp/PEER (the address with dashes), with `n`, the
//   count of that peer's streams so far.
// - `role=source`: each time dom0 writes a round's number N to data/tcppump/go, pumps `mib=` MiB
//   to `target=ADDRESS:PORT` (or to the one after N: "N ADDRESS:PORT") on a new connection (its
//   result, with N and the connection's counters, to data/tcppump/result); for `N:cps`, runs `cps=` exchanges, 16 at a time, against
//   port+1 (`{ round: N, rate, tcp }` to data/tcppump/cps, `tcp` the stack's counters so far: SYNs
//   dropped, TIME-WAITs recycled, ...); once dom0 writes `rest`, opens `idle=`
//   connections to port+2 and keeps them (data/tcppump/idle-open).
// Both write their vCPU thread's id to data/tcppump/tid, so the bench can count its CPU.
//
// extra= words: role=sink port=5001 idle=10000 | role=source target=10.0.2.15:5001 mib=128 cps=2000 idle=10000
import { getHeapStatistics } from 'node:v8';
import type { OS } from 'xenode';
import { currentThreadId } from '../../src/hypervisor/thread.js';
import { answerExchange, connectionRate, CPS_PARALLEL, movedCounters, pumpBytes, sinkConnection, type PumpResult } from '../support/tcp-pump.js';

const MiB = 1 << 20;

export default async function main(os: OS): Promise<void> {
  const word = (key: string) => os.cmdline.split(/\s+/).find((w) => w.startsWith(`${key}=`))?.slice(key.length + 1);
  const now = () => Number(os.time.monotonic()) / 1e6;
  const stack = await os.tcpip();
  // What the vif negotiated: the stack leaves checksums blank and sends GSO super-frames when it may.
  await os.xenstore.write('data/tcppump/offloads', JSON.stringify(stack.net.offloads));
  await os.xenstore.write('data/tcppump/tid', String(currentThreadId() ?? ''));
  const idle = Number(word('idle') ?? 0);
  if (word('role') === 'sink') {
    const port = Number(word('port') ?? 5001);
    const streams = new Map<string, number>();
    stack.tcp.listen(port, (s) => {
      let bytes = 0;
      // Read as a unikernel reads: views of the received pages, no copy (TcpSocket.onBytes).
      sinkConnection(s, (count) => s.onBytes((c) => {
        bytes += c.length;
        count(c);
      }));
      s.once('end', () => {
        const peer = s.remoteAddress.replaceAll('.', '-');
        const n = (streams.get(peer) ?? 0) + 1;
        streams.set(peer, n);
        // A failed write costs only the figures: the sink goes on serving.
        os.xenstore.write(`data/tcppump/sink-tcp/${peer}`, JSON.stringify({ n, ...movedCounters({ bytes, ...s.stats }) })).catch((e: Error) => {
          void os.xenstore.write('data/tcppump/sink-tcp-error', e.message.slice(0, 200)).catch(() => {});
        });
      });
    });
    stack.tcp.listen(port + 1, answerExchange, { backlog: 1024 });
    const before = getHeapStatistics().used_heap_size;
    const held: unknown[] = [];
    stack.tcp.listen(port + 2, (s) => {
      s.on('error', () => {});
      held.push(s);
      if (held.length === idle) {
        const after = getHeapStatistics().used_heap_size;
        void os.xenstore.write('data/tcppump/idle', JSON.stringify({ conns: held.length, heap_before_mib: before / MiB, heap_mib: after / MiB,
          heap_limit_mib: getHeapStatistics().heap_size_limit / MiB }));
      }
    }, { backlog: 1024 });
    await os.xenstore.write('data/tcppump/ready', stack.address?.address ?? '');
  } else {
    const [address, portText] = (word('target') ?? '').split(':');
    if (!address || !portText) throw new Error(`target= must be ADDRESS:PORT, not ${word('target')}`);
    const port = Number(portText);
    const bytes = Number(word('mib') ?? 128) * MiB;
    await os.xenstore.write('data/tcppump/ready', stack.address?.address ?? '');
    const cps = Number(word('cps') ?? 0);
    for (let done = 0; ;) {
      const go = await os.xenstore.wait('data/tcppump/go', (v) => v === 'rest' || parseInt(v ?? '', 10) > done);
      if (go === 'rest') break;
      done = parseInt(go!, 10);
      if (go!.endsWith(':cps')) {
        const rate = await connectionRate(cps, CPS_PARALLEL, () => stack.tcp.connect(address, port + 1), now);
        await os.xenstore.write('data/tcppump/cps', JSON.stringify({ round: done, rate, tcp: movedCounters({ ...stack.tcpLayer.counters, timeWait: stack.tcpLayer.timeWaitCount }) }));
        continue;
      }
      const to = go!.split(' ')[1];
      const s = await stack.tcp.connect(to === undefined ? address : to.split(':')[0]!, to === undefined ? port : Number(to.split(':')[1]));
      const result: PumpResult & { round: number } = { round: done, ...(await pumpBytes(s, bytes, now)), tcp: movedCounters(s.stats) };
      await os.xenstore.write('data/tcppump/result', JSON.stringify(result));
    }
    const open: unknown[] = [];
    while (open.length < idle) {
      const batch = await Promise.all(Array.from({ length: Math.min(500, idle - open.length) }, () => stack.tcp.connect(address, port + 2)));
      open.push(...batch);
    }
    if (idle > 0) await os.xenstore.write('data/tcppump/idle-open', String(open.length));
  }
  await os.lifecycle.awaitShutdownRequest();
  await os.shutdown('poweroff');
}
