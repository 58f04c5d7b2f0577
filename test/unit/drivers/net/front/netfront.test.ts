// netfront against a backend the test drives slot by slot: the handshake it writes, the slots a
// frame becomes, received frames (one slot, chains, extra-info), every kind of hostile response
// (each either drops the frame and counts it or closes the device, and never crashes the
// guest), a backend restart, and an orderly close.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import {
  NETIF_RSP_ERROR, NETIF_RSP_NULL, NETIF_RSP_OKAY, NETIF_XS, NETRXF_csum_blank, NETRXF_data_validated, NETRXF_extra_info,
  NETRXF_more_data, NETTXF_csum_blank, NETTXF_extra_info, NETTXF_more_data, XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_GSO_TYPE_TCPV4,
  XEN_NETIF_GSO_TYPE_TCPV6, NET_FRAME_PLAIN, NETIF_RX_SLOT_SIZE, NETIF_TX_SLOT_SIZE, decodeNetifRxRequest, decodeNetifTxRequest,
  encodeNetifRxResponse, type NetFrameInfo,
} from '../../../../../src/abi/netif.js';
import { XenbusState } from '../../../../../src/abi/xenbus.js';
import { BackendMisbehaved, Disconnected, InvalidLength, TxError, Unimplemented } from '../../../../../src/drivers/net/front/errors.js';
import { NetFront } from '../../../../../src/drivers/net/front/netfront.js';
import { RX_PUSH_BUDGET } from '../../../../../src/drivers/net/front/datapath.js';
import { CB_TOT_PAGES } from '../../../../../src/hypervisor/layout.js';
import { switchState } from '../../../../../src/drivers/xenbus.js';
import { TxArena } from '../../../../../src/drivers/net/front/arena.js';
import { NetPages } from '../../../../../src/drivers/net/front/pages.js';
import { TxQueue, type TxFrame } from '../../../../../src/drivers/net/front/tx.js';
import { RxQueue } from '../../../../../src/drivers/net/front/rx.js';
import { BackRing } from '../../../../../src/abi/ring.js';
import { PAGE_SIZE } from '../../../../../src/abi/xen.js';
import { NETBACK_OFFER, NetRig, testFrame, within, type RawNetback } from '../../../../support/net-rawback.js';

async function until(cond: () => boolean, what: string): Promise<void> {
  await within((async () => {
    while (!cond()) await new Promise((r) => setTimeout(r, 1));
  })(), what);
}

async function connected(t: TestContext, offer = NETBACK_OFFER, queues = 1) {
  const rig = new NetRig();
  t.after(() => rig.close());
  const g = rig.guest();
  const back = await rig.backend(g, 0, offer);
  const f = await rig.connect(g, back, { queues });
  const got: { frame: Uint8Array; info: NetFrameInfo }[] = [];
  f.listen((frame, info) => got.push({ frame: frame.slice(), info }));
  await until(() => back.rxPosted() === 256, 'the rx buffers');
  return { rig, g, back, f, got };
}

/** The device is closed with BackendMisbehaved: a pending write fails and later ones too. */
async function assertBroken(f: NetFront, pending?: Promise<void>): Promise<void> {
  if (pending) await assert.rejects(within(pending, 'the pending write'), BackendMisbehaved);
  await until(() => f.status === 'closed', 'the device to close');
  await assert.rejects(f.write(testFrame(60)), Disconnected);
}

test('the handshake: rings, split event channels, rx-copy and the offloads, as Linux netfront writes them', async (t) => {
  const { rig, f } = await connected(t);
  const fe = f.dir;
  const r = (k: string) => rig.xs0.read(`${fe}/${k}`);
  assert.match(await r(NETIF_XS.txRingRef), /^[0-9]+$/);
  assert.match(await r(NETIF_XS.rxRingRef), /^[0-9]+$/);
  assert.match(await r(NETIF_XS.eventChannelTx), /^[0-9]+$/);
  assert.match(await r(NETIF_XS.eventChannelRx), /^[0-9]+$/);
  assert.equal(await rig.xs0.exists(`${fe}/${NETIF_XS.eventChannel}`), false);
  for (const k of [NETIF_XS.requestRxCopy, NETIF_XS.featureRxNotify, NETIF_XS.featureSg, NETIF_XS.featureGsoTcpv4, NETIF_XS.featureGsoTcpv6, NETIF_XS.featureIpv6CsumOffload]) {
    assert.equal(await r(k), '1', k);
  }
  assert.equal(await r(NETIF_XS.featureNoCsumOffload), '0');
  assert.equal(await r('state'), String(XenbusState.Connected));
  assert.deepEqual({ ...f.offloads }, { csum: true, gsoTcpv4: true, gsoTcpv6: true });
  assert.equal(f.mac, '00:16:3e:00:00:01');
  assert.equal(f.mtu, 1500);
});

test('a held vif (an incoming migration\'s parked runtime) touches no RAM and writes nothing until it proceeds; then it connects', async (t) => {
  const rig = new NetRig();
  t.after(() => rig.close());
  const g = rig.guest();
  const back = await rig.backend(g, 0);
  const frames = () => Atomics.load(g.hc.memory.ctl, CB_TOT_PAGES);
  const before = frames();
  const f = await within(NetFront.hold(g.ctx, g.domid, 0), 'the hold');
  await new Promise((r) => setTimeout(r, 20)); // the backend's state reaches the held lifecycle
  assert.equal(frames(), before, 'no RAM frame populated');
  assert.equal(f.status, 'connecting');
  assert.equal(await rig.xs0.read(`${f.dir}/state`), String(XenbusState.Initialising));
  assert.equal(await rig.xs0.exists(`${f.dir}/${NETIF_XS.txRingRef}`), false);
  const connecting = f.proceed();
  await within(back.attach(), 'the frontend to write its rings');
  await within(connecting, 'netfront to connect');
  assert.equal(f.status, 'connected');
  assert.ok(frames() > before, 'its rings and buffers are RAM frames');
  const sent = f.write(testFrame(60));
  await back.txPublished(1);
  back.respondTx(back.takeTx().id, NETIF_RSP_OKAY);
  back.pushTx();
  await within(sent, 'the frame to be answered');
});

