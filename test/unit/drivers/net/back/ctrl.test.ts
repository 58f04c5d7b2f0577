// The HASH extra-info on receive: once the frontend picks the Toeplitz hash on its ctrl ring,
// every frame for it whose headers match the chosen hash types carries its hash in an
// extra-info slot (after the GSO one, if any), as xen-netback's xenvif_rx_next_skb writes it;
// other frames carry none, and a frame that has not room for its extras is dropped whole.
// Also here: a frontend that refills the ctrl ring as fast as it is answered gets a ring's worth
// of dom0's thread per turn.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  NETIF_CTRL_SLOT_SIZE, NETRXF_extra_info, NET_FRAME_PLAIN, XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, XEN_NETIF_CTRL_HASH_TYPE_IPV4,
  XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, XEN_NETIF_CTRL_STATUS_SUCCESS, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM,
  XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY,
  XEN_NETIF_EXTRA_FLAG_MORE, XEN_NETIF_EXTRA_TYPE_HASH, XEN_NETIF_GSO_TYPE_TCPV4, decodeNetifCtrlResponse,
  encodeNetifCtrlRequest, toeplitzHash,
} from '../../../../../src/abi/netif.js';
import { BackRing, FrontRing } from '../../../../../src/abi/ring.js';
import { PAGE_SIZE } from '../../../../../src/abi/xen.js';
import { CtrlRing, QueueSelector } from '../../../../../src/drivers/net/back/ctrl.js';
import { MAX_HASH_MAPPING_SIZE } from '../../../../../src/drivers/net/protocol.js';
import { RawNetFront, frameOf, netRig } from '../../../../support/net-back.js';

/** An IPv4/TCP frame 10.0.0.1:1234 -> 10.0.0.2:80 of `len` bytes. */
function tcp4(len: number): Uint8Array {
  const f = frameOf(len, '00:16:3e:00:00:01', 'ff:ff:ff:ff:ff:ff', 1, 0x0800);
  f[14] = 0x45;
  f[23] = 6;
  f.set([10, 0, 0, 1, 10, 0, 0, 2, 0x04, 0xd2, 0x00, 0x50], 26);
  return f;
}

test('HASH extra-info: the Toeplitz hash of the types asked for, after the GSO extra; none before Toeplitz or for other frames', async (t) => {
  const rig = netRig(t);
  const g = rig.guest();
  await rig.vif(g);
  const f = await RawNetFront.connect(rig.xs0, g, { ctrl: true });
  f.postRx(64);
  const frame = tcp4(200);
  rig.hub.inject(frame, NET_FRAME_PLAIN);
  await f.until(() => f.received().length === 1, 'a frame before Toeplitz');
  assert.equal(f.received()[0]!.flags & NETRXF_extra_info, 0, 'no hash asked for, none given');
  let id = 0;
  const ctrl = async (type: number, data: [number, number, number]) => (await f.ctrl({ id: ++id, type, data })).status;
  const key = new Uint8Array(40).map((_, i) => (i * 37 + 11) & 0xff);
  assert.equal(await ctrl(XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, [XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0, 0]), XEN_NETIF_CTRL_STATUS_SUCCESS);
  assert.equal(await ctrl(XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, [f.page(key), 40, 0]), XEN_NETIF_CTRL_STATUS_SUCCESS);
  assert.equal(await ctrl(XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, [XEN_NETIF_CTRL_HASH_TYPE_IPV4 | XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, 0, 0]), XEN_NETIF_CTRL_STATUS_SUCCESS);
  const want = toeplitzHash(key, frame.subarray(26, 38));
  rig.hub.inject(frame, NET_FRAME_PLAIN);
  rig.hub.inject(frameOf(60, '00:16:3e:00:00:01', 'ff:ff:ff:ff:ff:ff', 2, 0x0806), NET_FRAME_PLAIN);
  const big = tcp4(9000);
  rig.hub.inject(big, { csumBlank: true, dataValidated: false, gso: { type: XEN_NETIF_GSO_TYPE_TCPV4, size: 1448 } });
  await f.until(() => f.received().length === 4, 'three more frames');
  const [, hashed, arp, gso] = f.received();
  assert.deepEqual(hashed!.frame, frame);
  assert.ok(hashed!.flags & NETRXF_extra_info);
  assert.deepEqual(hashed!.hash, { kind: 'hash', type: XEN_NETIF_EXTRA_TYPE_HASH, flags: 0, hashType: 1, algorithm: XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, value: want });
  assert.equal(arp!.flags & NETRXF_extra_info, 0, 'ARP matches no hash type');
  assert.equal(arp!.hash, undefined);
  assert.deepEqual(gso!.frame, big, 'the data goes on after both extras');
  assert.equal(gso!.gso!.flags, XEN_NETIF_EXTRA_FLAG_MORE, 'the GSO extra first, chained');
  assert.equal(gso!.hash!.flags, 0);
  assert.equal(gso!.hash!.kind === 'hash' && gso!.hash!.value, want);
  // Addresses only (no IPV4_TCP): the hash of the 8 address bytes, type _XEN_NETIF_CTRL_HASH_TYPE_IPV4.
  assert.equal(await ctrl(XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, [XEN_NETIF_CTRL_HASH_TYPE_IPV4, 0, 0]), XEN_NETIF_CTRL_STATUS_SUCCESS);
  rig.hub.inject(frame, NET_FRAME_PLAIN);
  await f.until(() => f.received().length === 5, 'an address-hashed frame');
  const last = f.received()[4]!;
  assert.ok(last.hash && last.hash.kind === 'hash');
  assert.deepEqual([last.hash.hashType, last.hash.value], [0, toeplitzHash(key, frame.subarray(26, 34))]);
});

