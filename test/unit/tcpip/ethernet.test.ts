// 802.1Q: a stack on a VLAN tags every frame it sends and hears only frames of its own VLAN.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NET_FRAME_PLAIN } from '../../../src/abi/netif.js';
import type { Net } from '../../../src/drivers/net/front/net.js';
import { parseMac } from '../../../src/tcpip/addr.js';
import { ETHERTYPE_IPV4, ETHERTYPE_VLAN, Ethernet, parseEthernet } from '../../../src/tcpip/ethernet.js';
import { createStack } from '../../../src/tcpip/stack.js';
import { Timeout } from '../../../src/tcpip/errors.js';
import { Link, ManualClock, runPromise } from '../../support/tcpip-link.js';
import { rng } from '../../support/random.js';

test('802.1Q: stacks on one VLAN tag their frames and talk; a stack on another VLAN or untagged hears nothing', async () => {
  const pair = (vlanA: number | undefined, vlanB: number | undefined) => {
    const clock = new ManualClock();
    const link = new Link(clock);
    const a = createStack(link.a, { clock, random: rng(1), vlan: vlanA });
    const b = createStack(link.b, { clock, random: rng(2), vlan: vlanB });
    a.configure({ ip: '10.0.0.1/24' });
    b.configure({ ip: '10.0.0.2/24' });
    return { clock, link, a, b };
  };
  const same = pair(20, 20);
  const tags: (number | undefined)[] = [];
  same.link.a.onTransmit = (f) => {
    tags.push(parseEthernet(f)?.vlan);
    assert.equal((f[12]! << 8) | f[13]!, ETHERTYPE_VLAN);
  };
  assert.ok((await runPromise(same.clock, same.a.icmp.ping('10.0.0.2'))) >= 0);
  assert.ok(tags.length >= 2 && tags.every((t) => t === 20), `tags ${tags}`);
  for (const [va, vb] of [[20, 30], [20, undefined]] as const) {
    const other = pair(va, vb);
    await assert.rejects(runPromise(other.clock, other.a.icmp.ping('10.0.0.2', 500)), Timeout);
    assert.ok(other.b.eth.counters.rxDropped > 0, 'b dropped the frames of the other VLAN');
    assert.equal(other.b.eth.counters.rxFrames, 0);
  }
});

test('Ethernet input: our MAC and broadcast go up with their payload offset; another MAC, short frames, a short tag and unknown ethertypes are dropped', () => {
  const eth = new Ethernet({ mac: '00:16:3e:00:00:01' } as Net);
  const offsets: number[] = [];
  eth.on(ETHERTYPE_IPV4, (_f, off) => offsets.push(off));
  const frame = (dst: string, type: number, len = 60) => {
    const f = new Uint8Array(len);
    f.set(parseMac(dst));
    f[12] = type >> 8;
    f[13] = type & 0xff;
    return f;
  };
  const ours = '00:16:3e:00:00:01';
  for (const f of [
    frame(ours, ETHERTYPE_IPV4), frame('ff:ff:ff:ff:ff:ff', ETHERTYPE_IPV4), // up
    frame('00:16:3e:00:00:02', ETHERTYPE_IPV4), frame(ours, ETHERTYPE_IPV4, 13), frame(ours, ETHERTYPE_VLAN, 17), frame(ours, 0x86dd), // dropped
  ]) eth.input(f, NET_FRAME_PLAIN);
  assert.deepEqual(offsets, [14, 14]);
  assert.deepEqual([eth.counters.rxFrames, eth.counters.rxDropped], [2, 4]);
  // On a VLAN: a frame of our tag whose tag is cut short (17 bytes: no inner ethertype's second
  // byte) is dropped, not sent up past its end; a whole one goes up after the tag.
  const tagged = new Ethernet({ mac: ours } as Net, 5);
  const up: number[] = [];
  tagged.on(ETHERTYPE_IPV4, (_f, off) => up.push(off));
  const withTag = (len: number) => {
    const f = frame(ours, ETHERTYPE_VLAN, len);
    f[15] = 5;
    f[16] = ETHERTYPE_IPV4 >> 8;
    if (len > 17) f[17] = ETHERTYPE_IPV4 & 0xff;
    return f;
  };
  tagged.input(withTag(17), NET_FRAME_PLAIN);
  tagged.input(withTag(60), NET_FRAME_PLAIN);
  assert.deepEqual(up, [18]);
  assert.deepEqual([tagged.counters.rxFrames, tagged.counters.rxDropped], [1, 1]);
});