test('a held vif whose backend goes while it is held: proceed fails with Disconnected and nothing is written', async (t) => {
  const rig = new NetRig();
  t.after(() => rig.close());
  const g = rig.guest();
  const back = await rig.backend(g, 0);
  const f = await within(NetFront.hold(g.ctx, g.domid, 0), 'the hold');
  await rig.xs0.rm(back.be);
  await until(() => f.status === 'closed', 'the held device to close');
  await assert.rejects(within(f.proceed(), 'proceed'), Disconnected);
  assert.equal(await rig.xs0.exists(`${f.dir}/${NETIF_XS.txRingRef}`), false);
});

test('a suspend\'s quiesce stops posting at once, without waiting for frames in flight; release posts what waited', async (t) => {
  const { back, f } = await connected(t);
  const first = f.write(testFrame(60));
  await back.txPublished(1);
  await within(f.quiesce(), 'the quiesce, with a frame in flight');
  const second = f.write(testFrame(61));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal((back.tx.reqProd - back.tx.reqCons) >>> 0, 1, 'nothing new posted while quiesced');
  f.release();
  await back.txPublished(2);
  for (let i = 0; i < 2; i++) back.respondTx(back.takeTx().id, NETIF_RSP_OKAY);
  back.pushTx();
  await within(Promise.all([first, second]), 'both frames answered');
});

test('one event channel without split channels; queue-N keys with two queues', async (t) => {
  const offer = { ...NETBACK_OFFER, [NETIF_XS.featureSplitEventChannels]: 0, [NETIF_XS.featureGsoTcpv6]: 0 };
  const { rig, f } = await connected(t, offer, 2);
  const fe = f.dir;
  assert.equal(await rig.xs0.read(`${fe}/${NETIF_XS.multiQueueNumQueues}`), '2');
  for (const q of ['queue-0', 'queue-1']) {
    assert.match(await rig.xs0.read(`${fe}/${q}/${NETIF_XS.eventChannel}`), /^[0-9]+$/);
    assert.match(await rig.xs0.read(`${fe}/${q}/${NETIF_XS.txRingRef}`), /^[0-9]+$/);
  }
  assert.equal(await rig.xs0.exists(`${fe}/${NETIF_XS.txRingRef}`), false);
  assert.deepEqual(f.negotiated, { queues: 2, split: false });
  assert.equal(f.offloads.gsoTcpv6, false);
  await assert.rejects(f.write(testFrame(2000), { csumBlank: true, dataValidated: false, gso: { type: XEN_NETIF_GSO_TYPE_TCPV6, size: 1400 } }), Unimplemented);
});

test('a backend without feature-rx-copy is refused', async (t) => {
  const rig = new NetRig();
  t.after(() => rig.close());
  const g = rig.guest();
  await rig.backend(g, 0, { ...NETBACK_OFFER, [NETIF_XS.featureRxCopy]: 0 });
  const { NetFront } = await import('../../../../../src/drivers/net/front/netfront.js');
  await assert.rejects(within(NetFront.connect(g.ctx, g.domid, 0), 'connect'), Disconnected);
});

test('a small frame is one slot with the checksum flags; the write resolves on the response', async (t) => {
  const { back, f } = await connected(t);
  const frame = testFrame(60, 3);
  const w = f.write(frame, { csumBlank: true, dataValidated: true });
  await back.txPublished(1);
  const req = back.takeTx();
  assert.equal(req.size, 60);
  assert.equal(req.offset, 0);
  assert.equal(req.flags, NETTXF_csum_blank | 2);
  assert.deepEqual(back.txData(req), frame);
  back.respondTx(req.id, NETIF_RSP_OKAY);
  back.pushTx();
  await within(w, 'the write');
  assert.equal(f.stats().txPackets, 1);
  assert.equal(f.stats().txBytes, 60);
});

test('small frames past a ring\'s worth: every slot in flight has a page of its own holding its frame, and pages answered are reused for the next frames', async (t) => {
  const { back, f } = await connected(t);
  const frames = Array.from({ length: 600 }, (_, i) => testFrame(60 + (i % 5), i));
  const w = f.write(frames);
  const seen = new Map<number, number>();
  let k = 0;
  while (k < frames.length) {
    const n = Math.min(256, frames.length - k);
    await back.txPublished(n);
    const reqs = Array.from({ length: n }, () => back.takeTx());
    const inFlight = new Set(reqs.map((r) => r.gref));
    assert.equal(inFlight.size, n, 'no two frames in flight share a page');
    for (const r of reqs) {
      assert.deepEqual(back.txData(r), frames[k++], `frame ${k - 1}`);
      seen.set(r.gref, (seen.get(r.gref) ?? 0) + 1);
    }
    // Answered last first: the pages come back out of the order they were taken.
    for (const r of reqs.reverse()) back.respondTx(r.id, NETIF_RSP_OKAY);
    back.pushTx();
  }
  await within(w, 'the write');
  assert.ok([...seen.values()].some((c) => c > 1), 'pages answered were used again');
  assert.equal(f.stats().txPackets, frames.length);
});

test('a GSO super-frame: the first slot has the whole size, then the GSO extra-info, then a more_data chain', async (t) => {
  const { back, f } = await connected(t);
  const frame = testFrame(9000, 5);
  const w = f.write(frame, { csumBlank: true, dataValidated: false, gso: { type: XEN_NETIF_GSO_TYPE_TCPV4, size: 1448 } });
  await back.txPublished(4);
  const first = back.takeTx();
  assert.equal(first.size, 9000);
  assert.equal(first.flags, NETTXF_csum_blank | NETTXF_more_data | NETTXF_extra_info);
  const extra = back.takeTxExtra();
  assert.equal(extra.kind, 'gso');
  assert.deepEqual(extra.kind === 'gso' && [extra.type, extra.size, extra.gsoType, extra.flags], [XEN_NETIF_EXTRA_TYPE_GSO, 1448, XEN_NETIF_GSO_TYPE_TCPV4, 0]);
  const second = back.takeTx();
  const third = back.takeTx();
  assert.deepEqual([second.size, second.flags, third.size, third.flags], [4096, NETTXF_more_data, 9000 - 8192, 0]);
  const data = new Uint8Array(9000);
  data.set(back.txData({ ...first, size: 4096 }), 0);
  data.set(back.txData(second), 4096);
  data.set(back.txData(third), 8192);
  assert.deepEqual(data, frame);
  back.respondTx(first.id, NETIF_RSP_OKAY);
  back.respondTx(0xffff, NETIF_RSP_NULL);
  back.respondTx(second.id, NETIF_RSP_OKAY);
  back.respondTx(third.id, NETIF_RSP_OKAY);
  back.pushTx();
  await within(w, 'the write');
});

