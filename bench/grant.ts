// Grant tables on one thread: map+unmap pairs per second (dom0 mapping a guest's grants, as a
// backend does), and GNTTABOP_copy of 4 KiB from a guest's grant into dom0's own frame, one op
// per call and 16 per call, next to a bare 4 KiB typed-array copy between two
// SharedArrayBuffers over the same frames in the same run. Then a backend's copies between
// grants and its own heap (grantCopyLocal), 64 B and 4 KiB, in CPU ns per op next to what
// netback did before it (map, copy, unmap per slot); a 16-page frame from one guest to another
// through the backend's heap, grant to grant (its pages pinned again as sources), or from the
// pins the backend holds (scattered buffers; and consecutive pages into consecutive buffers, one
// gathered copy), in CPU ns per frame; a held frame's tail brought into dom0, pinned again or
// from the pins, in CPU ns per frame. Last, the uncontended cost
// of the grant and event-channel lock (lock.ts), next to its two bare atomic operations.
//
//   node dist/bench/grant.js [--ms=500] [--pages=64] [--ops=100000]
//
// --ms is the time given to each measurement. The last line is JSON.
import { PAGE_SIZE } from '../src/abi/xen.js';
import { directChannel } from '../src/hypervisor/control.js';
import { GrantCopyBatch, type CopyOp } from '../src/hypervisor/grant.js';
import { Hypercalls } from '../src/hypervisor/hypercalls.js';
import { Hypervisor } from '../src/hypervisor/hypervisor.js';
import { lock, unlock } from '../src/hypervisor/lock.js';
import { emit, numberOptions, rate } from './support/harness.js';

const opts = numberOptions({ ms: 500, pages: 64, ops: 100000 });
const pages = opts.pages;

const hv = new Hypervisor({ dom0RamFrames: pages });
const dom0 = hv.dom0Hypercalls;
const d = hv.createDomain({ name: 'frontend', ramFrames: pages });
const guest = new Hypercalls(d.view, directChannel(hv.controlPlane(d.domid)));
const gpfns = guest.populatePhysmap(pages);
const rw = gpfns.map((pfn) => guest.grantAccess(0, pfn, false));
const ro = gpfns.map((pfn) => guest.grantAccess(0, pfn, true));
const own = dom0.populatePhysmap(pages);
// Touch every frame once: the first write to a fresh page costs far more than a copy.
for (const pfn of gpfns) guest.memory.frame(pfn).fill(1);
for (const pfn of own) dom0.memory.frame(pfn).fill(2);

let i = 0;
const mapUnmap = (refs: number[], readonly: boolean) => () => {
  dom0.grantUnmap(dom0.grantMap(d.domid, refs[i++ % pages]!, readonly).handle);
};
const mapUnmapRw = rate(opts.ms, 256, mapUnmap(rw, false));
const mapUnmapRo = rate(opts.ms, 256, mapUnmap(ro, true));

const copyOp = (k: number): CopyOp => ({
  source: { domid: d.domid, ref: ro[k % pages]!, offset: 0 },
  dest: { pfn: own[(k * 7) % pages]!, offset: 0 },
  len: PAGE_SIZE,
});
const singles = Array.from({ length: pages }, (_, k) => [copyOp(k)]);
const batches = Array.from({ length: pages }, (_, k) => Array.from({ length: 16 }, (_, j) => copyOp(k * 16 + j)));
const copy1 = rate(opts.ms, 64, () => void dom0.grantCopy(singles[i++ % pages]!));
const copy16 = 16 * rate(opts.ms, 16, () => void dom0.grantCopy(batches[i++ % pages]!));

// The same frames, copied with a bare subarray/set between the two SharedArrayBuffers.
const src = d.view.mem8;
const dst = hv.dom0.view.mem8;
const bare = rate(opts.ms, 64, () => {
  const k = i++;
  const from = gpfns[k % pages]! * PAGE_SIZE;
  dst.set(src.subarray(from, from + PAGE_SIZE), own[(k * 7) % pages]! * PAGE_SIZE);
});

