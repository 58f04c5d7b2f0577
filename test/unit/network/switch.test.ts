// dom0's switch: bridges by name, learning, flooding, VLANs, the source-MAC check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Switch } from '../../../src/network/switch.js';
import { isXenError } from '../../../src/errors.js';
import { XEN_NETIF_GSO_TYPE_TCPV4 } from '../../../src/abi/netif.js';
import { ALL_OFFLOADS, NO_OFFLOADS, Sink, ethFrame, ipPacket, plain, referenceL4Checksum, vidOf } from '../../support/switch.js';

const A = '00:16:3e:00:00:0a';
const B = '00:16:3e:00:00:0b';
const C = '00:16:3e:00:00:0c';
const BCAST = 'ff:ff:ff:ff:ff:ff';

function rig(bridges: Record<string, string>, macs: Record<string, string> = {}) {
  const sw = new Switch();
  const sinks: Record<string, Sink> = {};
  const ports: Record<string, ReturnType<Switch['plug']>> = {};
  for (const [name, bridge] of Object.entries(bridges)) {
    sinks[name] = new Sink(name);
    ports[name] = sw.plug(sinks[name], { bridge, ...(macs[name] && { mac: macs[name] }) });
  }
  return { sw, sinks, ports };
}

test('unknown unicast floods, then the bridge learns and forwards to one port', () => {
  const { sw, sinks, ports } = rig({ 'vif1.0': 'xenbr0', 'vif2.0': 'xenbr0', 'vif3.0': 'xenbr0' });
  ports['vif1.0']!.input(ethFrame(B, A), plain);
  assert.equal(sinks['vif2.0']!.take().length, 1);
  assert.equal(sinks['vif3.0']!.take().length, 1);
  assert.equal(sinks['vif1.0']!.take().length, 0, 'never back out of the port it came in on');
  ports['vif2.0']!.input(ethFrame(A, B), plain);
  assert.equal(sinks['vif1.0']!.take().length, 1);
  assert.equal(sinks['vif3.0']!.take().length, 0, 'A was learned: not flooded');
  ports['vif1.0']!.input(ethFrame(B, A), plain);
  assert.equal(sinks['vif2.0']!.take().length, 1);
  assert.equal(sinks['vif3.0']!.take().length, 0);
  const br = sw.findBridge('xenbr0')!;
  assert.deepEqual(br.counters, { forwarded: 2, flooded: 1, dropSpoof: 0, dropVlan: 0, dropMalformed: 0, dropLinkLocal: 0, dropLocked: 0 });
  assert.equal(sw.findPort('vif1.0')!.counters.framesIn, 2);
  assert.equal(sw.findPort('vif1.0')!.counters.framesOut, 1);
  assert.equal(sw.findPort('vif2.0')!.counters.bytesOut, 2 * 60);
});

test('broadcast and multicast flood; 802.1D link-local groups are not forwarded', () => {
  const { sinks, ports } = rig({ 'vif1.0': 'xenbr0', 'vif2.0': 'xenbr0' });
  ports['vif2.0']!.input(ethFrame(A, B), plain);
  sinks['vif1.0']!.take();
  ports['vif1.0']!.input(ethFrame(BCAST, A), plain);
  ports['vif1.0']!.input(ethFrame('01:00:5e:00:00:01', A), plain);
  ports['vif1.0']!.input(ethFrame('01:80:c2:00:00:00', A), plain);
  assert.equal(sinks['vif2.0']!.take().length, 2);
});

test('bridges are separate segments, made on first use', () => {
  const { sw, sinks, ports } = rig({ 'vif1.0': 'xenbr0', 'vif2.0': 'xenbr1', 'vif3.0': 'xenbr1' });
  assert.deepEqual(sw.bridges().map((b) => b.name), ['xenbr0', 'xenbr1']);
  ports['vif2.0']!.input(ethFrame(BCAST, B), plain);
  assert.equal(sinks['vif1.0']!.take().length, 0);
  assert.equal(sinks['vif3.0']!.take().length, 1);
});

test('access VLANs: tags are added and removed at the ports; VLANs do not see each other', () => {
  const { sinks, ports } = rig({ 'vif1.0': 'xenbr0.20', 'vif2.0': 'xenbr0.20', 'vif3.0': 'xenbr0.30', 'vif4.0': 'xenbr0',
    'vif5.0': 'xenbr0:20:30' });
  ports['vif1.0']!.input(ethFrame(BCAST, A), plain);
  const [to2] = sinks['vif2.0']!.take();
  assert.equal(vidOf(to2!), undefined, 'an access port gets its VLAN untagged');
  assert.equal(sinks['vif3.0']!.take().length, 0);
  assert.equal(sinks['vif4.0']!.take().length, 0);
  const [toTrunk] = sinks['vif5.0']!.take();
  assert.equal(vidOf(toTrunk!), 20, 'a trunk gets it tagged');
  assert.equal(toTrunk!.length, 64);
  // From the trunk, tagged 30: only the VLAN-30 port, untagged.
  ports['vif5.0']!.input(ethFrame(BCAST, C, { vid: 30 }), plain);
  assert.deepEqual(sinks['vif3.0']!.take().map((f) => [vidOf(f), f.length]), [[undefined, 60]]);
  assert.equal(sinks['vif1.0']!.take().length + sinks['vif2.0']!.take().length + sinks['vif4.0']!.take().length, 0);
  // Untagged from the trunk is its native (untagged) segment: vif4.0.
  ports['vif5.0']!.input(ethFrame(BCAST, C), plain);
  assert.equal(sinks['vif4.0']!.take().length, 1);
  assert.equal(sinks['vif3.0']!.take().length, 0);
});

