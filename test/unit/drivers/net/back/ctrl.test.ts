// The HASH extra-info on receive: once the frontend picks the Toeplitz hash on its ctrl ring,
// every frame for it whose headers match the chosen hash types carries its hash in an
// extra-info slot (after the GSO one, if any), as xen-netback's xenvif_rx_next_skb writes it;
// other frames carry none, and a frame that has not room for its extras is dropped whole.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  NETRXF_extra_info, NET_FRAME_PLAIN, XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, XEN_NETIF_CTRL_HASH_TYPE_IPV4,
  XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, XEN_NETIF_CTRL_STATUS_SUCCESS, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM,
  XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, XEN_NETIF_EXTRA_FLAG_MORE, XEN_NETIF_EXTRA_TYPE_HASH,
  XEN_NETIF_GSO_TYPE_TCPV4, toeplitzHash,
} from '../../../../../src/abi/netif.js';
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