test('a frame of several pages is copied into pages that follow one another in RAM where the arena has such a run, else page by page; its slots hold it either way', async (t) => {
  const rig = new NetRig();
  t.after(() => rig.close());
  const g = rig.guest();
  const ring = new Uint8Array(new SharedArrayBuffer(PAGE_SIZE));
  const arena = new TxArena(new NetPages(g.hc, 0, true), 32);
  const q = new TxQueue(ring, arena);
  const back = new BackRing(ring, NETIF_TX_SLOT_SIZE);
  const gso: NetFrameInfo = { csumBlank: true, dataValidated: false, gso: { type: XEN_NETIF_GSO_TYPE_TCPV4, size: 1448 } };
  const pages = Math.ceil(64000 / PAGE_SIZE);
  // The arena's one block (its bound) with every other page taken: 16 free, no run of 16.
  const singles = Array.from({ length: 32 }, () => arena.allocAny(1)!);
  for (const [i, r] of singles.entries()) if (i % 2) arena.free(r);
  const post = (data: Uint8Array): TxFrame => {
    const f: TxFrame = { data, info: gso, run: undefined, left: 0, status: NETIF_RSP_OKAY, settle: () => {} };
    assert.ok(q.post(f));
    return f;
  };
  /** The next frame on the ring: whether its data slots are consecutive frames of RAM; its bytes checked. */
  const take = (data: Uint8Array, what: string): boolean => {
    q.flush();
    const pfns: number[] = [];
    const got = new Uint8Array(data.length);
    for (let k = 0, at = 0; k < pages + 1; k++) {
      const slot = new Uint8Array(NETIF_TX_SLOT_SIZE);
      back.copyRequest(back.reqCons, slot);
      back.reqCons++;
      if (k === 1) continue; // the GSO extra
      const req = decodeNetifTxRequest(new DataView(slot.buffer), 0);
      const m = rig.h.dom0.grantMap(g.domid, req.gref, true);
      pfns.push(m.page.byteOffset / PAGE_SIZE);
      const len = k === 0 ? PAGE_SIZE : req.size;
      got.set(m.page.subarray(req.offset, req.offset + len), at);
      at += len;
      rig.h.dom0.grantUnmap(m.handle);
    }
    assert.deepEqual(got, data, what);
    return pfns.every((p, k) => p === pfns[0]! + k);
  };
  const frames = [testFrame(64000, 1), testFrame(64000, 2)];
  const first = post(frames[0]!);
  assert.equal(take(frames[0]!, 'the first frame'), false, 'page by page, into the holes');
  // The first answered, and the second half of the block freed: from the cursor (the block's
  // start) the free pages are eight holes, then a run of 16, which the second frame goes into.
  arena.free(first.run!);
  for (const [i, r] of singles.entries()) if (!(i % 2) && i >= 16) arena.free(r);
  post(frames[1]!);
  assert.equal(take(frames[1]!, 'the second frame'), true, 'one run of consecutive frames');
});

test('frames of bad length are refused before the ring; NETIF_RSP_ERROR rejects with TxError', async (t) => {
  const { back, f } = await connected(t);
  await assert.rejects(f.write(new Uint8Array(0)), InvalidLength);
  await assert.rejects(f.write(new Uint8Array(13)), InvalidLength);
  await assert.rejects(f.write(new Uint8Array(1500 + 14 + 4 + 1)), InvalidLength);
  await assert.rejects(f.write(new Uint8Array(70000), { csumBlank: true, dataValidated: false, gso: { type: XEN_NETIF_GSO_TYPE_TCPV4, size: 1448 } }), InvalidLength);
  await f.write([]);
  const w = f.write(testFrame(100));
  await back.txPublished(1);
  const req = back.takeTx();
  back.respondTx(req.id, NETIF_RSP_ERROR);
  back.pushTx();
  await assert.rejects(within(w, 'the write'), TxError);
  assert.equal(f.stats().txErrors, 5);
  assert.equal(f.status, 'connected');
});

test('received frames: one slot, a more_data chain reassembled, checksum flags and a GSO extra-info', async (t) => {
  const { back, f, got } = await connected(t);
  const small = testFrame(64, 1);
  const big = testFrame(10000, 2);
  back.sendFrame(small, NETRXF_data_validated);
  // The GSO frame: first slot, its extra-info, then the rest of the chain.
  const r0 = back.takeRx();
  back.fillRx(r0, 0, big.subarray(0, 4096));
  back.respondRx({ id: r0.id, offset: 0, flags: NETRXF_more_data | NETRXF_extra_info | NETRXF_csum_blank, status: 4096 });
  back.rxExtra({ kind: 'gso', type: XEN_NETIF_EXTRA_TYPE_GSO, flags: 0, size: 1448, gsoType: XEN_NETIF_GSO_TYPE_TCPV4, features: 0 });
  const r1 = back.takeRx();
  back.fillRx(r1, 100, big.subarray(4096, 8092));
  back.respondRx({ id: r1.id, offset: 100, flags: NETRXF_more_data, status: 3996 });
  const r2 = back.takeRx();
  back.fillRx(r2, 0, big.subarray(8092));
  back.respondRx({ id: r2.id, offset: 0, flags: 0, status: 10000 - 8092 });
  back.pushRx();
  await until(() => got.length === 2, 'two frames');
  assert.deepEqual(got[0]!.frame, small);
  assert.deepEqual({ ...got[0]!.info }, { csumBlank: false, dataValidated: true });
  assert.deepEqual(got[1]!.frame, big);
  // A chain with a slot at an offset is reassembled in memory of its own, which the receiver may keep (owned).
  assert.deepEqual({ ...got[1]!.info }, { csumBlank: true, dataValidated: false, gso: { type: XEN_NETIF_GSO_TYPE_TCPV4, size: 1448 }, owned: true });
  await until(() => back.rxPosted() === 256, 'the buffers posted again');
  assert.deepEqual([f.stats().rxPackets, f.stats().rxBytes, f.stats().rxErrors], [2, 10064, 0]);
});

