// netback plugged into dom0's real virtual switch (src/network): two guests on one bridge
// exchange frames; a vif sends only from its configured MAC (the switch checks the `mac`
// netback plugs the port with) unless the backend allows spoofing; guests on other bridges
// hear nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Switch } from '../../../../../src/network/switch.js';
import { XenbusState } from '../../../../../src/abi/xenbus.js';
import { RawNetFront, frameOf, netRig, within } from '../../../../support/net-back.js';

async function pair(t: import('node:test').TestContext, macSpoof: boolean, aNodes: Record<string, string> = {}) {
  const sw = new Switch();
  t.after(() => sw.close());
  const rig = netRig(t, { macSpoof }, sw);
  const ga = rig.guest();
  const gb = rig.guest();
  const gc = rig.guest();
  await rig.vif(ga, 0, aNodes);
  await rig.vif(gb);
  await rig.vif(gc, 0, { bridge: 'xenbr1' });
  const a = await RawNetFront.connect(rig.xs0, ga);
  const b = await RawNetFront.connect(rig.xs0, gb);
  const c = await RawNetFront.connect(rig.xs0, gc);
  b.postRx(4);
  c.postRx(4);
  const macOf = (domid: number) => `00:16:3e:00:${domid.toString(16).padStart(2, '0')}:00`;
  return { rig, sw, a, b, c, macA: macOf(ga.domid), macB: macOf(gb.domid) };
}

test('two guests on one bridge exchange frames; a spoofed source MAC is dropped; another bridge hears nothing', async (t) => {
  const { sw, a, b, c, macA, macB } = await pair(t, false);
  const good = frameOf(100, macA, macB, 1);
  a.send(good, { id: 1 });
  await b.until(() => b.received().length === 1, 'b receives');
  assert.deepEqual(b.received()[0]!.frame, good);
  a.send(frameOf(100, '00:16:3e:99:99:99', 'ff:ff:ff:ff:ff:ff', 2), { id: 2 });
  await a.until(() => a.txResponses.length === 2, 'two tx responses');
  assert.equal(sw.findBridge('xenbr0')!.counters.dropSpoof, 1);
  a.send(frameOf(100, macA, 'ff:ff:ff:ff:ff:ff', 3), { id: 3 });
  await b.until(() => b.received().length === 2, 'b receives the broadcast');
  assert.equal(c.rxResponses.length, 0, 'xenbr1 heard nothing');
});

test('a backend started with macSpoof lets the vif send from any MAC', async (t) => {
  const { sw, a, b, macB } = await pair(t, true);
  const spoofed = frameOf(100, '00:16:3e:99:99:99', macB, 4);
  a.send(spoofed, { id: 1 });
  await b.until(() => b.received().length === 1, 'b receives');
  assert.deepEqual(b.received()[0]!.frame, spoofed);
  assert.equal(sw.findBridge('xenbr0')!.counters.dropSpoof, 0);
});

test("locking-mode=unlocked in a vif's backend lets that vif alone send from any MAC; another mode refuses the vif", async (t) => {
  const { rig, sw, a, b, macA, macB } = await pair(t, false, { 'locking-mode': 'unlocked' });
  const spoofed = frameOf(100, '00:16:3e:99:99:99', macB, 5);
  a.send(spoofed, { id: 1 });
  await b.until(() => b.received().length === 1, 'b receives');
  assert.deepEqual(b.received()[0]!.frame, spoofed);
  // b is locked (no locking-mode): its spoofed frame is dropped.
  b.send(frameOf(100, '00:16:3e:99:99:98', macA, 6), { id: 1 });
  await b.until(() => b.txResponses.length === 1, "b's tx response");
  assert.equal(sw.findBridge('xenbr0')!.counters.dropSpoof, 1);
  const g = rig.guest();
  const be = await rig.vif(g, 0, { 'locking-mode': 'open sesame' });
  await RawNetFront.connect(rig.xs0, g, { noWait: true });
  await within(rig.xs0.wait(`${be.dir}/state`, (v) => v === String(XenbusState.Closing)), 'backend Closing');
  assert.match((await rig.xs0.readOptional(`${be.dir}/error`))!, /locking-mode/);
});

test('a stalled guest on the bridge: frames for it are held to the bound, then dropped and counted; the others keep forwarding', async (t) => {
  const sw = new Switch();
  t.after(() => sw.close());
  const rig = netRig(t, { rxQueue: { queueMax: 4096, drainTimeoutMs: 5_000, stallTimeoutMs: 100 } }, sw);
  const gs = [rig.guest(), rig.guest(), rig.guest()];
  const bes = [];
  for (const g of gs) bes.push(await rig.vif(g));
  const [a, b, stalled] = await Promise.all(gs.map((g) => RawNetFront.connect(rig.xs0, g)));
  const [, , sBe] = bes;
  const macOf = (domid: number) => `00:16:3e:00:${domid.toString(16).padStart(2, '0')}:00`;
  const [macA, macB] = [macOf(gs[0]!.domid), macOf(gs[1]!.domid)];
  b!.postRx(64);
  // Broadcasts from a: b takes them all; the stalled guest's queue holds 4096 bytes' worth, the rest is dropped there.
  for (let i = 0; i < 20; i++) a!.send(frameOf(1000, macA, 'ff:ff:ff:ff:ff:ff', i), { id: i });
  await b!.until(() => b!.received().length === 20, 'b receives every broadcast');
  assert.deepEqual(sBe!.rxHeld, { frames: 5, bytes: 5000 });
  assert.equal(sBe!.stats.txDropped, 15);
  const port = sw.findPort(sBe!.name)!;
  assert.equal(port.counters.dropsOut, 15);
  // Past the stall timeout its carrier goes off; a and b go on, unicast and broadcast.
  await within((async () => { while (sBe!.carrier) await new Promise((r) => setTimeout(r, 10)); })(), 'the stall');
  a!.send(frameOf(200, macA, macB, 99), { id: 99 });
  a!.send(frameOf(200, macA, 'ff:ff:ff:ff:ff:ff', 100), { id: 100 });
  await b!.until(() => b!.received().length === 22, 'b still receives');
  // b's MAC is not learned yet, so the unicast is flooded too: both dropped for the stalled vif at once.
  assert.equal(sBe!.stats.txDropped, 17);
  assert.equal(sBe!.rxHeld.frames, 5);
  // The stalled guest posts buffers: what was held goes to it, in order, and its carrier comes back.
  stalled!.postRx(8);
  await stalled!.until(() => stalled!.received().length === 5, 'the held frames');
  assert.deepEqual(stalled!.received().map((r) => r.frame[14 + 0]), [0, 1, 2, 3, 4].map((i) => (14 * 7 + i) & 0xff));
  await within((async () => { while (!sBe!.carrier) await new Promise((r) => setTimeout(r, 10)); })(), 'carrier on');
});
