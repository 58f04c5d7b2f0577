// Frames between two guests across dom0's bridge: guest A's tx ring -> A's netback -> dom0's
// switch (src/network) -> B's netback -> B's rx buffers, every domain on this one thread
// (./support/onethread.ts). The guests' frontends are written by hand (./support/net-rawfront.ts):
// netfront's own work is left out, so the figures are netback's, the switch's and the rings'.
// 64-byte and 1514-byte frames in frames/s, GSO super-frames of 64 KiB in Gb/s, each next to
// the physical limit measured in the same run: the same frames copied from one
// SharedArrayBuffer to another in one thread. With each figure, the process's CPU time per
// frame (a measure the other loads on the machine change less). Prints one line of JSON.
//
// Last, the time to hot-plug --vifs vifs into one guest, next to the same xenstore work with no
// netback.
//
// With --cases=16 (or 48 for GSO too): the same streams between two real netfronts (A writes
// 256 frames a write, two writes in flight, as bench/guests/netpeer.ts; B's listen counts), on
// this one thread too: the whole data path's CPU per frame, netfront's included, with no
// thread hand-offs, which the machine's load changes least (what an A/B of the data path's
// own cost compares; `net-guests` measures the hand-offs).
//
//   npm run bench -- net [--runtime=1] [--repeat=3] [--vifs=100] [--cases=15]
//   (--cases: a bit mask, 1 eth64, 2 eth1514, 4 gso64k, 8 hot-plug, 16 netfront eth64, 32 netfront gso64k: --cases=1 profiles the 64-byte stream alone)
import {
  NET_FRAME_PLAIN, NETRXF_extra_info, NETRXF_more_data, NETTXF_csum_blank, XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_GSO_TYPE_TCPV4,
  encodeNetifRxRequest, type NetFrameInfo, type NetifExtraInfo,
} from '../src/abi/netif.js';
import { PAGE_SIZE } from '../src/abi/xen.js';
import { NetbackDaemon } from '../src/drivers/net/back/devd.js';
import { NetFront } from '../src/drivers/net/front/netfront.js';
import { rxSlotsFor } from '../src/drivers/net/protocol.js';
import { Switch } from '../src/network/switch.js';
import { emit, mainThreadCpuUs, numberOptions } from './support/harness.js';
import { RawNetFront, createVif, frameOf, writeVifNodes } from './support/net-rawfront.js';
import { OneThreadHost, type OneThreadGuest } from './support/onethread.js';

const opts = numberOptions({ runtime: 1, repeat: 3, vifs: 100, cases: 15 });
const GSO_FRAME = 65000;

/**
 * cpu_us_per_frame: the process's CPU time (every thread, the GC's too) per frame received;
 * thread_cpu_us_per_frame: the main thread's alone (where every domain runs), which the
 * machine's load changes least.
 */
interface Point { readonly frames_per_s: number; readonly gbit_per_s: number; readonly cpu_us_per_frame?: number; readonly thread_cpu_us_per_frame?: number; readonly rx_dropped?: number }

/** The physical limit: `size`-byte frames copied between two SharedArrayBuffers, one thread. */
function sabCopy(size: number, ms: number): Point {
  const a = new Uint8Array(new SharedArrayBuffer(PAGE_SIZE * 17));
  const b = new Uint8Array(new SharedArrayBuffer(PAGE_SIZE * 17));
  a.set(frameOf(size, '00:16:3e:00:01:00'));
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 1024; i++) b.set(a.subarray(0, size));
    n += 1024;
  }
  const s = (performance.now() - t0) / 1000;
  return { frames_per_s: n / s, gbit_per_s: (n * size * 8) / s / 1e9 };
}

/** Two guests A and B with a vif each on dom0's bridge (netback's, on this one thread), for `body`; all gone after it. */
async function twoVifs<T>(body: (host: OneThreadHost, daemon: NetbackDaemon, ga: OneThreadGuest, gb: OneThreadGuest) => Promise<T>): Promise<T> {
  const host = new OneThreadHost();
  const sw = new Switch();
  const daemon = await NetbackDaemon.start(host.dom0, 0, { switch: sw });
  try {
    const ga = host.guest(2048);
    const gb = host.guest(2048);
    await createVif(host.dom0.xs, ga.domid, 0);
    await createVif(host.dom0.xs, gb.domid, 0);
    return await body(host, daemon, ga, gb);
  } finally {
    await daemon.stop();
    sw.close();
    await host.close();
  }
}