test('a chain whose buffers lie end to end in RAM is handed as one view of them, with no copy: whole pages, or the first slot moved before the chain into its GSO extra\'s buffer', async (t) => {
  const { back, f } = await connected(t);
  const seen: { frame: Uint8Array; copy: Uint8Array; info: NetFrameInfo }[] = [];
  f.listen((frame, info) => seen.push({ frame, copy: frame.slice(), info }));
  // Whole pages from the first slot on (netback fills every buffer to the page's end).
  const plain = testFrame(10000, 1);
  back.sendFrame(plain);
  // A GSO super-frame: a first slot of 1000 bytes, its extra-info, then whole pages.
  const gso = testFrame(1000 + 3 * 4096 + 500, 2);
  const r0 = back.takeRx();
  back.fillRx(r0, 0, gso.subarray(0, 1000));
  back.respondRx({ id: r0.id, offset: 0, flags: NETRXF_more_data | NETRXF_extra_info, status: 1000 });
  back.rxExtra({ kind: 'gso', type: XEN_NETIF_EXTRA_TYPE_GSO, flags: 0, size: 1448, gsoType: XEN_NETIF_GSO_TYPE_TCPV4, features: 0 });
  for (let at = 1000; at < gso.length; at += 4096) {
    const r = back.takeRx();
    const part = gso.subarray(at, at + 4096);
    back.fillRx(r, 0, part);
    back.respondRx({ id: r.id, offset: 0, flags: at + 4096 < gso.length ? NETRXF_more_data : 0, status: part.length });
  }
  back.pushRx();
  await until(() => seen.length === 2, 'two frames');
  for (const [k, want] of [plain, gso].entries()) {
    const got = seen[k]!;
    assert.deepEqual(got.copy, want);
    assert.ok(got.frame.buffer instanceof SharedArrayBuffer, 'a view of the guest\'s RAM');
    assert.equal(got.info.owned, undefined, 'valid during the call only');
  }
  assert.deepEqual(seen[1]!.info.gso, { type: XEN_NETIF_GSO_TYPE_TCPV4, size: 1448 });
  await until(() => back.rxPosted() === 256, 'the buffers posted again');
  assert.deepEqual([f.stats().rxPackets, f.stats().rxErrors], [2, 0]);
});

test('a chain laid out otherwise (a slot at an offset, a short slot inside) is reassembled into memory of its own that stays valid; one across the ring\'s end into a buffer valid during the call', async (t) => {
  const { back, f } = await connected(t);
  const kept: { frame: Uint8Array; copy: Uint8Array; info: NetFrameInfo }[] = [];
  f.listen((frame, info) => kept.push({ frame, copy: frame.slice(), info }));
  /** A chain of the given slot lengths, each at its offset. */
  const send = (frame: Uint8Array, slots: readonly { offset: number; len: number }[]) => {
    let at = 0;
    for (const [k, { offset, len }] of slots.entries()) {
      const r = back.takeRx();
      back.fillRx(r, offset, frame.subarray(at, at + len));
      back.respondRx({ id: r.id, offset, flags: k < slots.length - 1 ? NETRXF_more_data : 0, status: len });
      at += len;
    }
  };
  const atOffset = testFrame(4096 + 3000, 3);
  send(atOffset, [{ offset: 0, len: 4096 }, { offset: 100, len: 3000 }]);
  const shortInside = testFrame(4096 + 2000 + 4096, 4);
  send(shortInside, [{ offset: 0, len: 4096 }, { offset: 0, len: 2000 }, { offset: 0, len: 4096 }]);
  back.pushRx();
  await until(() => kept.length === 2, 'two frames');
  // Across the ring's end: one-slot frames up to its last two buffers (five are used), then a chain of three from there.
  const wrap = testFrame(3 * 4096, 5);
  const fill = 256 - 2 - 5;
  for (let i = 0; i < fill; i++) back.sendFrame(testFrame(64, 6));
  back.pushRx();
  await until(() => kept.length === 2 + fill && back.rxPosted() === 256, 'the one-slot frames, and the buffers posted again');
  back.sendFrame(wrap);
  back.pushRx();
  await until(() => kept.length === 2 + fill + 1, 'the chain across the ring\'s end');
  const chains = [kept[0]!, kept[1]!];
  const across = kept.at(-1)!;
  for (const c of chains) assert.equal(c.info.owned, true);
  assert.equal(across.info.owned, undefined, 'valid during the call only');
  assert.deepEqual(across.copy, wrap);
  // The same buffers carry other bytes now, and more chains cross the ring's end: the kept frames do not change.
  for (let i = 0; i < 100; i++) back.sendFrame(testFrame(6000, 7));
  back.pushRx();
  await until(() => kept.length === 2 + fill + 1 + 100 && back.rxPosted() === 256, 'the frames, and the buffers posted again');
  assert.deepEqual(chains.map((c) => c.frame), [atOffset, shortInside]);
  for (const k of kept.slice(-100)) assert.deepEqual(k.copy, testFrame(6000, 7));
  assert.equal(f.stats().rxErrors, 0);
});