test('a frame whose extras find no rx slot is held whole: the ring is untouched until buffers come', async (t) => {
  const rig = netRig(t);
  const g = rig.guest();
  const be = await rig.vif(g);
  const f = await RawNetFront.connect(rig.xs0, g, { ctrl: true });
  assert.equal((await f.ctrl({ id: 1, type: XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, data: [XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0, 0] })).status, XEN_NETIF_CTRL_STATUS_SUCCESS);
  assert.equal((await f.ctrl({ id: 2, type: XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, data: [XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, 0, 0] })).status, XEN_NETIF_CTRL_STATUS_SUCCESS);
  f.postRx(1);
  assert.deepEqual(rig.hub.inject(tcp4(100), NET_FRAME_PLAIN), [true]);
  assert.equal(f.queues[0]!.rx.rspProd, 0, 'nothing written');
  assert.equal(be.rxHeld.frames, 1);
  f.postRx(1);
  await f.until(() => f.received().length === 1, 'the held frame, with its hash');
  assert.ok(f.received()[0]!.hash);
  assert.equal(be.stats.txDropped, 0);
});

// The ctrl ring is answered a pass at a time, each pass published before the ring is looked at
// again; a frontend that refills it each time (here: in the notification, as a frontend on
// another core sees rsp_prod move) kept service() going for ever. Now one call answers a ring's
// worth and the rest follows a turn of the event loop at a time, every request once, in order.
test("a frontend refilling its ctrl ring as fast as it is answered gets a ring's worth per service() call; every request is answered", async (t) => {
  const rig = netRig(t);
  const bytes = new Uint8Array(PAGE_SIZE);
  const front = FrontRing.create(bytes, NETIF_CTRL_SLOT_SIZE);
  const TOTAL = 2000;
  let sent = 0;
  const answers: { id: number; status: number; data: number }[] = [];
  const slot = new Uint8Array(NETIF_CTRL_SLOT_SIZE);
  const refill = (): void => {
    while (sent < TOTAL && front.reqProdPvt - front.rspCons < front.nrEnts) {
      encodeNetifCtrlRequest(front.view, front.slotOffset(front.reqProdPvt), { id: sent++, type: XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, data: [0, 0, 0] });
      front.reqProdPvt = front.reqProdPvt + 1;
    }
    front.pushRequests();
  };
  let fatal: string | null = null;
  const ctrl = new CtrlRing({
    ring: new BackRing(bytes, NETIF_CTRL_SLOT_SIZE),
    hc: rig.dom0.hc,
    frontendId: 1,
    selector: new QueueSelector(1),
    notify: () => {
      do {
        while (front.rspCons !== front.rspProd) {
          front.copyResponse(front.rspCons, slot);
          front.rspCons = front.rspCons + 1;
          answers.push(decodeNetifCtrlResponse(new DataView(slot.buffer), 0));
        }
      } while (front.finalCheckForResponses());
      refill();
    },
    onFatal: (why) => (fatal = why),
  });
  t.after(() => ctrl.stop());
  refill();
  ctrl.service();
  assert.equal(answers.length, front.nrEnts, "the first call answers a ring's worth");
  let most = 0;
  for (let turn = 0; answers.length < TOTAL && turn < TOTAL; turn++) {
    const before = answers.length;
    await new Promise((resolve) => setImmediate(resolve));
    most = Math.max(most, answers.length - before);
  }
  assert.equal(fatal, null);
  assert.ok(most <= front.nrEnts, `${most} answered in one turn`);
  assert.deepEqual(answers.map((a) => a.id), [...Array(TOTAL).keys()], 'each request answered once, in order');
  assert.ok(answers.every((a) => a.status === XEN_NETIF_CTRL_STATUS_SUCCESS && a.data === MAX_HASH_MAPPING_SIZE));
});
