// netback plugged into dom0's real virtual switch (src/network): two guests on one bridge
// exchange frames; a vif sends only from its configured MAC (the switch checks the `mac`
// netback plugs the port with) unless the backend allows spoofing; guests on other bridges
// hear nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NETIF_RSP_ERROR, NETIF_RSP_OKAY, NET_FRAME_PLAIN, type NetFrameInfo } from '../../../../../src/abi/netif.js';
import type { FrameTail, PortDevice } from '../../../../../src/network/port.js';
import { macAnnouncement } from '../../../../../src/network/announce.js';
import { parseMac } from '../../../../../src/network/mac.js';
import { Switch } from '../../../../../src/network/switch.js';
import type { RxQueueLimits } from '../../../../../src/drivers/net/back/rx.js';
import { XenbusState } from '../../../../../src/abi/xenbus.js';
import { RawNetFront, frameOf, netRig, within } from '../../../../support/net-back.js';
import { waitFor } from '../../../../support/wait.js';

async function pair(t: import('node:test').TestContext, macSpoof: boolean, aNodes: Record<string, string> = {}) {
  const sw = new Switch();
  t.after(() => sw.close());
  const rig = netRig(t, { macSpoof }, sw);
  const ga = rig.guest();
  const gb = rig.guest();
  const gc = rig.guest();
  const backA = await rig.vif(ga, 0, aNodes);
  await rig.vif(gb);
  await rig.vif(gc, 0, { bridge: 'xenbr1' });
  const a = await RawNetFront.connect(rig.xs0, ga);
  const b = await RawNetFront.connect(rig.xs0, gb);
  const c = await RawNetFront.connect(rig.xs0, gc);
  b.postRx(4);
  c.postRx(4);
  const macOf = (domid: number) => `00:16:3e:00:${domid.toString(16).padStart(2, '0')}:00`;
  return { rig, sw, a, b, c, backA, macA: macOf(ga.domid), macB: macOf(gb.domid) };
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

// A frame longer than a page (TX_TAIL_MIN) crosses the bridge with all but its first
// TX_COPY_LEN bytes left in the sender's pages, pinned, and copied once, grant to grant, into
// the receiver's buffers; a frame the bridge floods or taps is filled into dom0 first.
test('a frame over a page goes grant to grant into the receiver\'s buffers, intact, as does a flooded one; the sender gets its pages back', async (t) => {
  const { sw, a, b, macA, macB } = await pair(t, false);
  b.send(frameOf(60, macB), { id: 1 }); // the bridge learns where b is
  await b.until(() => b.txResponses.length === 1, "b's hello");
  b.postRx(8);
  const unicast = frameOf(9000, macA, macB, 7);
  const flooded = frameOf(5000, macA, 'ff:ff:ff:ff:ff:ff', 8);
  const slots = a.frameSlots(unicast, { id: 10 });
  a.sendSlots(slots);
  a.send(flooded, { id: 20 });
  await b.until(() => b.received().length === 2, 'b receives both');
  assert.deepEqual(b.received().map((r) => r.frame), [unicast, flooded]);
  assert.equal(sw.findBridge('xenbr0')!.counters.forwarded, 1);
  await a.until(() => a.txResponses.length === 3 + 2, 'tx responses');
  assert.ok(a.txResponses.every((r) => r.status === NETIF_RSP_OKAY));
  for (const s of slots) if ('gref' in s) assert.equal(a.g.hc.endAccess(s.gref), true, `gref ${s.gref} is no longer pinned`);
});

test('a hostile sender: a tail page revoked or never granted gets NETIF_RSP_ERROR; nothing reaches the receiver and the bridge goes on', async (t) => {
  const { rig, a, b, macA, macB } = await pair(t, false);
  b.send(frameOf(60, macB), { id: 1 });
  await b.until(() => b.txResponses.length === 1, "b's hello");
  b.postRx(8);
  const frame = frameOf(9000, macA, macB, 9);
  const revoked = a.frameSlots(frame, { id: 10 });
  // Revoked and not given back to the allocator, so that no later grant reuses the ref.
  assert.equal(a.g.hc.endAccess((revoked[2] as { gref: number }).gref, false), true);
  a.sendSlots(revoked);
  const bogus = a.frameSlots(frame, { id: 20 });
  (bogus[1] as { gref: number }).gref = 4000;
  a.sendSlots(bogus);
  await a.until(() => a.txResponses.length === 6, 'tx responses');
  assert.deepEqual(a.txResponses.map((r) => r.status), Array(6).fill(NETIF_RSP_ERROR));
  assert.equal((await rig.daemon()).device(a.g.domid, 0)!.stats.rxErrors, 2);
  const good = frameOf(9000, macA, macB, 10);
  a.send(good, { id: 30 });
  await b.until(() => b.received().length === 1, 'b receives the good frame only');
  assert.deepEqual(b.received()[0]!.frame, good);
});

test('a hostile receiver: an rx buffer it may not write gets NETIF_RSP_ERROR for its part alone; the sender is answered OKAY and unpinned', async (t) => {
  const { a, b, macA, macB } = await pair(t, false);
  b.send(frameOf(60, macB), { id: 1 });
  await b.until(() => b.txResponses.length === 1, "b's hello");
  b.rxResponses.length = 0;
  // b has 4 good buffers already; take them, then post a read-only one between good ones.
  const slots = a.frameSlots(frameOf(100, macA, macB, 1), { id: 5 });
  for (let i = 0; i < 4; i++) a.sendSlots(slots);
  await b.until(() => b.received().length === 4, 'the posted buffers used up');
  b.rxResponses.length = 0;
  const ro = b.page(new Uint8Array(0), 0, true);
  b.postRx(3, 0, [b.page(new Uint8Array(0), 0, false), ro, b.page(new Uint8Array(0), 0, false)]);
  const big = a.frameSlots(frameOf(9000, macA, macB, 11), { id: 10 });
  a.sendSlots(big);
  await b.until(() => b.rxResponses.length === 3, "b's three responses");
  assert.deepEqual(b.rxResponses.map((r) => r.status), [4096, NETIF_RSP_ERROR, 9000 - 8192]);
  await a.until(() => a.txResponses.length === 4 + 3, 'tx responses');
  assert.ok(a.txResponses.every((r) => r.status === NETIF_RSP_OKAY));
  for (const s of big) if ('gref' in s) assert.equal(a.g.hc.endAccess(s.gref), true, `gref ${s.gref} is no longer pinned`);
  b.postRx(3);
  const again = frameOf(9000, macA, macB, 12);
  a.send(again, { id: 40 });
  await b.until(() => b.received().length === 2, 'the next frame');
  assert.deepEqual(b.received()[1]!.frame, again);
});

test('while a frame crosses the bridge its sender cannot revoke the pages that hold its tail', async (t) => {
  const { sw, a, macA } = await pair(t, false);
  const spyMac = '00:16:3e:77:77:77';
  const seen: { revoked: boolean; filled: boolean; frame: Uint8Array }[] = [];
  let grefs: number[] = [];
  const spy: PortDevice = {
    name: 'spy0',
    features: { csumOffload: true, gsoTcpv4: true, gsoTcpv6: true },
    deliver: () => true,
    deliverTail(frame: Uint8Array, _info: NetFrameInfo, tail: FrameTail) {
      const revoked = grefs.some((g) => a.g.hc.endAccess(g, false));
      const filled = tail.fill();
      seen.push({ revoked, filled, frame: frame.slice() });
      return true;
    },
  };
  const port = sw.plugInternal('xenbr0', spy);
  port.input(frameOf(60, spyMac), NET_FRAME_PLAIN);
  const frame = frameOf(9000, macA, spyMac, 13);
  const slots = a.frameSlots(frame, { id: 10 });
  grefs = slots.flatMap((s) => ('gref' in s ? [s.gref] : []));
  a.sendSlots(slots);
  await a.until(() => a.txResponses.length === 3, 'tx responses');
  assert.deepEqual(seen.map((s) => [s.revoked, s.filled]), [[false, true]]);
  assert.deepEqual(seen[0]!.frame, frame);
  for (const g of grefs) assert.equal(a.g.hc.endAccess(g), true);
});

// netback's tx copies the packets of one ring pass as one grant-copy batch and the receiving
// netback stages them (FramePass) for one batch of its own: a bad packet or a bad rx buffer in
// the middle of a pass must fail alone, and every answer must keep ring order.
test('one ring pass of good and bad packets: each answered in ring order, the good ones forwarded intact and in order', async (t) => {
  const { a, b, macA, macB } = await pair(t, false);
  b.send(frameOf(60, macB), { id: 1 });
  await b.until(() => b.txResponses.length === 1, "b's hello");
  const frames = [frameOf(100, macA, macB, 1), frameOf(200, macA, macB, 2), frameOf(300, macA, macB, 3)];
  a.putSlots(a.frameSlots(frames[0]!, { id: 10 }));
  a.putSlots([{ gref: 4000, offset: 0, flags: 0, id: 11, size: 60 }]);
  a.putSlots(a.frameSlots(frames[1]!, { id: 12 }));
  a.putSlots([{ gref: a.page(frames[2]!), offset: 0, flags: 0, id: 13, size: 13 }]);
  a.putSlots(a.frameSlots(frames[2]!, { id: 14 }));
  a.pushTx();
  await a.until(() => a.txResponses.length === 5, 'tx responses');
  assert.deepEqual(a.txResponses.map((r) => [r.id, r.status]), [[10, NETIF_RSP_OKAY], [11, NETIF_RSP_ERROR], [12, NETIF_RSP_OKAY], [13, NETIF_RSP_ERROR], [14, NETIF_RSP_OKAY]]);
  await b.until(() => b.received().length === 3, 'b receives the good frames');
  assert.deepEqual(b.received().map((r) => r.frame), frames);
});

/**
 * A port on xenbr0 with MAC `mac` that counts the frames delivered to it and, at the end of each
 * of netback's passes that delivered some, how many it had then.
 */
function passSpy(sw: Switch, mac: string) {
  let delivered = 0;
  let ending = false;
  const passEnds: number[] = [];
  const spy: PortDevice = {
    name: 'spy0',
    features: { csumOffload: true, gsoTcpv4: true, gsoTcpv6: true },
    deliver(_frame, _info, pass) {
      delivered++;
      if (pass && !ending) {
        ending = true;
        pass.defer(() => {
          ending = false;
          passEnds.push(delivered);
        });
      }
      return true;
    },
  };
  sw.plugInternal('xenbr0', spy).input(frameOf(60, mac), NET_FRAME_PLAIN);
  return { passEnds, delivered: () => delivered };
}

// A guest that answers a batch at once puts many small frames on its ring in one go; the
// receiver must not wait for netback to copy and forward all of them: a pass ends (its frames'
// copies made, the receivers' rings published) every 8 packets.
test('a ring of 24 small frames goes out in passes of 8: a receiver has the first 8 before netback copies the rest', async (t) => {
  const { sw, a, macA } = await pair(t, false);
  const spyMac = '00:16:3e:77:77:77';
  const spy = passSpy(sw, spyMac);
  for (let i = 0; i < 24; i++) a.putSlots(a.frameSlots(frameOf(100, macA, spyMac, i), { id: i }));
  a.pushTx();
  await a.until(() => a.txResponses.length === 24, 'tx responses');
  assert.equal(spy.delivered(), 24);
  assert.deepEqual(spy.passEnds, [8, 16, 24]);
});

// A pass holds the slots of 8 packets of the longest chains (PASS_SLOTS, sized from the pass's
// packets): packets of 18 slots each (the most netback takes: 19 or 20 are answered
// NETIF_RSP_ERROR, and only a 21st slot takes the vif down) still go out 8 to a pass, not fewer
// (12 of them fill 216 of the ring's 256 slots).
test('frames of 18 slots each go out in passes of 8 too: a pass has room for the slots of its packets', async (t) => {
  const { sw, a, macA } = await pair(t, false);
  const spyMac = '00:16:3e:77:77:78';
  const spy = passSpy(sw, spyMac);
  for (let i = 0; i < 12; i++) {
    const slots = a.frameSlots(frameOf(18 * 60, macA, spyMac, i), { id: i * 18, chunk: 60 });
    assert.equal(slots.length, 18);
    a.putSlots(slots);
  }
  a.pushTx();
  await a.until(() => a.txResponses.length === 12 * 18, 'tx responses');
  assert.ok(a.txResponses.every((r) => r.status === NETIF_RSP_OKAY));
  assert.deepEqual(a.txResponses.map((r) => r.id), [...Array(12 * 18).keys()], 'every slot answered once, in ring order');
  assert.equal(spy.delivered(), 12);
  assert.deepEqual(spy.passEnds, [8, 12]);
});

// Responses go out every pass, so a frontend can refill its ring while netback still serves it.
// One that refills as fast as it is answered must not hold dom0's thread: a service call takes
// a bounded share, and the rest comes in later turns of the event loop.
test('a frontend refilling its ring as fast as it is answered gets a bounded share of dom0 per turn', async (t) => {
  const { sw, a, macA } = await pair(t, false);
  const spyMac = '00:16:3e:77:77:78';
  const TOTAL = 2_000;
  // 32 frames' slots, each used again once answered (24 are in flight at most).
  const slots = Array.from({ length: 32 }, (_, i) => a.frameSlots(frameOf(100, macA, spyMac, i), { id: i }));
  let sent = 24;
  let delivered = 0;
  const spy: PortDevice = {
    name: 'spy1',
    features: { csumOffload: true, gsoTcpv4: true, gsoTcpv6: true },
    deliver() {
      delivered++;
      // Its slot was answered before the frame came here: put one more in its place.
      if (sent < TOTAL) {
        a.putSlots(slots[sent++ % slots.length]!);
        a.pushTx();
      }
      return true;
    },
  };
  sw.plugInternal('xenbr0', spy).input(frameOf(60, spyMac), NET_FRAME_PLAIN);
  // A turn of the event loop counts what came in it.
  let turns = 0;
  let most = 0;
  let seen = 0;
  let ticking = true;
  const tick = (): void => {
    most = Math.max(most, delivered - seen);
    seen = delivered;
    turns++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  t.after(() => (ticking = false));
  for (let i = 0; i < 24; i++) a.putSlots(slots[i]!);
  a.pushTx();
  await a.until(() => delivered === TOTAL, 'every frame delivered');
  ticking = false;
  assert.ok(most <= 64 + 8, `at most a service call's share in a turn (${most} in one, ${turns} turns)`);
});

test('a pass staged for one rx batch: a buffer the receiver may not write fails its frame alone', async (t) => {
  const { rig, a, b, macA, macB } = await pair(t, false);
  b.send(frameOf(60, macB), { id: 1 });
  await b.until(() => b.txResponses.length === 1, "b's hello");
  const frames = Array.from({ length: 8 }, (_, i) => frameOf(64 + i, macA, macB, i));
  // b's first four buffers are posted already; then a read-only one among good ones.
  b.postRx(4, 0, [b.page(new Uint8Array(0), 0, false), b.page(new Uint8Array(0), 0, true), b.page(new Uint8Array(0), 0, false), b.page(new Uint8Array(0), 0, false)]);
  for (const [i, f] of frames.entries()) a.putSlots(a.frameSlots(f, { id: 20 + i }));
  a.pushTx();
  await a.until(() => a.txResponses.length === 8, 'tx responses');
  assert.ok(a.txResponses.every((r) => r.status === NETIF_RSP_OKAY));
  await b.until(() => b.rxResponses.length === 8, "b's responses");
  assert.deepEqual(b.rxResponses.map((r) => r.status), frames.map((f, i) => (i === 5 ? NETIF_RSP_ERROR : f.length)));
  assert.deepEqual(b.received().filter((r) => r.status >= 0).map((r) => r.frame), frames.filter((_, i) => i !== 5));
  const stats = (await rig.daemon()).device(b.g.domid, 0)!.stats;
  assert.equal(stats.txErrors, 1);
  assert.equal(stats.txPackets, 7);
});

test('locking modes: locked passes only allowed IPv4 sources, disabled nothing either way; a change on a connected vif applies at once', async (t) => {
  const { rig, sw, a, b, macA, macB } = await pair(t, false, { 'locking-mode': 'locked', 'ipv4-allowed': '10.0.0.9 10.0.0.2' });
  b.send(frameOf(60, macB), { id: 1 });
  await b.until(() => b.txResponses.length === 1, "b's hello");
  const ip = (src: number[], salt: number) => {
    const f = frameOf(60, macA, macB, salt, 0x0800);
    f[14] = 0x45;
    f.set(src, 26);
    return f;
  };
  a.send(ip([10, 0, 0, 2], 1), { id: 1 });
  a.send(ip([10, 0, 0, 3], 2), { id: 2 });
  a.send(frameOf(60, macA, macB, 3), { id: 3 });
  await a.until(() => a.txResponses.length === 3, 'tx responses');
  await b.until(() => b.received().length === 1, 'b receives the allowed one');
  assert.deepEqual(b.received()[0]!.frame, ip([10, 0, 0, 2], 1));
  const br = sw.findBridge('xenbr0')!;
  assert.equal(br.counters.dropLocked, 2);
  const port = sw.findPort(`vif${a.g.domid}.0`)!;
  const settle = async (cond: () => boolean, what: string) => {
    assert.ok(await waitFor(cond, 20_000, 5), what);
  };
  await rig.xs0.write(`${a.be}/locking-mode`, 'disabled');
  await settle(() => port.disabled, 'the port is disabled');
  a.send(ip([10, 0, 0, 2], 4), { id: 4 });
  await a.until(() => a.txResponses.length === 4, 'tx response');
  assert.equal(br.counters.dropLocked, 3);
  b.send(frameOf(60, macB, macA, 5), { id: 2 });
  await b.until(() => b.txResponses.length === 2, "b's frame to a");
  assert.equal(port.counters.dropsOut, 1);
  await rig.xs0.write(`${a.be}/locking-mode`, 'unlocked');
  await settle(() => !port.disabled && port.mode.mac === null, 'the port is unlocked');
  const spoofed = frameOf(100, '00:16:3e:99:99:99', macB, 6);
  a.send(spoofed, { id: 5 });
  await b.until(() => b.received().length === 2, 'b receives the spoofed frame');
  assert.deepEqual(b.received()[1]!.frame, spoofed);
  await rig.xs0.write(`${a.be}/ipv4-allowed`, '10.0.0.300');
  await rig.xs0.write(`${a.be}/locking-mode`, 'locked');
  await settle(() => port.disabled, 'a malformed address locks the vif out');
});

// Back-pressure (FrameSender): a unicast frame that finds its receiver short of rx buffers is
// held and pauses the sending vif's tx, whose later requests stay on its ring until the
// receiver has taken what is held; bounded by stopTimeoutMs for a receiver that takes nothing.
// Every guest first says hello (a frame to a MAC no one has, which floods) so the bridge knows
// it; `take` buffers each guest posts for those hellos first.
async function pressureRig(t: import('node:test').TestContext, rxQueue: Partial<RxQueueLimits>, guests: number) {
  const sw = new Switch();
  t.after(() => sw.close());
  const rig = netRig(t, { rxQueue }, sw);
  const gs = Array.from({ length: guests }, () => rig.guest());
  const bes = [];
  for (const g of gs) bes.push(await rig.vif(g));
  const fronts = [];
  for (const g of gs) fronts.push(await RawNetFront.connect(rig.xs0, g));
  const macs = gs.map((g) => `00:16:3e:00:${g.domid.toString(16).padStart(2, '0')}:00`);
  for (const f of fronts) f.postRx(guests - 1);
  for (const [i, f] of fronts.entries()) {
    f.send(frameOf(64, macs[i]!, '00:16:3e:77:77:77', 0xff), { id: 900 });
    await f.until(() => f.txResponses.length === 1, 'the hello');
  }
  for (const f of fronts) await f.until(() => f.received().length === guests - 1, 'the others\' hellos');
  /** Frames `to` received from guest `from`, past the hellos: their salts. */
  const got = (to: RawNetFront, from: number) => to.received().slice(guests - 1).filter((r) => macAt(r.frame, 6) === macs[from]).map((r) => (r.frame[14]! - 14 * 7) & 0xff);
  return { sw, bes, fronts, macs, got };
}

const macAt = (f: Uint8Array, at: number) => [...f.subarray(at, at + 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');

/** `n` 64-byte frames from guest `i` to `dst`, on its ring in one push; ids and salts from `id0`. */
function burst(from: RawNetFront, src: string, dst: string, n: number, id0: number): void {
  for (let i = 0; i < n; i++) from.putSlots(from.frameSlots(frameOf(64, src, dst, id0 + i), { id: id0 + i }));
  from.pushTx();
}

test('back-pressure: a stream to a guest short of rx buffers waits on the sender\'s ring, nothing dropped, and goes on as buffers come', async (t) => {
  const { bes, fronts, macs, got } = await pressureRig(t, { stopTimeoutMs: 60_000 }, 2);
  const [a, b] = fronts as [RawNetFront, RawNetFront];
  const bBe = bes[1]!;
  b.postRx(2);
  burst(a, macs[0]!, macs[1]!, 8, 0);
  await b.until(() => got(b, 0).length === 2, 'the two frames b had room for');
  // The eight (one pass) were copied at once and answered; the third is held, which pauses a:
  // the five after it wait in the pass, and what a puts on its ring now stays there.
  await a.until(() => a.txResponses.length === 1 + 8, "a's responses to the pass");
  assert.equal(bBe.rxHeld.frames, 1);
  burst(a, macs[0]!, macs[1]!, 5, 8);
  b.postRx(4);
  await b.until(() => got(b, 0).length === 6, 'the held frame and three more');
  assert.equal(bBe.rxHeld.frames, 1, 'the next frame of the pass is held: a is paused again');
  assert.equal(a.txResponses.length, 1 + 8, 'the five on its ring are not taken while it is paused');
  b.postRx(16);
  await b.until(() => got(b, 0).length === 13, 'the rest of the pass, then the ring');
  await a.until(() => a.txResponses.length === 1 + 13, 'every tx response');
  assert.deepEqual(got(b, 0), Array.from({ length: 13 }, (_, i) => i));
  assert.ok(a.txResponses.every((r) => r.status === NETIF_RSP_OKAY));
  assert.equal(bBe.stats.txDropped, 0);
  assert.deepEqual(bBe.rxHeld, { frames: 0, bytes: 0 });
});

test('back-pressure is bounded: a guest that posts no rx buffers holds its sender for stopTimeoutMs at most, and never stalls other guests', async (t) => {
  const { bes, fronts, macs, got } = await pressureRig(t, { stopTimeoutMs: 300 }, 4);
  const [a, stuck, c, d] = fronts as [RawNetFront, RawNetFront, RawNetFront, RawNetFront];
  const stuckBe = bes[1]!;
  c.postRx(64);
  // a: one frame to the stuck guest, then three to c; d: two to c.
  burst(a, macs[0]!, macs[1]!, 1, 0);
  burst(a, macs[0]!, macs[2]!, 3, 1);
  burst(d, macs[3]!, macs[2]!, 2, 0);
  // d is not held back by a's pause: its frames reach c before a's, which wait for the bound.
  await c.until(() => got(c, 3).length === 2, "d's frames");
  assert.equal(got(c, 0).length, 0, "a's frames wait behind the stuck guest");
  await c.until(() => got(c, 0).length === 3, "a's frames, past the bound");
  await a.until(() => a.txResponses.length === 1 + 4, "a's tx responses");
  // Stuck now, it pauses no one: a's further frames to it are held, and a's frame to c goes at once.
  burst(a, macs[0]!, macs[1]!, 20, 4);
  burst(a, macs[0]!, macs[2]!, 1, 24);
  await c.until(() => got(c, 0).length === 4, "a's next frame to c");
  await a.until(() => a.txResponses.length === 1 + 25, 'every tx response');
  assert.equal(stuckBe.rxHeld.frames, 21);
  // It posts buffers: it takes what it holds, in order.
  stuck.postRx(32);
  await stuck.until(() => got(stuck, 0).length === 21, 'the held frames');
  assert.deepEqual(got(stuck, 0), Array.from({ length: 21 }, (_, i) => (i === 0 ? 0 : i + 3)));
  assert.deepEqual(stuckBe.rxHeld, { frames: 0, bytes: 0 });
  assert.equal(stuckBe.stats.txDropped, 0);
});

test('back-pressure never holds a flood: a broadcast that a slow port holds does not pause its sender', async (t) => {
  const { bes, fronts, macs, got } = await pressureRig(t, { stopTimeoutMs: 60_000 }, 3);
  const [a, slow, c] = fronts as [RawNetFront, RawNetFront, RawNetFront];
  c.postRx(16);
  a.send(frameOf(64, macs[0]!, 'ff:ff:ff:ff:ff:ff', 1), { id: 1 });
  burst(a, macs[0]!, macs[2]!, 2, 2);
  await c.until(() => got(c, 0).length === 3, 'the broadcast and the unicast frames after it');
  assert.deepEqual(got(c, 0), [1, 2, 3]);
  assert.equal(bes[1]!.rxHeld.frames, 1, 'the slow port holds the broadcast');
  assert.equal(slow.received().length, 2, 'the hellos alone');
});

test('back-pressure is bounded when the queue is full of floods too: a unicast dropped at the bound pauses its sender for stopTimeoutMs at most', async (t) => {
  const { bes, fronts, macs, got } = await pressureRig(t, { stopTimeoutMs: 300, queueMax: 4 * 512, drainTimeoutMs: 60_000 }, 3);
  const [a, , c] = fronts as [RawNetFront, RawNetFront, RawNetFront];
  const fullBe = bes[1]!;
  c.postRx(16);
  // Broadcasts fill the buffer-less guest's queue to the bound (no one is paused for a flood)...
  for (let i = 0; i < 4; i++) a.send(frameOf(64, macs[0]!, 'ff:ff:ff:ff:ff:ff', 10 + i), { id: 10 + i });
  await c.until(() => got(c, 0).length === 4, 'the broadcasts');
  assert.equal(fullBe.rxHeld.frames, 4);
  // ...then a unicast for it is dropped at the bound and pauses a, which goes on after 300 ms, not at the 60 s drain timeout.
  burst(a, macs[0]!, macs[1]!, 1, 20);
  burst(a, macs[0]!, macs[2]!, 1, 21);
  await c.until(() => got(c, 0).length === 5, "a's frame to c, past the bound");
  assert.equal(fullBe.stats.txDropped, 1);
});

test("announce: a vif's MAC goes out from its port as QEMU's RARP (a migrated guest's destination), and its bridge learns the port; a vif not plugged announces nothing", async (t) => {
  const { rig, sw, b, backA: be, macA } = await pair(t, false);
  assert.equal(sw.findBridge('xenbr0')!.fdbRows().find((r) => r.mac === parseMac(macA)), undefined, 'a has sent nothing yet');
  assert.equal(be.announce(), true);
  await b.until(() => b.received().length === 1, 'b hears the announcement');
  assert.deepEqual([...b.received()[0]!.frame], [...macAnnouncement(parseMac(macA))]);
  assert.equal(sw.findBridge('xenbr0')!.fdbRows().find((r) => r.mac === parseMac(macA))?.port.name, be.name);
  const g = rig.guest();
  const unplugged = await rig.vif(g);
  assert.equal(unplugged.announce(), false, 'its frontend never connected');
});