test('a VLAN a port does not carry is dropped and counted', () => {
  const { sw, sinks, ports } = rig({ 'vif1.0': 'xenbr0.20', 'vif2.0': 'xenbr0:20', 'vif3.0': 'xenbr0:20:40' });
  ports['vif1.0']!.input(ethFrame(BCAST, A, { vid: 30 }), plain);
  ports['vif2.0']!.input(ethFrame(BCAST, B, { vid: 40 }), plain);
  ports['vif2.0']!.input(ethFrame(BCAST, B, { vid: 4095 }), plain);
  assert.equal(sinks['vif3.0']!.take().length, 0);
  assert.equal(sw.findBridge('xenbr0')!.counters.dropVlan, 2);
  assert.equal(sw.findBridge('xenbr0')!.counters.dropMalformed, 1);
  // A priority-tagged frame (VID 0) is in the port's untagged VLAN; the PCP of a kept tag stays.
  ports['vif1.0']!.input(ethFrame(BCAST, A, { vid: 0, pcp: 5 }), plain);
  assert.deepEqual(sinks['vif3.0']!.take().map(vidOf), [20]);
  assert.deepEqual(sinks['vif2.0']!.take().map((f) => [vidOf(f), f[14]! >> 5]), [[20, 0]]);
  ports['vif3.0']!.input(ethFrame(BCAST, C, { vid: 20, pcp: 5 }), plain);
  const [f] = sinks['vif2.0']!.take();
  assert.equal(f![14]! >> 5, 5);
});

test('a port sends only from its MAC unless spoofing is allowed', () => {
  const sw = new Switch();
  const s1 = new Sink('vif1.0');
  const s2 = new Sink('vif2.0');
  const s3 = new Sink('vif3.0');
  const p1 = sw.plug(s1, { bridge: 'xenbr0', mac: A });
  const p2 = sw.plug(s2, { bridge: 'xenbr0', mac: B, macSpoof: true });
  sw.plug(s3, { bridge: 'xenbr0' });
  p1.input(ethFrame(BCAST, C), plain);
  assert.equal(s3.take().length, 0);
  assert.equal(sw.findBridge('xenbr0')!.counters.dropSpoof, 1);
  assert.equal(sw.findPort('vif1.0')!.counters.dropsIn, 1);
  p1.input(ethFrame(BCAST, A), plain);
  p2.input(ethFrame(BCAST, C), plain);
  assert.equal(s3.take().length, 2);
  // Group and zero source addresses are never valid.
  p2.input(ethFrame(BCAST, '01:00:00:00:00:01'), plain);
  p2.input(ethFrame(BCAST, '00:00:00:00:00:00'), plain);
  p2.input(new Uint8Array(13), plain);
  assert.equal(s3.take().length, 0);
  assert.equal(sw.findBridge('xenbr0')!.counters.dropMalformed, 3);
});

test('unplug: the name is free again, learned MACs go, frames to the port stop', () => {
  const { sw, sinks, ports } = rig({ 'vif1.0': 'xenbr0', 'vif2.0': 'xenbr0' });
  ports['vif1.0']!.input(ethFrame(BCAST, A), plain);
  assert.equal(sw.findBridge('xenbr0')!.fdb.size, 1);
  ports['vif1.0']!.unplug();
  ports['vif1.0']!.unplug();
  assert.equal(sw.findBridge('xenbr0')!.fdb.size, 0);
  ports['vif1.0']!.input(ethFrame(BCAST, A), plain);
  ports['vif2.0']!.input(ethFrame(BCAST, B), plain);
  assert.equal(sinks['vif1.0']!.take().length, 0);
  sinks['vif2.0']!.take();
  assert.equal(sw.findPort('vif1.0'), undefined);
  sw.plug(new Sink('vif1.0'), { bridge: 'xenbr1' });
  assert.throws(() => sw.plug(new Sink('vif1.0'), { bridge: 'xenbr0' }), (e: unknown) => isXenError(e, 'EEXIST'));
});

test('a device with no room drops and counts; other ports keep receiving', () => {
  const { sw, sinks, ports } = rig({ 'vif1.0': 'xenbr0', 'vif2.0': 'xenbr0', 'vif3.0': 'xenbr0' });
  sinks['vif2.0']!.accept = false;
  ports['vif1.0']!.input(ethFrame(BCAST, A), plain);
  assert.equal(sinks['vif3.0']!.take().length, 1);
  assert.equal(sw.findPort('vif2.0')!.counters.dropsOut, 1);
});

