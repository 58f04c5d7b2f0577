// Run by test/unit/tcpip/tcp/shapes.test.ts as `node --allow-natives-syntax --trace-generalization
// --no-sparkplug tcp-shapes-child.js MARKER`: two stacks on a link move data on a connection whose
// sequence numbers and timestamps are all below 2^31 (one segment lost, so that segments wait out
// of order and SACK blocks go both ways), print a marker through V8's own stdout
// (so that it lands in order among V8's trace lines), then on one whose are all above. What V8
// prints after the marker says whether any field changed its representation for the larger
// values. The clock starts at a fraction of a millisecond, so that times are doubles from the
// first connection on and only sequence numbers can differ between the two. ISNs and timestamp
// offsets come from the stacks' secrets (tcp/isn.ts), the clock and the ports: the child makes
// the same secrets from the same draws and picks the time and the local port of each exchange
// that put both ends' ISNs and timestamps where it wants them.
import { parseIpv4 } from '../../src/tcpip/addr.js';
import { createStack } from '../../src/tcpip/stack.js';
import { SequenceSecrets } from '../../src/tcpip/tcp/isn.js';
import { collect, Link, ManualClock, runPromise, runUntil } from './tcpip-link.js';

const MARKER = process.argv[2] ?? 'marker';

const clock = new ManualClock();
clock.advanceTo(0.5);
const link = new Link(clock);
// One of a's frames is lost in each exchange (the same one), so that b holds segments out of
// order and both ends handle SACK blocks: with small sequence numbers, then with large ones.
const carry = link.carry.bind(link);
let fromA = 0;
link.carry = (to, frame, info) => {
  if (to === link.b && ++fromA === 40) return;
  carry(to, frame, info);
};
const draw = () => 0.1;
const a = createStack(link.a, { clock, random: draw });
const b = createStack(link.b, { clock, random: draw });
a.configure({ ip: '10.0.0.1/24' });
b.configure({ ip: '10.0.0.2/24' });
const secrets = new SequenceSecrets(draw);
const A = parseIpv4('10.0.0.1');
const B = parseIpv4('10.0.0.2');
const MARGIN = 2 ** 24; // far more than an exchange moves sequence numbers (256 KiB) and timestamps (seconds)
const inHalf = (x: number, high: boolean) => x >= (high ? 2 ** 31 : 0) + MARGIN && x < (high ? 2 ** 32 : 2 ** 31) - MARGIN;

/** A time after `from` at which both ends' timestamps are in the lower or upper half, and a local port that puts both ISNs there too. */
function when(from: number, high: boolean): { at: number; localPort: number } {
  for (let at = from; at < from + 2 ** 36; at += 2 ** 25 + 0.5) {
    const ts = (off: number) => (Math.floor(at) + off) >>> 0;
    if (!inHalf(ts(secrets.tsOffset(A, B)), high) || !inHalf(ts(secrets.tsOffset(B, A)), high)) continue;
    for (let localPort = 40001; localPort < 50000; localPort++) {
      if (inHalf(secrets.isn(A, localPort, B, 80, at), high) && inHalf(secrets.isn(B, 80, A, localPort, at), high)) return { at, localPort };
    }
  }
  throw new Error(`no time and port put every ISN and timestamp in the ${high ? 'upper' : 'lower'} half`);
}
b.tcp.listen(80, (s) => {
  s.on('data', (d: Uint8Array) => s.write(d.subarray(0, 16))); // some data back, so that both ends send and ACK
  s.on('end', () => s.end());
});

async function exchange(localPort: number, high: boolean): Promise<void> {
  fromA = 0;
  const c = await runPromise(clock, a.tcp.connect('10.0.0.2', 80, { localPort }));
  const isns = [...a.tcpLayer.connections(), ...b.tcpLayer.connections()].filter((k) => k.localPort === localPort || k.remotePort === localPort).map((k) => k.iss);
  if (isns.length !== 2 || !isns.every((x) => inHalf(x, high))) throw new Error(`the ISNs on port ${localPort} are ${isns.join(', ')}, not in the ${high ? 'upper' : 'lower'} half`);
  const back = collect(c);
  c.end(new Uint8Array(256 * 1024).fill(7));
  if (!(await runUntil(clock, () => back.ended()))) throw new Error(`the exchange on port ${localPort} did not end`);
  if (c.stats.sackRetransmits + c.stats.fastRetransmits === 0) throw new Error(`the exchange on port ${localPort} repaired no loss: ${JSON.stringify(c.stats)}`);
}

const low = when(clock.now(), false);
clock.advanceTo(low.at);
await exchange(low.localPort, false);
new Function('m', '%DebugPrint(m)')(MARKER);
const high = when(clock.now() + 1, true);
clock.advanceTo(high.at);
await exchange(high.localPort, true);
await runUntil(clock, () => a.tcpLayer.connectionCount === 0 && b.tcpLayer.connectionCount === 0); // through TIME-WAIT