// A backend's copies (grantCopyLocal): `len` bytes of the guest's grants into a buffer of
// dom0's own heap (netback's tx) and back (its rx), next to what netback did per slot before
// (map, copy, unmap). Timed in CPU time per op, the two ways alternating, the median of 5
// rounds: on a loaded machine wall-clock rates of a few hundred ns swing by 2x or more.
const local = new Uint8Array(16 * PAGE_SIZE);
const batch = new GrantCopyBatch(16);
const viaBatch = (len: number, toGrant: boolean, n = 1) => () => {
  batch.reset(toGrant ? local.subarray(0, len) : local, toGrant);
  for (let j = 0; j < n; j++) batch.add((toGrant ? rw : ro)[(i + j) % pages]!, 0, len, j * len);
  i += n;
  if (dom0.grantCopyLocal(d.domid, batch) !== 0) throw new Error(`grantCopyLocal failed: ${batch.status.join()}`);
};
const viaMap = (len: number, toGrant: boolean) => () => {
  const m = dom0.grantMap(d.domid, (toGrant ? rw : ro)[i++ % pages]!, !toGrant);
  if (toGrant) m.page.set(local.subarray(0, len));
  else local.set(m.page.subarray(0, len));
  dom0.grantUnmap(m.handle);
};
const cpuNs = (ways: Record<string, () => void>, ops: number): Record<string, number> => {
  const samples: Record<string, number[]> = {};
  for (let round = 0; round < 5; round++) {
    for (const [name, fn] of Object.entries(ways)) {
      for (let k = 0; k < ops / 50; k++) fn();
      const c0 = process.cpuUsage();
      for (let k = 0; k < ops; k++) fn();
      const c = process.cpuUsage(c0);
      (samples[name] ??= []).push(((c.user + c.system) * 1000) / ops);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.sort((a, b) => a - b)[2]!]));
};
const backendCopy: Record<string, unknown> = {};
for (const len of [64, PAGE_SIZE]) {
  for (const toGrant of [false, true]) {
    const ns = cpuNs({ grantCopyLocal: viaBatch(len, toGrant), mapCopyUnmap: viaMap(len, toGrant) }, opts.ops);
    backendCopy[`${toGrant ? 'to' : 'from'}Grant${len}`] = { ns_per_op: ns, ratio: ns['grantCopyLocal']! / ns['mapCopyUnmap']! };
  }
}
backendCopy['fromGrant4096x16'] = { ns_per_op: cpuNs({ grantCopyLocal: viaBatch(PAGE_SIZE, false, 16) }, opts.ops / 16)['grantCopyLocal']! / 16 };

