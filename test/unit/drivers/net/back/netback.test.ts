// netback's xenbus side and data path against a frontend written by hand through the real
// hypervisor: the keys it offers, what it reads, its refusals, frames each way (one slot,
// many, GSO, checksum flags), rx batching, multi-queue steering, rate=, disconnect and
// reconnect.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  NETIF_RSP_OKAY, NETRXF_csum_blank, NETRXF_data_validated, NETRXF_extra_info, NETTXF_csum_blank,
  NET_FRAME_PLAIN, XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_GSO_TYPE_TCPV4,
} from '../../../../../src/abi/netif.js';
import { XenbusState } from '../../../../../src/abi/xenbus.js';
import { switchState } from '../../../../../src/drivers/xenbus.js';
import { RawNetFront, frameOf, netRig, within } from '../../../../support/net-back.js';
import { waitFor } from '../../../../support/wait.js';

test('the backend offers what Linux netback offers and goes InitWait', async (t) => {
  const rig = netRig(t);
  const g = rig.guest();
  const be = await rig.vif(g);
  const dir = be.dir;
  const read = (k: string) => rig.xs0.readOptional(`${dir}/${k}`);
  for (const [k, v] of Object.entries({
    'feature-sg': '1', 'feature-gso-tcpv4': '1', 'feature-gso-tcpv6': '1', 'feature-ipv6-csum-offload': '1',
    'feature-rx-copy': '1', 'feature-rx-flip': '0', 'feature-multicast-control': '1', 'feature-split-event-channels': '1',
    'multi-queue-max-queues': '4', 'feature-ctrl-ring': '1', state: String(XenbusState.InitWait), 'hotplug-status': 'connected',
  })) assert.equal(await read(k), v, k);
  assert.equal(be.name, `vif${g.domid}.0`);
});

test('frames go both ways: guest transmit into the switch, switch into posted rx buffers', async (t) => {
  const rig = netRig(t);
  const a = rig.guest();
  const b = rig.guest();
  await rig.vif(a);
  await rig.vif(b, 0, { rate: '100000000,50000' });
  const fa = await RawNetFront.connect(rig.xs0, a);
  const fb = await RawNetFront.connect(rig.xs0, b, { split: true, ready: XenbusState.Initialised });
  assert.deepEqual(rig.hub.ports.get(`vif${a.domid}.0`)!.opts, { bridge: 'xenbr0', mac: `00:16:3e:00:0${a.domid}:00`, macSpoof: false });
  fb.postRx(8);
  const small = frameOf(60, '00:16:3e:00:01:00', '00:16:3e:00:02:00', 1);
  const big = frameOf(9000, '00:16:3e:00:01:00', '00:16:3e:00:02:00', 2);
  fa.send(small, { id: 10, flags: NETTXF_csum_blank });
  fa.send(big, { id: 20 });
  const frames = await rig.hub.until(2);
  assert.deepEqual(frames.map((f) => f.frame), [small, big]);
  assert.equal(frames[0]!.info.csumBlank, true);
  await fa.until(() => fa.txResponses.length === 1 + 3, 'tx responses');
  assert.deepEqual(fa.txResponses.map((r) => [r.id, r.status]), [[10, 0], [20, 0], [21, 0], [22, 0]]);
  await fb.until(() => fb.received().length === 2, 'two frames at b');
  const got = fb.received();
  assert.deepEqual(got.map((r) => r.frame), [small, big]);
  assert.equal(got[0]!.flags & (NETRXF_csum_blank | NETRXF_data_validated), NETRXF_csum_blank | NETRXF_data_validated);
  const be = (await rig.daemon()).device(a.domid, 0)!;
  assert.deepEqual([be.stats.rxPackets, be.stats.rxBytes], [2, 60 + 9000]);
  const bb = (await rig.daemon()).device(b.domid, 0)!;
  assert.deepEqual([bb.stats.txPackets, bb.stats.txBytes], [2, 60 + 9000]);
  // The toolstack's view (xentop's NETTX/NETRX are the guest's own directions).
  const traffic = (await rig.daemon()).traffic();
  assert.deepEqual(traffic.get(a.domid), { vifs: 1, txBytes: 60 + 9000, rxBytes: 0 });
  assert.deepEqual(traffic.get(b.domid), { vifs: 1, txBytes: 0, rxBytes: 60 + 9000 });
});

test('a GSO super-frame goes in with its extra-info and out to a GSO frontend whole', async (t) => {
  const rig = netRig(t);
  const a = rig.guest();
  const b = rig.guest();
  await rig.vif(a);
  await rig.vif(b);
  const fa = await RawNetFront.connect(rig.xs0, a);
  const fb = await RawNetFront.connect(rig.xs0, b);
  fb.postRx(20);
  const sf = frameOf(65000, '00:16:3e:00:01:00', '00:16:3e:00:02:00', 3, 0x0800);
  fa.send(sf, { flags: NETTXF_csum_blank, extras: [{ kind: 'gso', type: XEN_NETIF_EXTRA_TYPE_GSO, flags: 0, size: 1448, gsoType: XEN_NETIF_GSO_TYPE_TCPV4, features: 0 }] });
  const [f] = await rig.hub.until(1);
  assert.deepEqual(f!.info.gso, { type: XEN_NETIF_GSO_TYPE_TCPV4, size: 1448 });
  await fa.until(() => fa.txResponses.length === 17, 'tx responses');
  assert.equal(fa.txResponses[1]!.status, 1, 'the extra slot is answered NETIF_RSP_NULL');
  await fb.until(() => fb.received().length === 1, 'the super-frame at b');
  const [r] = fb.received();
  assert.deepEqual(r!.frame, sf);
  assert.ok(r!.flags & NETRXF_extra_info);
  assert.equal(r!.gso?.kind === 'gso' && r.gso.size, 1448);
});