test('hostile rx slots that cost only the frame: past the page, an error status, too long a chain, a bad GSO extra', async (t) => {
  const { back, f, got } = await connected(t);
  // offset + size past the page
  const r = back.takeRx();
  back.respondRx({ id: r.id, offset: 4000, flags: 0, status: 200 });
  // an error status
  const e = back.takeRx();
  back.respondRx({ id: e.id, offset: 0, flags: 0, status: NETIF_RSP_ERROR });
  // a chain of 19 slots
  for (let i = 0; i < 19; i++) {
    const q = back.takeRx();
    back.respondRx({ id: q.id, offset: 0, flags: i < 18 ? NETRXF_more_data : 0, status: 100 });
  }
  // a GSO extra of an unknown type
  const g0 = back.takeRx();
  back.respondRx({ id: g0.id, offset: 0, flags: NETRXF_extra_info, status: 100 });
  back.rxExtra({ kind: 'gso', type: XEN_NETIF_EXTRA_TYPE_GSO, flags: 0, size: 1448, gsoType: 9, features: 0 });
  // a zero-length frame
  const z = back.takeRx();
  back.respondRx({ id: z.id, offset: 0, flags: 0, status: 0 });
  // and a good frame after them all
  const ok = testFrame(80, 9);
  back.sendFrame(ok);
  back.pushRx();
  await until(() => got.length === 1, 'the good frame');
  assert.deepEqual(got[0]!.frame, ok);
  assert.equal(f.stats().rxErrors, 5);
  assert.equal(f.status, 'connected');
});

test('a more_data chain over every posted buffer that never ends is dropped, and the ring goes on', async (t) => {
  const { back, f, got } = await connected(t);
  for (let i = 0; i < 256; i++) {
    const q = back.takeRx();
    back.respondRx({ id: q.id, offset: 0, flags: NETRXF_more_data, status: 10 });
  }
  back.pushRx();
  await until(() => f.stats().rxErrors === 1 && back.rxPosted() === 256, 'the chain dropped and the buffers posted again');
  back.sendFrame(testFrame(60));
  back.pushRx();
  await until(() => got.length === 1, 'a frame after it');
});

test('a chain published in part is left until its next slot: poll() asks for the event past rsp_prod instead of answering "more" (which spun)', (t) => {
  const rig = new NetRig();
  t.after(() => rig.close());
  const g = rig.guest();
  const ringBytes = new Uint8Array(new SharedArrayBuffer(PAGE_SIZE));
  const got: Uint8Array[] = [];
  const rx = new RxQueue(ringBytes, new NetPages(g.hc, 0, false), { frame: (f) => got.push(f.slice()), error: (why) => assert.fail(why) });
  rx.refill();
  const back = new BackRing(ringBytes, NETIF_RX_SLOT_SIZE);
  const frame = testFrame(PAGE_SIZE + 100, 3);
  const answer = (k: number) => {
    const slot = new Uint8Array(NETIF_RX_SLOT_SIZE);
    back.copyRequest(back.reqCons, slot);
    back.reqCons++;
    const req = decodeNetifRxRequest(new DataView(slot.buffer), 0);
    const part = frame.subarray(k * PAGE_SIZE, (k + 1) * PAGE_SIZE);
    const m = rig.h.dom0.grantMap(g.domid, req.gref, false);
    m.page.set(part);
    rig.h.dom0.grantUnmap(m.handle);
    encodeNetifRxResponse(back.view, back.slotOffset(back.rspProdPvt), { id: req.id, offset: 0, flags: k === 0 ? NETRXF_more_data : 0, status: part.length });
    back.rspProdPvt++;
    return back.pushResponsesAndCheckNotify();
  };
  answer(0);
  assert.equal(rx.poll(), false, 'nothing more to take until the chain goes on');
  assert.equal(rx.ring.rspCons, 0, 'the first slot is not consumed alone');
  assert.equal(rx.ring.rspEvent, 2, 'woken by the response after the one published');
  assert.equal(got.length, 0);
  assert.equal(answer(1), true, 'the chain\'s next slot sends the event');
  assert.equal(rx.poll(), false);
  assert.equal(got.length, 1);
  assert.deepEqual(got[0], frame);
  assert.equal(rx.ring.rspEvent, 3);
});

test('hostile rx responses that break the device: an id not posted there, responses for buffers never posted', async (t) => {
  await t.test('an id that is not the one posted at that index', async (t) => {
    const { back, f } = await connected(t);
    const q = back.takeRx();
    back.respondRx({ id: (q.id + 1) & 0xff, offset: 0, flags: 0, status: 60 });
    back.pushRx();
    await assertBroken(f);
  });
  await t.test('rsp_prod beyond the buffers posted', async (t) => {
    const { back, f } = await connected(t);
    back.rx.rspProdPvt = back.rx.rspProdPvt + 257;
    back.pushRx();
    await assertBroken(f);
  });
  await t.test('a status below NETIF_RSP_DROPPED', async (t) => {
    const { back, f } = await connected(t);
    const q = back.takeRx();
    back.respondRx({ id: q.id, offset: 0, flags: 0, status: -3 });
    back.pushRx();
    await assertBroken(f);
  });
});

test('hostile tx responses: an id not in flight, a status out of range, rsp_prod beyond the ring', async (t) => {
  for (const [what, answer] of [
    ['an id not in flight', (b: RawNetback, id: number) => b.respondTx((id + 1) & 0xff, NETIF_RSP_OKAY)],
    ['an id beyond the ring', (b: RawNetback) => b.respondTx(4000, NETIF_RSP_OKAY)],
    ['a status out of range', (b: RawNetback, id: number) => b.respondTx(id, 7)],
    ['rsp_prod beyond the ring', (b: RawNetback) => (b.tx.rspProdPvt = b.tx.rspProdPvt + 300)],
  ] as const) {
    await t.test(what, async (t) => {
      const { back, f } = await connected(t);
      const w = f.write(testFrame(60));
      await back.txPublished(1);
      const req = back.takeTx();
      answer(back, req.id);
      back.pushTx();
      await assertBroken(f, w);
      // The same id answered twice is not in flight the second time.
    });
  }
  await t.test('the same id answered twice', async (t) => {
    const { back, f } = await connected(t);
    const w = f.write(testFrame(60));
    await back.txPublished(1);
    const req = back.takeTx();
    back.respondTx(req.id, NETIF_RSP_OKAY);
    back.respondTx(req.id, NETIF_RSP_OKAY);
    back.pushTx();
    await within(w, 'the write');
    await until(() => f.status === 'closed', 'the device to close');
  });
});