test('bounds: bridges and ports per switch, bad names', () => {
  const sw = new Switch({ maxBridges: 2, maxPorts: 3 });
  sw.plug(new Sink('vif1.0'), { bridge: 'a' });
  sw.plug(new Sink('vif2.0'), { bridge: 'b' });
  assert.throws(() => sw.plug(new Sink('vif3.0'), { bridge: 'c' }), (e: unknown) => isXenError(e, 'ENOSPC'));
  sw.plug(new Sink('vif3.0'), { bridge: 'a.5' });
  assert.throws(() => sw.plug(new Sink('vif4.0'), { bridge: 'a' }), (e: unknown) => isXenError(e, 'ENOSPC'));
  assert.throws(() => new Switch().plug(new Sink('bad name'), { bridge: 'a' }), (e: unknown) => isXenError(e, 'EINVAL'));
  assert.throws(() => new Switch().plug(new Sink('vif1.0'), { bridge: 'a', mac: 'zz' }), (e: unknown) => isXenError(e, 'EINVAL'));
});

test('a flood of source MACs from one port: memory bounded, others still learned', () => {
  const sw = new Switch({ fdb: { maxPerPort: 16, maxEntries: 64 } });
  const s1 = new Sink('vif1.0');
  const s2 = new Sink('vif2.0');
  const p1 = sw.plug(s1, { bridge: 'xenbr0', macSpoof: true, mac: A });
  const p2 = sw.plug(s2, { bridge: 'xenbr0', mac: B });
  for (let i = 0; i < 5000; i++) {
    const src = `02:00:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
    p1.input(ethFrame(BCAST, src), plain);
  }
  s2.take();
  assert.equal(sw.findBridge('xenbr0')!.fdb.size, 16);
  p2.input(ethFrame(A, B), plain);
  p1.input(ethFrame(B, A), plain);
  assert.equal(s1.take().length, 1, 'B to A floods: A was never learned, its port being full');
  assert.equal(sw.findBridge('xenbr0')!.fdb.lookup(0, 0x00163e00000a), undefined);
  assert.equal(s2.take().length, 1, 'B was learned: A to B is forwarded');
  assert.equal(sw.findBridge('xenbr0')!.counters.forwarded, 1);
});

test('close unplugs every port', () => {
  const { sw, sinks, ports } = rig({ 'vif1.0': 'xenbr0', 'vif2.0': 'xenbr0' });
  sw.close();
  ports['vif1.0']!.input(ethFrame(BCAST, A), plain);
  assert.equal(sinks['vif2.0']!.take().length, 0);
  assert.equal(sw.findPort('vif2.0'), undefined);
  assert.equal(sw.findBridge('xenbr0')!.ports.size, 0);
});

test('offloads are completed only for the ports that lack them, once per form', () => {
  const sw = new Switch();
  const gsoGuest = new Sink('vif1.0', ALL_OFFLOADS);
  const plainGuest = new Sink('vif2.0', NO_OFFLOADS);
  const csumOnly = new Sink('vif3.0', { csumOffload: true, gsoTcpv4: false, gsoTcpv6: false });
  const trunk = new Sink('vif4.0', NO_OFFLOADS);
  const from = sw.plug(new Sink('vif0.0'), { bridge: 'xenbr0.9' });
  sw.plug(gsoGuest, { bridge: 'xenbr0.9' });
  sw.plug(plainGuest, { bridge: 'xenbr0.9' });
  sw.plug(csumOnly, { bridge: 'xenbr0.9' });
  sw.plug(trunk, { bridge: 'xenbr0:9' });
  const blank = { csumBlank: true, dataValidated: false };
  // Unknown unicast floods to all four.
  const small = ipPacket(4, { payload: new Uint8Array(10) });
  from.input(small, blank);
  assert.deepEqual(gsoGuest.infos, [blank]);
  assert.deepEqual(csumOnly.infos, [blank]);
  const [done] = plainGuest.take();
  const { field, want } = referenceL4Checksum(done!);
  assert.equal((done![field]! << 8) | done![field + 1]!, want);
  assert.equal(plainGuest.infos.pop()!.dataValidated, true);
  const [tagged] = trunk.take();
  assert.equal(vidOf(tagged!), 9);
  assert.equal(referenceL4Checksum(tagged!).want, (tagged![field + 4]! << 8) | tagged![field + 5]!);
  for (const s of [gsoGuest, csumOnly]) s.take();
  const big = ipPacket(4, { payload: new Uint8Array(10_000) });
  from.input(big, { ...blank, gso: { type: XEN_NETIF_GSO_TYPE_TCPV4, size: 1000 } });
  assert.equal(gsoGuest.take().length, 1);
  assert.equal(csumOnly.take().length, 10);
  assert.equal(plainGuest.take().length, 10);
  assert.equal(trunk.take().length, 10);
  // A frame that cannot be completed is dropped for the ports that needed it only.
  const notIp = ethFrame(BCAST, A);
  from.input(notIp, blank);
  assert.equal(gsoGuest.take().length, 1);
  assert.equal(plainGuest.take().length, 0);
  assert.equal(sw.findPort('vif2.0')!.counters.dropsOut, 1);
});