test('no rx buffer: the frame is held (xenvif_rx_queue_tail) and goes out in order once buffers come; rx batches notify once', async (t) => {
  const rig = netRig(t);
  const g = rig.guest();
  const be = await rig.vif(g);
  const f = await RawNetFront.connect(rig.xs0, g);
  const first = frameOf(100, '00:16:3e:00:09:00', undefined, 1);
  assert.deepEqual(rig.hub.inject(first, NET_FRAME_PLAIN), [true], 'held, not dropped');
  assert.deepEqual(be.rxHeld, { frames: 1, bytes: 100 });
  assert.equal(f.queues[0]!.rx.rspProd, 0, 'nothing written yet');
  // Once anything is held, later frames queue behind it: none overtakes.
  f.postRx(1);
  const second = frameOf(100, '00:16:3e:00:09:00', undefined, 2);
  assert.deepEqual(rig.hub.inject(second, NET_FRAME_PLAIN), [true]);
  // The rx event (buffers posted) lets both go, oldest first.
  f.postRx(1);
  await f.until(() => f.received().length === 2, 'the held frames');
  assert.deepEqual(f.received().map((r) => r.frame), [first, second]);
  assert.deepEqual(be.rxHeld, { frames: 0, bytes: 0 });
  assert.equal(be.stats.txDropped, 0);
  f.postRx(4);
  let events = 0;
  f.queues[0]!.rxPort.onEvent(() => events++);
  for (let i = 0; i < 4; i++) assert.deepEqual(rig.hub.inject(first, NET_FRAME_PLAIN), [true]);
  await f.until(() => f.rxResponses.length === 6, 'four rx responses');
  assert.ok(f.rxResponses.every((r) => r.status === 100));
  assert.equal(events, 1, 'one event for the batch');
});

test('a slow frontend: frames are held up to rx_queue_max, then dropped and counted; a held frame past the drain timeout is dropped', async (t) => {
  const rig = netRig(t, { rxQueue: { queueMax: 10_000, drainTimeoutMs: 200, stallTimeoutMs: 0 } });
  const g = rig.guest();
  const be = await rig.vif(g);
  const f = await RawNetFront.connect(rig.xs0, g);
  const frames = Array.from({ length: 30 }, (_, i) => frameOf(1000, '00:16:3e:00:09:00', undefined, i));
  const took = frames.map((fr) => rig.hub.inject(fr, NET_FRAME_PLAIN)[0]);
  // Held while under the bound (Linux admits a frame while rx_queue_len < rx_queue_max).
  assert.deepEqual(took, frames.map((_, i) => i < 10));
  assert.deepEqual(be.rxHeld, { frames: 10, bytes: 10_000 });
  assert.equal(be.stats.txDropped, 20);
  // The frontend takes three: they go in order, and room opens for more.
  f.postRx(3);
  await f.until(() => f.received().length === 3, 'three held frames');
  assert.deepEqual(f.received().map((r) => r.frame), frames.slice(0, 3));
  assert.deepEqual(rig.hub.inject(frames[29]!, NET_FRAME_PLAIN), [true]);
  // The rest wait past the drain timeout: dropped and counted.
  await within((async () => { while (be.rxHeld.frames !== 0) await new Promise((r) => setTimeout(r, 20)); })(), 'the drain timeout');
  assert.equal(be.stats.txDropped, 20 + 8);
  assert.equal(be.carrier, true, 'no stall detection (stallTimeoutMs 0)');
});

test('a stalled frontend: its carrier goes off (frames dropped before any queue) and on again once the queue drains', async (t) => {
  const rig = netRig(t, { rxQueue: { drainTimeoutMs: 400, stallTimeoutMs: 100 } });
  const g = rig.guest();
  const be = await rig.vif(g);
  const f = await RawNetFront.connect(rig.xs0, g);
  const frame = frameOf(100, '00:16:3e:00:09:00');
  assert.deepEqual(rig.hub.inject(frame, NET_FRAME_PLAIN), [true], 'held');
  assert.equal(be.carrier, true);
  await within((async () => { while (be.carrier) await new Promise((r) => setTimeout(r, 10)); })(), 'the stall');
  const dropped = be.stats.txDropped;
  assert.deepEqual(rig.hub.inject(frame, NET_FRAME_PLAIN), [false], 'carrier off: dropped at once');
  assert.equal(be.stats.txDropped, dropped + 1);
  assert.equal(be.rxHeld.frames, 1, 'nothing more held');
  // The held frame expires; with nothing needed the queue is ready and the carrier comes back.
  await within((async () => { while (!be.carrier) await new Promise((r) => setTimeout(r, 10)); })(), 'carrier on');
  assert.equal(be.rxHeld.frames, 0);
  f.postRx(1);
  assert.deepEqual(rig.hub.inject(frame, NET_FRAME_PLAIN), [true]);
  await f.until(() => f.received().length === 1, 'a frame after the stall');
});

