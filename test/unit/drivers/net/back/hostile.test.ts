// A hostile frontend against netback (DESIGN.md §5, issue 12's "Bad input"): each bad packet
// gets NETIF_RSP_ERROR (the ring goes on), a dropped frame, or a disabled vif, as Linux
// xen-netback decides; through it all dom0's side and another guest's vif keep forwarding.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test, type TestContext } from 'node:test';
import { Worker } from 'node:worker_threads';
import {
  NETIF_RSP_ERROR, NETIF_RSP_NULL, NETIF_RSP_OKAY, NETTXF_extra_info, NETTXF_more_data, NET_FRAME_PLAIN,
  XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, XEN_NETIF_CTRL_HASH_TYPE_IPV4, XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW,
  XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, XEN_NETIF_CTRL_STATUS_SUCCESS, XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE,
  XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY,
  XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, XEN_NETIF_EXTRA_TYPE_GSO,
  XEN_NETIF_GSO_TYPE_TCPV4, type NetifExtraInfo,
} from '../../../../../src/abi/netif.js';
import { PAGE_SIZE } from '../../../../../src/abi/xen.js';
import type { NetBack, NetbackOptions } from '../../../../../src/drivers/net/back/netback.js';
import { HELD_MIN_COST, RX_QUEUE_DEFAULTS } from '../../../../../src/drivers/net/back/rx.js';
import type { FlipJob } from '../../../../support/blk-flipper.js';
import { rng } from '../../../../support/random.js';
import { RawNetFront, frameOf, netRig, type TxSlot } from '../../../../support/net-back.js';

const GOOD_MAC = '00:16:3e:00:aa:00';