test('hostile tx responses published without an event: a frame built in place that takes them closes the device, and is not queued on it', async (t) => {
  const { back, f } = await connected(t);
  const onRing = Math.floor(256 / 17);
  for (let i = 0; i < onRing; i++) assert.equal(f.writeInPlace(65_000, GSO_INFO, (frame) => frame.fill(i)), true);
  await back.txPublished(onRing * 17);
  back.respondTx(4000, NETIF_RSP_OKAY);
  back.tx.pushResponses();
  // The ring is full: the frame takes the answers first, and finds the backend broken.
  assert.equal(f.writeInPlace(65_000, GSO_INFO, (frame) => frame.fill(0xee)), true);
  assert.equal(f.status, 'closed');
  await assertBroken(f);
  assert.equal(f.writeInPlace(1400, NET_FRAME_PLAIN, () => assert.fail('filled on a closed device')), false);
});

/** The backend goes (Closed) and comes back (InitWait) with new rings: the frontend reconnects to the fresh one. */
async function restartBackend(rig: NetRig, g: ReturnType<NetRig['guest']>, back: RawNetback, f: NetFront): Promise<RawNetback> {
  back.detach();
  await switchState(rig.xs0, back.be, XenbusState.Closed);
  await until(() => f.status === 'reconnecting', 'the frontend to see the backend go');
  const fresh = new (back.constructor as typeof RawNetback)(rig, g, back.fe, back.be);
  await switchState(rig.xs0, back.be, XenbusState.InitWait);
  await within(fresh.attach(), 'the frontend to write new rings');
  return fresh;
}

test('a backend restart: the frame in flight is sent again on the new rings', async (t) => {
  const { rig, g, back, f } = await connected(t);
  const frame = testFrame(300, 4);
  const w = f.write(frame);
  await back.txPublished(1);
  const fresh = await restartBackend(rig, g, back, f);
  await fresh.txPublished(1);
  const req = fresh.takeTx();
  assert.deepEqual(fresh.txData(req), frame);
  fresh.respondTx(req.id, NETIF_RSP_OKAY);
  fresh.pushTx();
  await within(w, 'the write, sent again');
  await until(() => f.status === 'connected', 'connected again');
});

test('disconnect: Closing, then Closed once the backend closes; writes then fail with Disconnected', async (t) => {
  const { rig, back, f, g } = await connected(t);
  const free = g.hc.freeGrantRefs;
  const closing = f.disconnect();
  await rig.xs0.wait(`${f.dir}/state`, (v) => v === String(XenbusState.Closing));
  back.detach();
  await switchState(rig.xs0, back.be, XenbusState.Closed);
  await within(closing, 'disconnect');
  assert.equal(f.status, 'closed');
  assert.ok(g.hc.freeGrantRefs >= free + 256 + 2, 'the rings and rx buffers were revoked');
  await assert.rejects(f.write(testFrame(60)), Disconnected);
});

test('the device removed: pending writes fail with Disconnected', async (t) => {
  const { rig, back, f } = await connected(t);
  const w = f.write(testFrame(60));
  await back.txPublished(1);
  await rig.xs0.rm(back.be);
  await assert.rejects(within(w, 'the write'), Disconnected);
  assert.equal(f.status, 'closed');
});

const GSO_INFO: NetFrameInfo = { csumBlank: true, dataValidated: false, gso: { type: XEN_NETIF_GSO_TYPE_TCPV4, size: 1448 } };

/** Take a frame's data slots (and its GSO extra) off the ring: its bytes, and the requests. */
function takeFrame(back: RawNetback, gso: boolean): { data: Uint8Array; reqs: ReturnType<RawNetback['takeTx']>[] } {
  const first = back.takeTx();
  if (gso) back.takeTxExtra();
  const reqs = [first];
  while (reqs[reqs.length - 1]!.flags & NETTXF_more_data) reqs.push(back.takeTx());
  const data = new Uint8Array(first.size);
  let at = 0;
  for (const [k, r] of reqs.entries()) {
    const size = k === 0 && reqs.length > 1 ? 4096 : k === 0 ? first.size : r.size;
    data.set(back.txData({ ...r, size }), at);
    at += size;
  }
  return { data, reqs };
}

test('a frame built in place: fill writes it in the pages granted to the backend, and they go as its slots with no copy', async (t) => {
  const { back, f } = await connected(t);
  const want = testFrame(9000, 6);
  let filled: Uint8Array | undefined;
  assert.equal(f.writeInPlace(9000, GSO_INFO, (frame) => {
    filled = frame;
    frame.set(want);
  }), true);
  // The frame it filled is the guest's RAM (what the backend copies from), not a buffer of its own.
  assert.ok(filled instanceof Uint8Array && filled.length === 9000 && filled.buffer instanceof SharedArrayBuffer);
  await back.txPublished(4);
  const { data, reqs } = takeFrame(back, true);
  assert.deepEqual(data, want);
  assert.deepEqual(reqs.map((r) => r.flags & NETTXF_more_data), [NETTXF_more_data, NETTXF_more_data, 0]);
  // Written after the fill: the backend would have read the new bytes, so no copy was taken.
  filled![100] ^= 0xff;
  assert.equal(back.txData(reqs[0]!)[100], want[100]! ^ 0xff);
  for (const r of reqs) back.respondTx(r.id, NETIF_RSP_OKAY);
  back.respondTx(0xffff, NETIF_RSP_NULL);
  back.pushTx();
  await until(() => f.stats().txPackets === 1, 'the frame answered');
  assert.equal(f.stats().txBytes, 9000);
});

test('a frame built in place is published at once, not at the end of the turn, so the backend can start on it while the next is built', async (t) => {
  const { back, f } = await connected(t);
  const before = back.tx.reqProd;
  assert.equal(f.writeInPlace(9000, GSO_INFO, (frame) => frame.set(testFrame(9000, 1))), true);
  assert.equal((back.tx.reqProd - before) >>> 0, 4, 'its three data slots and its GSO extra on the shared ring');
  const { reqs } = takeFrame(back, true);
  for (const r of reqs) back.respondTx(r.id, NETIF_RSP_OKAY);
  back.respondTx(0xffff, NETIF_RSP_NULL);
  back.pushTx();
  await until(() => f.stats().txPackets === 1, 'the frame answered');
});