/** A streams `size`-byte frames to B for `ms`: A keeps its tx ring full, B keeps its rx ring stocked. */
function stream(size: number, gso: boolean, ms: number): Promise<Point> {
  return twoVifs(async (host, daemon, ga, gb) => {
    const a = await RawNetFront.connect(host.dom0.xs, ga);
    const b = await RawNetFront.connect(host.dom0.xs, gb);
    const frame = frameOf(size, `00:16:3e:00:0${ga.domid}:00`, `00:16:3e:00:0${gb.domid}:00`, 1, 0x0800);
    // B says hello once (a broadcast from its MAC), so that the bridge has learned where B is
    // and forwards A's stream to B's port alone, as in any conversation; otherwise every
    // frame would be flooded as unknown unicast.
    b.send(frameOf(60, `00:16:3e:00:0${gb.domid}:00`));
    await b.until(() => b.txResponses.length === 1, "B's hello answered");
    b.txResponses.length = 0;
    // One packet's slots, on pages granted once and reused by every packet.
    const extras: NetifExtraInfo[] = gso ? [{ kind: 'gso', type: XEN_NETIF_EXTRA_TYPE_GSO, flags: 0, size: 1448, gsoType: XEN_NETIF_GSO_TYPE_TCPV4, features: 0 }] : [];
    const template = a.frameSlots(frame, { flags: gso ? NETTXF_csum_blank : 0, extras });
    const perPacket = template.length;
    const txRing = a.queues[0]!.tx;
    const rxRing = b.queues[0]!.rx;
    // B: post every rx slot once; as each response comes back, repost the buffer of the request
    // at its ring index (as netfront does: a GSO extra-info's response carries no id). Each
    // ring slot keeps its buffer, so a repost is one request encoded in place, nothing allocated.
    b.postRx(rxRing.nrEnts);
    const rxGrefs = Array.from({ length: rxRing.nrEnts }, (_, i) => b.rxPosted.get(i)!);
    const rxReq = { id: 0, gref: 0 };
    let received = 0;
    let delivered = 0;
    let extraNext = false;
    b.onCollect = () => {
      const rs = b.rxResponses;
      if (rs.length === 0) return;
      for (const r of rs) {
        const idx = rxRing.reqProdPvt;
        rxReq.id = idx & 0xffff;
        rxReq.gref = rxGrefs[idx % rxRing.nrEnts]!;
        encodeNetifRxRequest(rxRing.view, rxRing.slotOffset(idx), rxReq);
        rxRing.reqProdPvt = idx + 1;
        if (extraNext) {
          extraNext = false;
          continue;
        }
        if (r.flags & NETRXF_extra_info) extraNext = true;
        if (!(r.flags & NETRXF_more_data) && r.status >= 0) {
          received++;
          delivered++;
        }
      }
      rs.length = 0;
      if (rxRing.pushRequestsAndCheckNotify()) b.queues[0]!.rxPort.notify();
      fill();
    };
    let running = true;
    let sent = 0;
    let id = 0;
    // A keeps at most what B's rx ring holds in flight (a window, as a transport's would be),
    // so that netback forwards rather than queues: B learns of its frames and A of B's receipt
    // on this one thread at once.
    const window = Math.floor(rxRing.nrEnts / (rxSlotsFor(size) + (gso ? 1 : 0)));
    // The template's slots are encoded straight onto the ring, each request's id renumbered in
    // place, and pushed once per fill: the bench's frontend allocates nothing per frame.
    const fill = () => {
      a.txResponses.length = 0;
      let n = 0;
      while (running && txRing.freeRequests() >= perPacket && sent + n - delivered < window) {
        for (const s of template) {
          if (!('extra' in s)) (s as { id: number }).id = id++ & 0xffff;
        }
        a.putSlots(template);
        n++;
      }
      sent += n;
      if (n) a.pushTx();
    };
    a.onCollect = fill;
    const bBack = daemon.device(gb.domid, 0)!;
    const round = async (roundMs: number): Promise<Point> => {
      running = true;
      received = 0;
      const dropped0 = bBack.stats.txDropped;
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const thread0 = mainThreadCpuUs();
      fill();
      await new Promise((r) => setTimeout(r, roundMs));
      const s = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const thread = mainThreadCpuUs() - thread0;
      const frames = received;
      running = false;
      // Let what is in flight drain before the next round.
      await new Promise((r) => setTimeout(r, 50));
      // Frames B's netback dropped (its rx queue full): A outruns B when B's wake-ups come late.
      return { frames_per_s: frames / s, gbit_per_s: (frames * size * 8) / s / 1e9, cpu_us_per_frame: (cpu.user + cpu.system) / frames, thread_cpu_us_per_frame: thread / frames, rx_dropped: bBack.stats.txDropped - dropped0 };
    };
    await round(300); // the JIT warms up
    const got = await round(ms);
    if (sent === 0) throw new Error('nothing was sent');
    return got;
  });
}

