// Run by test/unit/tcpip/tcp/shapes.test.ts as `node --allow-natives-syntax --trace-generalization
// --no-sparkplug tcp-shapes-child.js MARKER`: two stacks on a link move data on a connection whose
// sequence numbers and timestamps are all below 2^31 (one segment lost, so that segments wait out
// of order and SACK blocks go both ways), print a marker through V8's own stdout
// (so that it lands in order among V8's trace lines), then on one whose are all above. What V8
// prints after the marker says whether any field changed its representation for the larger
// values. The clock starts at a fraction of a millisecond, so that times are doubles from the
// first connection on and only sequence numbers can differ between the two.
import { createStack } from '../../src/tcpip/stack.js';
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
// Every draw (ISS, timestamp offset) is this: below 2^31 at first, then above.
let draw = 0.1;
const a = createStack(link.a, { clock, random: () => draw });
const b = createStack(link.b, { clock, random: () => draw });
a.configure({ ip: '10.0.0.1/24' });
b.configure({ ip: '10.0.0.2/24' });
b.tcp.listen(80, (s) => {
  s.on('data', (d: Uint8Array) => s.write(d.subarray(0, 16))); // some data back, so that both ends send and ACK
  s.on('end', () => s.end());
});

async function exchange(localPort: number): Promise<void> {
  fromA = 0;
  const c = await runPromise(clock, a.tcp.connect('10.0.0.2', 80, { localPort }));
  const back = collect(c);
  c.end(new Uint8Array(256 * 1024).fill(7));
  if (!(await runUntil(clock, () => back.ended()))) throw new Error(`the exchange on port ${localPort} did not end`);
  if (c.stats.sackRetransmits + c.stats.fastRetransmits === 0) throw new Error(`the exchange on port ${localPort} repaired no loss: ${JSON.stringify(c.stats)}`);
}

await exchange(40001);
new Function('m', '%DebugPrint(m)')(MARKER);
draw = 0.9;
await exchange(40002);
await runUntil(clock, () => a.tcpLayer.connectionCount === 0 && b.tcpLayer.connectionCount === 0); // through TIME-WAIT
