// VXLAN links: two switches in one process, linked over loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { Switch } from '../../../src/network/switch.js';
import { VXLAN_DEFAULT_VNI, parseEndpoint, vxlanDecap, vxlanEncap } from '../../../src/network/vxlan.js';
import { isXenError } from '../../../src/errors.js';
import { Sink, ethFrame, ipPacket, plain, referenceL4Checksum, vidOf } from '../../support/switch.js';
import { waitFor } from '../../support/wait.js';

const A = '00:16:3e:00:00:0a';
const B = '00:16:3e:00:00:0b';
const BCAST = 'ff:ff:ff:ff:ff:ff';
const LOOP = { address: '127.0.0.1', port: 0 };

/** Wait until `cond` holds, polling the event loop (bounded: 20 s, for a loaded machine). */
async function until(cond: () => boolean, what: string): Promise<void> {
  assert.ok(await waitFor(cond, 20_000, 2), `timed out waiting for ${what}`);
}

async function twoHosts(t: { after(fn: () => void): void }, opts: { vniA?: number; vniB?: number } = {}) {
  const swA = new Switch();
  const swB = new Switch();
  t.after(() => { swA.close(); swB.close(); });
  const [va, vb] = await Promise.all([swA.vtep(LOOP), swB.vtep(LOOP)]);
  const linkA = await swA.link('xenbr0', vb.local, { local: va.local, ...(opts.vniA !== undefined && { vni: opts.vniA }) });
  const linkB = await swB.link('xenbr0', va.local, { local: vb.local, ...(opts.vniB !== undefined && { vni: opts.vniB }) });
  return { swA, swB, va, vb, linkA, linkB };
}

test('encapsulation: header, VNI, validation', () => {
  const f = ethFrame(BCAST, A);
  const d = vxlanEncap(f, 0xabcdef);
  assert.deepEqual([...d.subarray(0, 8)], [0x08, 0, 0, 0, 0xab, 0xcd, 0xef, 0]);
  assert.deepEqual(vxlanDecap(d), { vni: 0xabcdef, frame: f });
  assert.equal(vxlanDecap(d.subarray(0, 21)), 'short');
  const noI = d.slice();
  noI[0] = 0;
  assert.equal(vxlanDecap(noI), 'badHeader');
  const reserved = d.slice();
  reserved[0] = 0xff;
  reserved[7] = 0xff;
  assert.equal(typeof vxlanDecap(reserved), 'object', 'reserved bits are ignored on receipt');
  assert.equal(vxlanDecap(vxlanEncap(ethFrame(BCAST, A, { vid: 5 }), 1)), 'tagged');
  assert.deepEqual(parseEndpoint('127.0.0.1:4790'), { address: '127.0.0.1', port: 4790 });
  assert.deepEqual(parseEndpoint('[::1]'), { address: '::1', port: 4789 });
  for (const bad of ['localhost:1', '127.0.0.1:0', '127.0.0.1:65536', '1.2.3:4', '']) assert.throws(() => parseEndpoint(bad), (e: unknown) => isXenError(e, 'EINVAL'));
});

test('guests of two hosts share a segment; VLANs keep apart across the link', async (t) => {
  const { swA, swB, va, vb } = await twoHosts(t);
  const a1 = new Sink('vif1.0');
  const a2 = new Sink('vif2.0');
  const b1 = new Sink('vif1.0');
  const b2 = new Sink('vif2.0');
  const pa1 = swA.plug(a1, { bridge: 'xenbr0', mac: A });
  const pa2 = swA.plug(a2, { bridge: 'xenbr0.20' });
  swB.plug(b1, { bridge: 'xenbr0' });
  const pb2 = swB.plug(b2, { bridge: 'xenbr0.20' });
  pa1.input(ethFrame(BCAST, A), plain);
  await until(() => b1.frames.length === 1, 'the broadcast on host B');
  assert.equal(b2.frames.length, 0);
  // Host B learned A behind its link: a unicast reply goes back over it.
  swB.findPort('vif1.0')!.input(ethFrame(A, B), plain);
  await until(() => a1.frames.length === 1, 'the reply on host A');
  assert.equal(vidOf(a1.frames[0]!), undefined);
  pb2.input(ethFrame(BCAST, B, { payload: new Uint8Array(200) }), plain);
  await until(() => a2.frames.length === 1, 'VLAN 20 on host A');
  assert.equal(a2.frames[0]!.length, 214);
  assert.equal(a1.frames.length, 1);
  pa2.input(ethFrame(BCAST, A), plain);
  await until(() => b2.frames.length === 1, 'VLAN 20 on host B');
  assert.equal(va.counters.txDatagrams, 2);
  assert.equal(vb.counters.rxDatagrams, 2);
  assert.ok(swA.findBridge('xenbr0')!.fdbRows().some((r) => r.vid === 20 && r.port.name.startsWith('vxlan')));
});