/** A's netfront writes `size`-byte frames to B's for `ms` (after a warm-up), both on this thread: B's frames and the CPU they took. */
function netfrontStream(size: number, gso: boolean, ms: number): Promise<Point> {
  return twoVifs(async (_host, _daemon, ga, gb) => {
    const a = await NetFront.connect(ga.ctx, ga.domid, 0);
    const b = await NetFront.connect(gb.ctx, gb.domid, 0);
    let received = 0;
    b.listen(() => {
      received++;
    });
    await b.write(frameOf(60, b.mac));
    const info: NetFrameInfo = gso ? { csumBlank: true, dataValidated: false, gso: { type: XEN_NETIF_GSO_TYPE_TCPV4, size: 1448 } } : NET_FRAME_PLAIN;
    const batch = Array.from({ length: gso ? 16 : 256 }, (_, i) => frameOf(size, a.mac, b.mac, i, 0x0800));
    let running = true;
    const sender = async () => {
      while (running) await a.write(batch, info);
    };
    const round = async (roundMs: number): Promise<Point> => {
      running = true;
      const senders = [sender(), sender()];
      await new Promise((r) => setTimeout(r, 50));
      received = 0;
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const thread0 = mainThreadCpuUs();
      await new Promise((r) => setTimeout(r, roundMs));
      const frames = received;
      const s = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const thread = mainThreadCpuUs() - thread0;
      running = false;
      await Promise.all(senders);
      return { frames_per_s: frames / s, gbit_per_s: (frames * size * 8) / s / 1e9, cpu_us_per_frame: (cpu.user + cpu.system) / frames, thread_cpu_us_per_frame: thread / frames };
    };
    await round(300); // the JIT warms up
    return await round(ms);
  });
}

/**
 * Hot-plug `n` vifs into one guest, one after another as `xl network-attach` does: the
 * toolstack's xenstore transaction, then netback's setup up to hotplug-status. The limit next
 * to it: the same transactions on a host with no netback (the xenstore work alone).
 */
async function hotplug(n: number, withNetback: boolean): Promise<number> {
  const host = new OneThreadHost();
  const sw = new Switch();
  const daemon = withNetback ? await NetbackDaemon.start(host.dom0, 0, { switch: sw }) : null;
  try {
    const g = host.guest(64);
    const t0 = performance.now();
    for (let devid = 0; devid < n; devid++) {
      if (withNetback) await createVif(host.dom0.xs, g.domid, devid);
      else await writeVifNodes(host.dom0.xs, g.domid, devid);
    }
    const ms = performance.now() - t0;
    if (daemon && daemon.devices.size !== n) throw new Error(`${daemon.devices.size} of ${n} vifs came up`);
    return ms;
  } finally {
    await daemon?.stop();
    sw.close();
    await host.close();
  }
}

function median(points: Point[]): Point {
  return [...points].sort((x, y) => x.frames_per_s - y.frames_per_s)[points.length >> 1]!;
}

const round2 = (p: Point) => ({
  frames_per_s: Math.round(p.frames_per_s), gbit_per_s: Math.round(p.gbit_per_s * 100) / 100,
  ...(p.cpu_us_per_frame !== undefined && { cpu_us_per_frame: Math.round(p.cpu_us_per_frame * 1000) / 1000 }),
  ...(p.thread_cpu_us_per_frame !== undefined && { thread_cpu_us_per_frame: Math.round(p.thread_cpu_us_per_frame * 1000) / 1000 }),
  ...(p.rx_dropped !== undefined && { rx_dropped: p.rx_dropped }),
});
const results: Record<string, unknown> = {};
for (const [name, size, gso, on] of [['eth64', 64, false, 1], ['eth1514', 1514, false, 2], ['gso64k', GSO_FRAME, true, 4]] as const) {
  if (!(opts.cases & on)) continue;
  const runs: Point[] = [];
  const limits: Point[] = [];
  for (let r = 0; r < opts.repeat; r++) {
    runs.push(await stream(size, gso, opts.runtime * 1000));
    limits.push(sabCopy(size, opts.runtime * 1000));
  }
  const got = median(runs);
  const limit = median(limits);
  results[name] = { bytes: size, ...round2(got), sab_copy: round2(limit), ratio: Math.round((got.frames_per_s / limit.frames_per_s) * 10000) / 10000 };
}
for (const [name, size, gso, on] of [['netfront_eth64', 64, false, 16], ['netfront_gso64k', GSO_FRAME, true, 32]] as const) {
  if (!(opts.cases & on)) continue;
  const runs: Point[] = [];
  for (let r = 0; r < opts.repeat; r++) runs.push(await netfrontStream(size, gso, opts.runtime * 1000));
  results[name] = { bytes: size, ...round2(median(runs)), runs: runs.map((p) => round2(p)) };
}
if (opts.cases & 8) {
  const plug: number[] = [];
  const plugLimit: number[] = [];
  for (let r = 0; r < opts.repeat; r++) {
    plug.push(await hotplug(opts.vifs, true));
    plugLimit.push(await hotplug(opts.vifs, false));
  }
  const mid = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
  results.hotplug = { vifs: opts.vifs, ms: mid(plug), xenstore_only_ms: mid(plugLimit), ratio: mid(plug) / mid(plugLimit) };
}
emit({ bench: 'net', runtime_s: opts.runtime, repeat: opts.repeat, path: 'raw tx ring -> netback -> Switch -> netback -> raw rx ring, one thread', ...results });