// A frame of 16 pages from one guest to another across a backend, as netback moves a GSO
// super-frame: through the backend's heap (grant copy in, grant copy out: what it did before)
// or grant to grant (the sender's pages pinned, one GNTCOPY_source_gref copy each). CPU ns
// per frame, the two ways alternating; the ratio is direct / through the heap.
const e = hv.createDomain({ name: 'receiver', ramFrames: pages });
const receiver = new Hypercalls(e.view, directChannel(hv.controlPlane(e.domid)));
const epfns = receiver.populatePhysmap(pages);
const erw = epfns.map((pfn) => receiver.grantAccess(0, pfn, false));
for (const pfn of epfns) receiver.memory.frame(pfn).fill(3);
const FRAME_PAGES = 16;
const heap = new Uint8Array(FRAME_PAGES * PAGE_SIZE);
const txBatch = new GrantCopyBatch(FRAME_PAGES);
const rxBatch = new GrantCopyBatch(FRAME_PAGES);
const viaHeap = () => {
  txBatch.reset(heap, false);
  rxBatch.reset(heap, true);
  for (let j = 0; j < FRAME_PAGES; j++) {
    txBatch.add(ro[(i + j) % pages]!, 0, PAGE_SIZE, j * PAGE_SIZE);
    rxBatch.add(erw[(i + j * 3) % pages]!, 0, PAGE_SIZE, j * PAGE_SIZE);
  }
  i += FRAME_PAGES;
  if (dom0.grantCopyLocal(d.domid, txBatch) !== 0 || dom0.grantCopyLocal(e.domid, rxBatch) !== 0) throw new Error('copy through the heap failed');
};
const direct = () => {
  txBatch.reset(heap, false);
  rxBatch.reset(heap, true);
  for (let j = 0; j < FRAME_PAGES; j++) {
    txBatch.add(ro[(i + j) % pages]!, 0, PAGE_SIZE, 0);
    rxBatch.addFromGrant(ro[(i + j) % pages]!, 0, erw[(i + j * 3) % pages]!, 0, PAGE_SIZE);
  }
  i += FRAME_PAGES;
  if (dom0.grantPinLocal(d.domid, txBatch) !== 0) throw new Error('pin failed');
  const failed = dom0.grantCopyLocal(e.domid, rxBatch, d.domid);
  dom0.grantUnpinLocal(d.domid, txBatch);
  if (failed !== 0) throw new Error(`grant to grant failed: ${rxBatch.status.join()}`);
};
// The same from the pins the backend holds (usePins/addFromPinned: no second pin of the
// sender's pages), into scattered buffers as above, and into buffers that follow one another in
// RAM from pages that do (netfront's transmit runs and rx buffers): one gathered copy a frame.
const fromPins = (run: boolean) => () => {
  const at = run ? (i % Math.floor(pages / FRAME_PAGES)) * FRAME_PAGES : i;
  txBatch.reset(heap, false);
  rxBatch.reset(heap, true);
  rxBatch.usePins(txBatch);
  for (let j = 0; j < FRAME_PAGES; j++) {
    txBatch.add(ro[(at + j) % pages]!, 0, PAGE_SIZE, 0);
    rxBatch.addFromPinned(j, 0, erw[run ? at + j : (at + j * 3) % pages]!, 0, PAGE_SIZE);
  }
  i += run ? 1 : FRAME_PAGES;
  if (dom0.grantPinLocal(d.domid, txBatch) !== 0) throw new Error('pin failed');
  const failed = dom0.grantCopyLocal(e.domid, rxBatch, d.domid);
  dom0.grantUnpinLocal(d.domid, txBatch);
  if (failed !== 0) throw new Error(`copy from pins failed: ${rxBatch.status.join()}`);
};
const g2g = cpuNs({ viaHeap, direct, fromPins: fromPins(false), fromPinsConsecutive: fromPins(true) }, Math.max(1, Math.round(opts.ops / FRAME_PAGES)));
const guestToGuest = { pages: FRAME_PAGES, ns_per_frame: g2g, ratio: g2g['direct']! / g2g['viaHeap']! };
// A held frame's 16-page tail brought into dom0 (netback's TxTail.fill: a capture, VXLAN, the
// gateway, a frame a receiver must hold): by a grant copy of its refs, which pins its pages a
// second time (what fill did before), or from the pins netback holds (grantCopyFromPins). CPU
// ns per frame, pin and unpin of the held pages included; the ratio is fromPins / regrant.
const fillBatch = new GrantCopyBatch(FRAME_PAGES);
const fill = (fromPinsNow: boolean) => () => {
  txBatch.reset(heap, false);
  for (let j = 0; j < FRAME_PAGES; j++) txBatch.add(ro[(i + j) % pages]!, 0, PAGE_SIZE, 0);
  i += FRAME_PAGES;
  if (dom0.grantPinLocal(d.domid, txBatch) !== 0) throw new Error('pin failed');
  let ok: boolean;
  if (fromPinsNow) {
    ok = dom0.grantCopyFromPins(d.domid, txBatch, heap, 0);
  } else {
    fillBatch.reset(heap, false);
    for (let j = 0; j < FRAME_PAGES; j++) fillBatch.add(txBatch.ref[j]!, 0, PAGE_SIZE, j * PAGE_SIZE);
    ok = dom0.grantCopyLocal(d.domid, fillBatch) === 0;
  }
  dom0.grantUnpinLocal(d.domid, txBatch);
  if (!ok) throw new Error('tail fill failed');
};
const fillNs = cpuNs({ regrant: fill(false), fromPins: fill(true) }, Math.max(1, Math.round(opts.ops / FRAME_PAGES)));
const tailFill = { pages: FRAME_PAGES, ns_per_frame: fillNs, ratio: fillNs['fromPins']! / fillNs['regrant']! };
// An uncontended lock and unlock is one compare-exchange and one exchange: the rest is the
// robust mutex's own logic (lock.ts), which must stay next to nothing.
const word = new Int32Array(new SharedArrayBuffer(8));
const lockNs = cpuNs({
  lockUnlock: () => {
    lock(word, 0);
    unlock(word, 0);
  },
  bareAtomics: () => {
    Atomics.compareExchange(word, 0, 0, 1);
    Atomics.exchange(word, 0, 0);
  },
}, opts.ops * 10);

const gbps = (opsPerSec: number) => (opsPerSec * PAGE_SIZE) / 1e9;
const copy = (opsPerSec: number) => ({ opsPerSec, GBps: gbps(opsPerSec), vsBare: opsPerSec / bare });
const result = {
  bench: 'grant',
  pages,
  mapUnmap: { rwPairsPerSec: mapUnmapRw, roPairsPerSec: mapUnmapRo, nsPerRwPair: 1e9 / mapUnmapRw },
  copy4k: copy(copy1),
  copy4kBatch16: copy(copy16),
  bareCopy4k: { opsPerSec: bare, GBps: gbps(bare) },
  backendCopyCpu: backendCopy,
  guestToGuestCpu: guestToGuest,
  tailFillCpu: tailFill,
  lockCpu: { ns_per_op: lockNs, ratio: lockNs['lockUnlock']! / lockNs['bareAtomics']! },
};
console.log(`map+unmap: ${Math.round(mapUnmapRw)} rw pairs/s, ${Math.round(mapUnmapRo)} ro pairs/s`);
console.log(`copy 4 KiB: ${Math.round(copy1)} ops/s (${gbps(copy1).toFixed(2)} GB/s) one per call, ` +
  `${Math.round(copy16)} ops/s (${gbps(copy16).toFixed(2)} GB/s) 16 per call; bare ${Math.round(bare)} ops/s (${gbps(bare).toFixed(2)} GB/s)`);
emit(result);