/** An evil guest's vif and a good guest's, both connected; `stillForwards` checks the good path both ways. */
async function setup(t: TestContext, opts: Parameters<typeof RawNetFront.connect>[2] = {}, backOpts: NetbackOptions = {}) {
  const rig = netRig(t, backOpts);
  const evilG = rig.guest();
  const goodG = rig.guest();
  const evilBe = await rig.vif(evilG);
  const goodBe = await rig.vif(goodG);
  const evil = await RawNetFront.connect(rig.xs0, evilG, opts);
  const good = await RawNetFront.connect(rig.xs0, goodG);
  let salt = 0;
  // Buffers the good guest reposts (its RAM would not hold a fresh page for every frame held for it).
  const pool: number[] = [];
  let next = 0;
  const stillForwards = async () => {
    // dom0's side into the good guest, behind whatever the hub's floods left held for it.
    const inbound = frameOf(200, '00:16:3e:00:00:01', GOOD_MAC, ++salt);
    rig.hub.inject(inbound, NET_FRAME_PLAIN);
    const rx = good.queues[0]!.rx;
    const arrived = () => good.received().some((r) => Buffer.compare(r.frame, inbound) === 0);
    for (let i = 0; i < 200 && !arrived(); i++) {
      if (pool.length === 0) for (let k = 0; k < 128; k++) pool.push(good.page(new Uint8Array(0), 0, false));
      if (((rx.reqProdPvt - rx.rspCons) >>> 0) <= 64) {
        good.postRx(32, 0, Array.from({ length: 32 }, () => pool[next++ % pool.length]!));
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(arrived(), 'the good guest receives');
    // ...and the good guest into the switch.
    const before = rig.hub.frames.length;
    const out = frameOf(300, GOOD_MAC, 'ff:ff:ff:ff:ff:ff', ++salt);
    good.send(out, { id: salt });
    const frames = await rig.hub.until(before + 1);
    assert.deepEqual(frames.at(-1)!.frame, out);
  };
  return { rig, evil, evilBe, good, goodBe, stillForwards };
}

/** Wait (by looking every few ms, up to 10 s) until `cond` holds. */
async function poll(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

async function disabled(be: NetBack, what: string): Promise<string> {
  await poll(() => be.disabled !== null, `${what}: the vif is disabled`);
  return be.disabled!;
}

const gso = (size: number, gsoType: number): NetifExtraInfo => ({ kind: 'gso', type: XEN_NETIF_EXTRA_TYPE_GSO, flags: 0, size, gsoType, features: 0 });

test('packets a frontend may get wrong are answered NETIF_RSP_ERROR and the ring goes on', async (t) => {
  const { evil, evilBe, rig, stillForwards } = await setup(t);
  const f = (len: number) => frameOf(len, '00:16:3e:00:01:00', 'ff:ff:ff:ff:ff:ff', len & 0xff);
  const cases: [string, TxSlot[], number[]][] = [
    ['a zero-length frame', [{ gref: evil.page(), offset: 0, flags: 0, id: 1, size: 0 }], [NETIF_RSP_ERROR]],
    ['a frame shorter than an Ethernet header', [{ gref: evil.page(f(60)), offset: 0, flags: 0, id: 2, size: 13 }], [NETIF_RSP_ERROR]],
    ['a slot never granted', [{ gref: 4000, offset: 0, flags: 0, id: 3, size: 60 }], [NETIF_RSP_ERROR]],
    ["a gref granted to another domain's ... no: one out of the table", [{ gref: 0xfffffff0, offset: 0, flags: 0, id: 4, size: 60 }], [NETIF_RSP_ERROR]],
    ['a chain slot carrying more than the first slot says is left', [
      { gref: evil.page(f(4096)), offset: 0, flags: NETTXF_more_data, id: 5, size: 3000 },
      { gref: evil.page(), offset: 0, flags: 0, id: 6, size: 4096 },
    ], [NETIF_RSP_ERROR, NETIF_RSP_ERROR]],
    ['a 64 KiB+ frame (17 full pages under a first slot of 65535)', evil.frameSlots(f(17 * 4096), { id: 300 }).map((x, i) => (i === 0 && !('extra' in x) ? { ...x, size: 0xffff } : x)), Array(17).fill(NETIF_RSP_ERROR)],
    [`a chain of 19 slots (past XEN_NETIF_NR_SLOTS_MIN)`, evil.frameSlots(f(19 * 100), { id: 100, chunk: 100 }), Array(19).fill(NETIF_RSP_ERROR)],
    ['a good frame after all that', evil.frameSlots(f(1514), { id: 200 }), [NETIF_RSP_OKAY]],
  ];
  let expected: number[] = [];
  for (const [what, slots, statuses] of cases) {
    evil.sendSlots(slots);
    expected = [...expected, ...statuses];
    await evil.until(() => evil.txResponses.length === expected.length, what);
    assert.deepEqual(evil.txResponses.map((r) => r.status), expected, what);
  }
  assert.equal(evilBe.disabled, null);
  assert.equal(evilBe.stats.rxErrors, cases.length - 1);
  assert.equal(rig.hub.frames.filter((x) => x.from === evilBe.name).length, 1);
  await stillForwards();
});

test('headers split over many tiny slots (XSA-423/432) arrive whole', async (t) => {
  const { evil, rig, stillForwards } = await setup(t);
  const frame = frameOf(72, '00:16:3e:00:01:00', 'ff:ff:ff:ff:ff:ff', 9, 0x0800);
  evil.send(frame, { chunk: 4 }); // 18 slots: the Ethernet and IP headers over 9 of them
  const [got] = await rig.hub.until(1);
  assert.deepEqual(got!.frame, frame);
  await evil.until(() => evil.txResponses.length === 18, 'responses');
  assert.ok(evil.txResponses.every((r) => r.status === NETIF_RSP_OKAY));
  await stillForwards();
});

const fatalCases: [string, (evil: RawNetFront) => TxSlot[] | 'req_prod' | 'loop'][] = [
  ['req_prod moved beyond the ring (XSA-39)', () => 'req_prod'],
  ['req_prod looped behind the consumer (XSA-39)', () => 'loop'],
  ['a chain slot crossing its page', (e) => [
    { gref: e.page(), offset: 0, flags: NETTXF_more_data, id: 1, size: 200 },
    { gref: e.page(), offset: 4000, flags: 0, id: 2, size: 100 },
  ]],
  ['a first slot crossing its page', (e) => [{ gref: e.page(), offset: 4090, flags: 0, id: 1, size: 60 }]],
  ['a chain of 21 slots (past fatal_skb_slots)', (e) => e.frameSlots(new Uint8Array(21 * 60).fill(1), { chunk: 60 })],
  ['a chain running past req_prod', (e) => [{ gref: e.page(), offset: 0, flags: NETTXF_more_data, id: 1, size: 200 }]],
  ['GSO with an MSS of 0', (e) => e.frameSlots(new Uint8Array(3000), { extras: [gso(0, XEN_NETIF_GSO_TYPE_TCPV4)] })],
  ['GSO of an unknown type', (e) => e.frameSlots(new Uint8Array(3000), { extras: [gso(1448, 7)] })],
  ['an extra-info of type 0', (e) => e.frameSlots(new Uint8Array(100), { extras: [{ kind: 'other', type: 0, flags: 0 }] })],
  ['an extra-info of a type past MAX', (e) => e.frameSlots(new Uint8Array(100), { extras: [{ kind: 'other', type: 200, flags: 0 }] })],
  ['extra-info flagged but missing', (e) => [{ gref: e.page(), offset: 0, flags: NETTXF_extra_info, id: 1, size: 60 }]],
];

for (const [what, build] of fatalCases) {
  test(`a frontend that sends ${what} is disabled; the others keep forwarding`, async (t) => {
    const { evil, evilBe, rig, stillForwards } = await setup(t);
    const slots = build(evil);
    const tx = evil.queues[0]!.tx;
    if (slots === 'req_prod' || slots === 'loop') {
      tx.reqProdPvt = slots === 'req_prod' ? tx.reqProdPvt + 1000 : tx.reqProdPvt - 1;
      tx.pushRequests();
      evil.queues[0]!.txPort.notify();
    } else {
      evil.sendSlots(slots);
    }
    await disabled(evilBe, what);
    assert.equal(evilBe.stats.fatal, 1);
    assert.equal(rig.hub.frames.filter((x) => x.from === evilBe.name).length, 0);
    // Frames for it are dropped, and it is off the switch.
    assert.equal(rig.hub.ports.has(evilBe.name), false);
    assert.equal(evilBe.deliver(frameOf(60, GOOD_MAC), NET_FRAME_PLAIN), false);
    await stillForwards();
  });
}

test('rx buffers the frontend did not grant get NETIF_RSP_ERROR; the next good buffer works', async (t) => {
  const { evil, evilBe, rig, stillForwards } = await setup(t);
  const ro = evil.page(new Uint8Array(0), 0, true);
  evil.postRx(3, 0, [4000, ro, 0xffffff00]);
  const frame = frameOf(100, '00:16:3e:00:00:01');
  for (let i = 0; i < 3; i++) rig.hub.inject(frame, NET_FRAME_PLAIN);
  await evil.until(() => evil.rxResponses.length === 3, 'three rx responses');
  assert.deepEqual(evil.rxResponses.map((r) => r.status), [NETIF_RSP_ERROR, NETIF_RSP_ERROR, NETIF_RSP_ERROR]);
  assert.equal(evilBe.stats.txErrors, 3);
  evil.postRx(1);
  rig.hub.inject(frame, NET_FRAME_PLAIN);
  await evil.until(() => evil.rxResponses.length === 4, 'a fourth rx response');
  assert.equal(evil.rxResponses[3]!.status, 100);
  await stillForwards();
});

test('held small frames count at least HELD_MIN_COST each against rx_queue_max: a flood of 64-byte frames holds bounded memory too (XSA-392)', async (t) => {
  const { evil, evilBe, stillForwards } = await setup(t, {}, { rxQueue: { drainTimeoutMs: 300 } });
  const tiny = frameOf(64, '00:16:3e:00:00:01');
  let held = 0;
  // Counted by their length alone, 8,192 would be held (2.9 MB of heap for one queue).
  for (let i = 0; i < 10_000; i++) if (evilBe.deliver(tiny, NET_FRAME_PLAIN)) held++;
  assert.equal(held, RX_QUEUE_DEFAULTS.queueMax / HELD_MIN_COST);
  assert.deepEqual(evilBe.rxHeld, { frames: held, bytes: held * 64 });
  assert.equal(evilBe.stats.txDropped, 10_000 - held);
  // Buffers posted now take the held frames, in order.
  evil.postRx(4);
  await evil.until(() => evil.rxResponses.length === 4, 'four held frames');
  assert.deepEqual(evil.received()[0]!.frame, tiny);
  await stillForwards();
});

test('a frontend that keeps one rx slot free forever holds rx_queue_max bytes of backend memory, no more (XSA-392)', async (t) => {
  const { evil, evilBe, stillForwards } = await setup(t, {}, { rxQueue: { drainTimeoutMs: 300 } });
  evil.postRx(1);
  const big = frameOf(6000, '00:16:3e:00:00:01'); // two slots: never fits
  const heap = process.memoryUsage().heapUsed;
  let held = 0;
  for (let i = 0; i < 2000; i++) if (evilBe.deliver(big, NET_FRAME_PLAIN)) held++;
  // Held while under the bound (rx_queue_len < rx_queue_max), the rest dropped and counted.
  assert.equal(held, Math.ceil(RX_QUEUE_DEFAULTS.queueMax / 6000));
  assert.ok(evilBe.rxHeld.bytes < RX_QUEUE_DEFAULTS.queueMax + 6000);
  assert.equal(evilBe.stats.txDropped, 2000 - held);
  assert.ok(process.memoryUsage().heapUsed - heap < 8 << 20, 'bounded');
  // The queue is full: a frame that would fit is dropped too, until the held ones pass the drain timeout.
  const small = frameOf(100, '00:16:3e:00:00:01');
  assert.equal(evilBe.deliver(small, NET_FRAME_PLAIN), false);
  await poll(() => evilBe.rxHeld.frames === 0, 'the drain timeout');
  assert.equal(evilBe.stats.txDropped, 2001);
  assert.equal(evilBe.deliver(small, NET_FRAME_PLAIN), true);
  await evil.until(() => evil.rxResponses.length === 1, 'the small frame');
  assert.deepEqual(evil.received()[0]!.frame, small);
  await stillForwards();
});

test('an event flood (XSA-332) costs the backend nothing and stops no one', async (t) => {
  const { evil, evilBe, stillForwards } = await setup(t);
  for (let i = 0; i < 20_000; i++) evil.queues[0]!.txPort.notify();
  await stillForwards();
  assert.equal(evilBe.disabled, null);
});

test('the ctrl ring refuses hash mappings out of range (XSA-270) and oversized keys; a good table steers', async (t) => {
  const rig = netRig(t);
  const g = rig.guest();
  const be = await rig.vif(g);
  const f = await RawNetFront.connect(rig.xs0, g, { queues: 2, ctrl: true });
  assert.equal(be.queues, 2);
  const u32 = (vals: number[]) => {
    const b = new Uint8Array(vals.length * 4);
    const v = new DataView(b.buffer);
    vals.forEach((x, i) => v.setUint32(i * 4, x, true));
    return b;
  };
  let id = 0;
  const ctrl = async (type: number, data: [number, number, number]) => (await f.ctrl({ id: ++id, type, data })).status;
  assert.equal((await f.ctrl({ id: ++id, type: XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, data: [0, 0, 0] })).data, 128);
  assert.equal(await ctrl(XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, [XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0, 0]), XEN_NETIF_CTRL_STATUS_SUCCESS);
  assert.equal(await ctrl(XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, [9, 0, 0]), XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
  assert.equal(await ctrl(XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, [XEN_NETIF_CTRL_HASH_TYPE_IPV4, 0, 0]), XEN_NETIF_CTRL_STATUS_SUCCESS);
  assert.equal(await ctrl(XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, [1 << 20, 0, 0]), XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
  assert.equal(await ctrl(XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, [f.page(new Uint8Array(41).fill(1)), 41, 0]), XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW);
  assert.equal(await ctrl(XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, [4000, 40, 0]), XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
  assert.equal(await ctrl(XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, [f.page(new Uint8Array(40).fill(0x5a)), 40, 0]), XEN_NETIF_CTRL_STATUS_SUCCESS);
  assert.equal(await ctrl(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, [129, 0, 0]), XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
  assert.equal(await ctrl(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, [4, 0, 0]), XEN_NETIF_CTRL_STATUS_SUCCESS);
  assert.equal(await ctrl(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, [f.page(u32([0, 1, 2, 0])), 4, 0]), XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, 'queue 2 of 2');
  assert.equal(await ctrl(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, [f.page(u32([1, 1])), 2, 3]), XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, 'past the table');
  assert.equal(await ctrl(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, [f.page(u32([1])), 1, 0xffffffff]), XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, 'offset wraps');
  assert.equal(await ctrl(99, [0, 0, 0]), 1, 'unknown type: NOT_SUPPORTED');
  // Every entry queue 1: all IPv4 frames go to queue 1's rx ring.
  assert.equal(await ctrl(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, [f.page(u32([1, 1, 1, 1])), 4, 0]), XEN_NETIF_CTRL_STATUS_SUCCESS);
  // Each frame takes two slots: its data and the HASH extra-info the frontend asked for.
  f.postRx(2, 0);
  f.postRx(4, 1);
  const ip = frameOf(100, '00:16:3e:00:00:01', 'ff:ff:ff:ff:ff:ff', 1, 0x0800);
  ip[14] = 0x45;
  assert.deepEqual(rig.hub.inject(ip, NET_FRAME_PLAIN), [true]);
  assert.deepEqual(rig.hub.inject(ip, NET_FRAME_PLAIN), [true]);
  assert.deepEqual(rig.hub.inject(ip, NET_FRAME_PLAIN), [true], 'held: queue 1 has no buffer left');
  await f.until(() => f.rxResponses.length === 4, 'two frames on queue 1');
  assert.equal(f.queues[1]!.rx.rspProd, 4);
  assert.equal(f.queues[0]!.rx.rspProd, 0);
  assert.equal(be.rxHeld.frames, 1);
});

test('a seeded fuzz of tx slots: answers are well-formed or the vif is disabled; the rest keeps forwarding', async (t) => {
  const rig = netRig(t);
  const goodG = rig.guest();
  await rig.vif(goodG);
  const good = await RawNetFront.connect(rig.xs0, goodG);
  const rand = rng(0x4e455442);
  const int = (n: number) => Math.floor(rand() * n);
  const ROUNDS = 24;
  let disabledCount = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const g = rig.guest(256);
    const be = await rig.vif(g);
    const f = await RawNetFront.connect(rig.xs0, g);
    const grants = [f.page(new Uint8Array(PAGE_SIZE).fill(round)), f.page(), 4000, 0];
    // Well-formed packets of 1..4 slots (some with a GSO extra), each field mutated now and then.
    const slots: TxSlot[] = [];
    const mutate = (v: number, choices: number[]) => (int(12) === 0 ? choices[int(choices.length)]! : v);
    for (let p = 0, packets = 1 + int(6); p < packets; p++) {
      const pieces = 1 + int(4);
      const withGso = int(6) === 0;
      for (let i = 0; i < pieces; i++) {
        const size = i === 0 ? pieces * 1000 : 1000;
        const more = i < pieces - 1 ? NETTXF_more_data : 0;
        slots.push({
          gref: mutate(grants[0]!, grants),
          offset: mutate(0, [100, 3500, 4095, int(4096)]),
          flags: mutate(more | (i === 0 && withGso ? NETTXF_extra_info : 0), [0, NETTXF_more_data, NETTXF_extra_info, int(16)]),
          id: slots.length,
          size: mutate(size, [0, 13, 4096, int(65536)]),
        });
        if (i === 0 && withGso) slots.push({ extra: int(4) ? gso(mutate(1448, [0]), mutate(XEN_NETIF_GSO_TYPE_TCPV4, [0, 3, 255])) : { kind: 'other', type: int(7), flags: int(2) } });
      }
    }
    const n = slots.length;
    f.sendSlots(slots);
    const before = rig.hub.frames.length;
    // Either every slot is answered, or the vif was disabled on the way.
    await poll(() => be.disabled !== null || f.txResponses.length >= n, `round ${round}: answers`);
    if (be.disabled !== null) disabledCount++;
    for (const r of f.txResponses) assert.ok([NETIF_RSP_OKAY, NETIF_RSP_ERROR, NETIF_RSP_NULL].includes(r.status), `round ${round}: status ${r.status}`);
    for (const fr of rig.hub.frames.slice(before)) assert.ok(fr.frame.length >= 14 && fr.frame.length <= 0xffff);
    await rig.xs0.rm(be.dir);
  }
  assert.ok(disabledCount > 0 && disabledCount < ROUNDS, `some rounds disabled the vif (${disabledCount}/${ROUNDS})`);
  // The good guest still sends and receives.
  good.postRx(1);
  rig.hub.inject(frameOf(80, '00:16:3e:00:00:01'), NET_FRAME_PLAIN);
  await good.until(() => good.rxResponses.length === 1, 'the good guest receives');
  good.send(frameOf(80, '00:16:3e:00:01:00'), { id: 1 });
  await good.until(() => good.txResponses.length === 1, 'the good guest sends');
  assert.equal(good.txResponses[0]!.status, NETIF_RSP_OKAY);
});


test('a frontend rewriting its tx slots while netback reads them (XSA-155) gets one consistent reading of each', async (t) => {
  const { evil, evilBe, rig, stillForwards } = await setup(t);
  const page = new Uint8Array(PAGE_SIZE).map((_, i) => (i * 13) & 0xff);
  page.set(frameOf(14, '00:16:3e:00:01:00'), 0);
  page.set(frameOf(14, '00:16:3e:00:01:00'), 3000);
  const gref = evil.page(page);
  const tx = evil.queues[0]!.tx;
  const base = tx.bytes.byteOffset;
  // Every slot's offset/flags word flips between offsets 0 and 3000, its id/size word between
  // sizes 60 and 4000: 3000 + 4000 crosses the page, the other three readings are good packets.
  const words = [];
  for (let i = 0; i < tx.nrEnts; i++) {
    const off = base + tx.slotOffset(i);
    words.push({ offset: off + 4, values: [0, 3000] }, { offset: off + 8, values: [60 << 16, 4000 << 16] });
  }
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(new URL('../../../../support/blk-flipper.js', import.meta.url), {
    workerData: { memory: evil.g.hc.memory.buffers.memory, words, stop } satisfies FlipJob,
  });
  await once(worker, 'message');
  const N = 1000;
  for (let i = 0; i < N && evilBe.disabled === null; i++) {
    evil.sendSlots([{ gref, offset: 0, flags: 0, id: 0, size: 60 }]);
    // A disabled vif sends no more events: look, rather than wait for one.
    if (i % 16 === 15) await poll(() => evil.txResponses.length >= i + 1 || evilBe.disabled !== null, 'responses');
  }
  Atomics.store(new Int32Array(stop), 0, 1);
  const [flips] = await once(worker, 'message');
  assert.ok((flips as number) > 0);
  const frames = rig.hub.frames.filter((x) => x.from === evilBe.name).map((x) => x.frame);
  assert.ok(frames.length > 0 || evilBe.disabled !== null);
  for (const fr of frames) {
    const ok = (fr.length === 60 && (Buffer.compare(fr, page.subarray(0, 60)) === 0 || Buffer.compare(fr, page.subarray(3000, 3060)) === 0))
      || (fr.length === 4000 && Buffer.compare(fr, page.subarray(0, 4000)) === 0);
    assert.ok(ok, `a frame of ${fr.length} bytes is one reading of the slot`);
  }
  if (evilBe.disabled !== null) assert.match(evilBe.disabled, /crosses the page/);
  await stillForwards();
});