test('refusals as Linux: no request-rx-copy, more queues than offered, no feature-rx-notify', async (t) => {
  const rig = netRig(t, { maxQueues: 2 });
  const g = rig.guest();
  const be = await rig.vif(g);
  await RawNetFront.connect(rig.xs0, g, { keys: { 'feature-rx-notify': '1' }, noWait: true });
  await within(rig.xs0.wait(`${be.dir}/state`, (v) => v === String(XenbusState.Closing)), 'backend Closing');
  assert.match((await rig.xs0.readOptional(`${be.dir}/error`))!, /request-rx-copy/);
  const g2 = rig.guest();
  const be2 = await rig.vif(g2);
  await RawNetFront.connect(rig.xs0, g2, { queues: 3, noWait: true });
  await within(rig.xs0.wait(`${be2.dir}/state`, (v) => v === String(XenbusState.Closing)), 'backend Closing');
  assert.match((await rig.xs0.readOptional(`${be2.dir}/error`))!, /3 queues/);
  const g3 = rig.guest();
  const be3 = await rig.vif(g3);
  await RawNetFront.connect(rig.xs0, g3, { keys: { 'request-rx-copy': '1' }, noWait: true });
  await within(rig.xs0.wait(`${be3.dir}/state`, (v) => v === String(XenbusState.Closing)), 'backend Closing');
  assert.match((await rig.xs0.readOptional(`${be3.dir}/error`))!, /feature-rx-notify is not 1: it is mandatory/);
  assert.equal(rig.hub.ports.size, 0);
});

test('orderly disconnect unplugs the vif; the frontend reconnects with fresh rings', async (t) => {
  const rig = netRig(t);
  const g = rig.guest();
  const be = await rig.vif(g);
  const f = await RawNetFront.connect(rig.xs0, g);
  assert.equal(rig.hub.ports.size, 1);
  await switchState(g.xs, f.fe, XenbusState.Closing);
  await within(rig.xs0.wait(`${be.dir}/state`, (v) => v === String(XenbusState.Closing)), 'backend Closing');
  await switchState(g.xs, f.fe, XenbusState.Closed);
  await within(rig.xs0.wait(`${be.dir}/state`, (v) => v === String(XenbusState.Closed)), 'backend Closed');
  assert.equal(rig.hub.ports.size, 0);
  assert.equal(be.connected, false);
  await switchState(g.xs, f.fe, XenbusState.Initialising);
  await within(rig.xs0.wait(`${be.dir}/state`, (v) => v === String(XenbusState.InitWait)), 'backend InitWait');
  const f2 = await RawNetFront.connect(rig.xs0, g);
  f2.send(frameOf(64, '00:16:3e:00:01:00'), { id: 5 });
  await f2.until(() => f2.txResponses.length === 1, 'a tx response');
  assert.equal(f2.txResponses[0]!.status, NETIF_RSP_OKAY);
});

test('the toolstack removing the nodes takes the netback away (surprise removal)', async (t) => {
  const rig = netRig(t);
  const g = rig.guest();
  const be = await rig.vif(g);
  await RawNetFront.connect(rig.xs0, g);
  await rig.xs0.rm(be.dir);
  await rig.xs0.rm(`/local/domain/${g.domid}/device/vif/0`);
  const d = await rig.daemon();
  await waitFor(() => !d.device(g.domid, 0), 20_000);
  assert.equal(d.device(g.domid, 0), undefined);
  assert.equal(rig.hub.ports.size, 0);
});

test('after a backend restart, a frontend left Connected is not taken as ready; it reconnects', async (t) => {
  const rig = netRig(t);
  const g = rig.guest();
  const old = await rig.vif(g);
  const f = await RawNetFront.connect(rig.xs0, g);
  const dir = old.dir;
  await old.close();
  await switchState(rig.xs0, dir, XenbusState.Closed);
  const { NetBack } = await import('../../../../../src/drivers/net/back/netback.js');
  const fresh = await NetBack.start(rig.dom0, dir, rig.sw);
  t.after(() => fresh.close());
  assert.equal(fresh.state, XenbusState.InitWait);
  assert.equal(fresh.connected, false);
  // The frontend starts over, as it does when its backend went away.
  await switchState(g.xs, f.fe, XenbusState.Initialising);
  const f2 = await RawNetFront.connect(rig.xs0, g);
  f2.send(frameOf(64, '00:16:3e:00:01:00'), { id: 1 });
  await f2.until(() => f2.txResponses.length === 1, 'a tx response');
  assert.equal(fresh.connected, true);
});