test('frames built in place wait in their pages while the ring has no room; refused (fill not called) behind a write() not yet posted, when the arena has none or the frame is bad', async (t) => {
  const { back, f } = await connected(t);
  const first = testFrame(200, 1);
  const w = f.write(first);
  // The write waits for this turn's pump with no pages yet: nothing is built behind it (it
  // would hold pages the write needs); the caller write()s it, in order.
  const second = testFrame(300, 2);
  assert.equal(f.writeInPlace(300, NET_FRAME_PLAIN, () => assert.fail('built behind a write')), false);
  const w2 = f.write(second);
  await back.txPublished(2);
  const a = takeFrame(back, false);
  const b = takeFrame(back, false);
  assert.deepEqual([a.data, b.data], [first, second]);
  // Bad frames are left to write(), which says why.
  assert.equal(f.writeInPlace(10, NET_FRAME_PLAIN, () => assert.fail('filled a runt')), false);
  assert.equal(f.writeInPlace(70_000, GSO_INFO, () => assert.fail('filled a giant')), false);
  // 64 KiB frames nobody answers: past a ring's worth (17 slots each) they wait in the arena's
  // pages, until it has no room; then they are refused.
  let placed = 0;
  while (f.writeInPlace(65_000, GSO_INFO, (frame) => frame.fill(placed)) && placed < 100) placed++;
  const onRing = Math.floor((256 - 2) / 17);
  assert.ok(placed > onRing && placed <= 512 / 16, `${placed} frames placed`);
  await back.txPublished(onRing * 17);
  const ids = [a.reqs[0]!.id, b.reqs[0]!.id];
  const answer = (n: number, from: number) => {
    for (let i = from; i < from + n; i++) {
      const { data, reqs } = takeFrame(back, true);
      assert.equal(data[64_999], i, `frame ${i} in order, its bytes as built`);
      ids.push(...reqs.map((r) => r.id));
    }
    for (const id of ids.splice(0)) back.respondTx(id, NETIF_RSP_OKAY);
    back.pushTx();
  };
  answer(onRing, 0);
  await within(Promise.all([w, w2]), 'the writes');
  // The answers made room: the frames that waited go, in order.
  for (let done = onRing; done < placed;) {
    const n = Math.min(onRing, placed - done);
    await back.txPublished(n * 17);
    answer(n, done);
    done += n;
  }
  await until(() => f.stats().txPackets === placed + 2, 'every frame answered');
  await until(() => f.writeInPlace(65_000, GSO_INFO, (frame) => frame.fill(7)), 'room again');
});

test('a write() waiting with no pages, then as many frames as the arena holds in the same turn: none is built in place behind it, and every frame goes once the backend answers (no stall)', async (t) => {
  const { back, f } = await connected(t);
  // A copy frame of 16 pages (ARP, a broadcast, or transmitWith's fallback): its pages are
  // taken when it is posted. Frames built in place behind it would have filled the arena first.
  const writes = [f.write(new Uint8Array(65_000), GSO_INFO)];
  const n = 40;
  for (let i = 1; i <= n; i++) {
    if (!f.writeInPlace(65_000, GSO_INFO, (frame) => frame.fill(i))) writes.push(f.write(new Uint8Array(65_000).fill(i), GSO_INFO));
  }
  for (let i = 0; i <= n; i++) {
    await back.txPublished(17);
    const { data, reqs } = takeFrame(back, true);
    assert.equal(data[64_999], i, `frame ${i} in order`);
    for (const r of reqs) back.respondTx(r.id, NETIF_RSP_OKAY);
    back.respondTx(0xffff, NETIF_RSP_NULL);
    back.pushTx();
  }
  await within(Promise.all(writes), 'every write');
  assert.equal(f.stats().txPackets, n + 1);
});

test('answers to frames built in place ask for no event (the next rx event takes them); a write that waits for its answer asks for one again', async (t) => {
  const { back, f } = await connected(t);
  const answer = (gso: boolean) => {
    for (const r of takeFrame(back, gso).reqs) back.respondTx(r.id, NETIF_RSP_OKAY);
  };
  // The first answer wakes the frontend (the ring starts with rsp_event 1); it then polls lazily.
  assert.equal(f.writeInPlace(9000, GSO_INFO, (frame) => frame.set(testFrame(9000, 1))), true);
  await back.txPublished(4);
  answer(true);
  back.respondTx(0xffff, NETIF_RSP_NULL);
  back.pushTx();
  await until(() => f.stats().txPackets === 1, 'the first frame answered');
  assert.equal(f.writeInPlace(1400, NET_FRAME_PLAIN, (frame) => frame.set(testFrame(1400, 2))), true);
  await back.txPublished(1);
  answer(false);
  assert.equal(back.tx.pushResponsesAndCheckNotify(), false, 'the answer to a frame built in place asks for no event');
  // An rx event (an ACK, say) takes the answers that came without one.
  back.sendFrame(testFrame(64, 3));
  back.pushRx();
  await until(() => f.stats().txPackets === 2, 'the answer taken with the rx event');
  // A write waits for its answer: that one asks for an event.
  const w = f.write(testFrame(200, 4));
  await back.txPublished(1);
  answer(false);
  assert.equal(back.tx.pushResponsesAndCheckNotify(), true, 'a waiting write\'s answer asks for an event');
  back.txPort.notify();
  await within(w, 'the write');
});