test('a blank checksum never leaves the host: the link sends it completed, and the other host\'s guest gets a plain frame to verify', async (t) => {
  const { swA, swB } = await twoHosts(t);
  const a1 = new Sink('vif1.0');
  const b1 = new Sink('vif1.0');
  swA.plug(a1, { bridge: 'xenbr0', mac: '00:16:3e:00:00:01' });
  swB.plug(b1, { bridge: 'xenbr0' });
  const blank = ipPacket(4);
  swA.findPort('vif1.0')!.input(blank, { csumBlank: true, dataValidated: false });
  await until(() => b1.frames.length === 1, 'the frame on host B');
  // An outside peer (the other end of the link) asserts nothing about checksums.
  assert.deepEqual({ ...b1.infos[0]! }, { ...plain });
  const got = b1.frames[0]!;
  const { field, want } = referenceL4Checksum(got);
  assert.equal((got[field]! << 8) | got[field + 1]!, want, 'the checksum was filled in before the frame left host A');
});

test('bad datagrams are dropped and counted: unknown peer, short, no I flag, wrong VNI, inner tag', async (t) => {
  const { swB, vb, va } = await twoHosts(t);
  const b1 = new Sink('vif1.0');
  swB.plug(b1, { bridge: 'xenbr0' });
  // Datagrams "from host A": sent from its own socket, so the peer check passes.
  const send = (d: Uint8Array) => new Promise<void>((resolve) => va.socket.send(d, vb.local.port, '127.0.0.1', () => resolve()));
  await send(new Uint8Array(10));
  await send(vxlanEncap(ethFrame(BCAST, A), VXLAN_DEFAULT_VNI).map((b, i) => (i === 0 ? 0 : b)));
  await send(vxlanEncap(ethFrame(BCAST, A), 7));
  await send(vxlanEncap(ethFrame(BCAST, A), VXLAN_DEFAULT_VNI + 4095));
  await send(vxlanEncap(ethFrame(BCAST, A, { vid: 3 }), VXLAN_DEFAULT_VNI));
  const stranger = createSocket('udp4');
  t.after(() => stranger.close());
  await new Promise<void>((resolve) => stranger.send(vxlanEncap(ethFrame(BCAST, A), VXLAN_DEFAULT_VNI), vb.local.port, '127.0.0.1', () => resolve()));
  await send(vxlanEncap(ethFrame(BCAST, A), VXLAN_DEFAULT_VNI));
  await until(() => b1.frames.length === 1, 'the one good frame');
  await until(() => vb.counters.rxDatagrams === 7, 'all datagrams');
  assert.deepEqual({ ...vb.counters, txDatagrams: 0 }, { rxDatagrams: 7, txDatagrams: 0, rxShort: 1, rxBadHeader: 1, rxTagged: 1, rxUnknownVni: 2,
    rxUnknownPeer: 1, txDropped: 0 });
});

test('links: one per bridge and peer, VNIs per peer must not overlap, unlink frees the port', async (t) => {
  const { swA, vb, va, linkA } = await twoHosts(t, { vniA: 5000, vniB: 5000 });
  await assert.rejects(swA.link('xenbr0', vb.local, { local: va.local }), (e: unknown) => isXenError(e, 'EEXIST'));
  await assert.rejects(swA.link('xenbr1', vb.local, { local: va.local, vni: 9000 }), (e: unknown) => isXenError(e, 'EEXIST'));
  const other = await swA.link('xenbr1', vb.local, { local: va.local, vni: 9095 });
  assert.equal((await swA.links()).length, 2);
  await assert.rejects(swA.link('xenbr2', vb.local, { local: va.local, vni: 2 ** 24 }), (e: unknown) => isXenError(e, 'EINVAL'));
  linkA.unlink();
  assert.equal(swA.findPort(linkA.name), undefined);
  assert.deepEqual((await swA.links()).map((l) => l.name), [other.name]);
  await swA.link('xenbr0', vb.local, { local: va.local, vni: 5000 });
});