test('a frame built in place with the ring full of frames answered without an event: the answers are taken and it goes in place', async (t) => {
  const { back, f } = await connected(t);
  const placed = Math.floor(256 / 17);
  for (let i = 0; i < placed; i++) assert.equal(f.writeInPlace(65_000, GSO_INFO, (frame) => frame.fill(i)), true);
  await back.txPublished(placed * 17);
  for (let i = 0; i < placed; i++) for (const r of takeFrame(back, true).reqs) back.respondTx(r.id, NETIF_RSP_OKAY);
  back.respondTx(0xffff, NETIF_RSP_NULL);
  // Published with no event, as netback publishes answers the frontend did not ask to be woken for.
  back.tx.pushResponses();
  const before = back.tx.reqProd;
  assert.equal(f.writeInPlace(65_000, GSO_INFO, (frame) => frame.fill(0xee)), true);
  assert.equal((back.tx.reqProd - before) >>> 0, 17, 'room taken back from the answers: on the ring at once, not waiting');
  assert.equal(f.stats().txPackets, placed);
  await back.txPublished(17);
  assert.equal(takeFrame(back, true).data[64_999], 0xee);
});

test('a backend restart: a frame built in place and in flight is sent again, intact, on the new rings', async (t) => {
  const { rig, g, back, f } = await connected(t);
  const want = testFrame(1400, 9);
  assert.equal(f.writeInPlace(1400, NET_FRAME_PLAIN, (frame) => frame.set(want)), true);
  await back.txPublished(1);
  const fresh = await restartBackend(rig, g, back, f);
  await fresh.txPublished(1);
  const { data, reqs } = takeFrame(fresh, false);
  assert.deepEqual(data, want);
  for (const r of reqs) fresh.respondTx(r.id, NETIF_RSP_OKAY);
  fresh.pushTx();
  await until(() => f.stats().txPackets === 1, 'the frame answered');
});

test('a backend restart: frames built in place, on the ring and waiting behind it for room, are sent again, intact and in order, on the new rings', async (t) => {
  const { rig, g, back, f } = await connected(t);
  const n = Math.floor(256 / 17) + 2;
  for (let i = 0; i < n; i++) assert.equal(f.writeInPlace(65_000, GSO_INFO, (frame) => frame.fill(i)), true);
  await back.txPublished(Math.floor(256 / 17) * 17);
  const fresh = await restartBackend(rig, g, back, f);
  for (let i = 0; i < n; i++) {
    await fresh.txPublished(17);
    const { data, reqs } = takeFrame(fresh, true);
    assert.equal(data.length, 65_000);
    assert.ok(data.every((x) => x === i), `frame ${i} intact, in order`);
    for (const r of reqs) fresh.respondTx(r.id, NETIF_RSP_OKAY);
    fresh.respondTx(0xffff, NETIF_RSP_NULL);
    fresh.pushTx();
  }
  await until(() => f.stats().txPackets === n, 'every frame answered');
});

test('a backend that keeps delivering does not hold back the frames sent in answer: each batch received is followed by what it made go out', async (t) => {
  const { back, f } = await connected(t);
  const FRAMES = 8;
  let k = 0;
  /** Per frame received: the tx requests the backend could see when it was handled. */
  const published: number[] = [];
  f.listen(() => {
    published.push((back.tx.reqProd - back.tx.reqCons) >>> 0);
    // Answered at once (as a TCP/IP stack's ACK), built in place.
    assert.equal(f.writeInPlace(60, NET_FRAME_PLAIN, (b) => b.set(testFrame(60, k))), true);
    // Meanwhile the backend (a thread of its own in a host) delivers the next frame.
    if (++k < FRAMES) {
      back.sendFrame(testFrame(64, k));
      back.pushRx();
    }
  });
  back.sendFrame(testFrame(64, 0));
  back.pushRx();
  await until(() => k === FRAMES, 'every frame');
  assert.deepEqual(published, Array.from({ length: FRAMES }, (_, i) => i), 'the answers to the frames before each were published');
  await back.txPublished(FRAMES);
});

test('a long rx batch: what its first frames made the stack send goes out, and a backend asleep is told, before the rest are handed up (RX_PUSH_BUDGET)', async (t) => {
  const { back, f, g, rig } = await connected(t);
  const FRAMES = 3 * RX_PUSH_BUDGET;
  const txPort = Number(await rig.xs0.read(`${back.fe}/${NETIF_XS.eventChannelTx}`));
  // Per notify of the tx channel: the frames handed up by then.
  const notified: number[] = [];
  let handed = 0;
  const send = g.hc.evtchnSend.bind(g.hc);
  g.hc.evtchnSend = (port: number) => {
    if (port === txPort) notified.push(handed);
    send(port);
  };
  t.after(() => {
    g.hc.evtchnSend = send;
  });
  f.listen(() => {
    // A backend that keeps up and then sleeps: it takes what was published and asks to be woken by the next.
    back.tx.reqCons = back.tx.reqProd;
    assert.equal(back.tx.finalCheckForRequests(), false);
    handed++;
    assert.equal(f.writeInPlace(60, NET_FRAME_PLAIN, (b) => b.set(testFrame(60, handed))), true);
  });
  for (let k = 0; k < FRAMES; k++) back.sendFrame(testFrame(64, k));
  back.pushRx();
  await until(() => handed === FRAMES, 'every frame');
  // Each came right after a budget's frames; without the budget, one came after all of them.
  assert.deepEqual(notified, [1, 2, 3].map((n) => n * RX_PUSH_BUDGET));
});

test('frames delivered while nothing listens wait in the ring and reach the first listener, in order, none dropped (a migrated guest\'s vif is delivered to before its stack listens)', async (t) => {
  const rig = new NetRig();
  t.after(() => rig.close());
  const g = rig.guest();
  const back = await rig.backend(g, 0, NETBACK_OFFER);
  const f = await rig.connect(g, back, { queues: 1 });
  await until(() => back.rxPosted() === 256, 'the rx buffers');
  const early = [testFrame(64, 1), testFrame(100, 2), testFrame(1500, 3)];
  for (const frame of early) back.sendFrame(frame);
  back.pushRx();
  // Turns of the event loop in which the frontend handles the event (it took and dropped them before).
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  assert.equal(f.stats().rxDropped, 0);
  const got: Uint8Array[] = [];
  f.listen((frame) => got.push(frame.slice()));
  await until(() => got.length === early.length, 'the frames that waited');
  assert.deepEqual(got, early);
  await until(() => back.rxPosted() === 256, 'their buffers posted again');
  assert.deepEqual([f.stats().rxPackets, f.stats().rxDropped], [3, 0]);
});
