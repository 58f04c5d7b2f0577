// Per-VM and host statistics in round-robin archives, as xcp-rrdd keeps them and serves them on
// /rrd_updates (the endpoint Xen Orchestra polls). Every STEP seconds the host's domains are
// sampled through the command layer's `list` (the counters `xenode top` shows): a counter
// becomes a rate over the step (cpu seconds → a fraction of a CPU, sectors → bytes/s), a gauge
// is kept as it is. Disks and vifs also have sources each, named as xcp-rrdd names them
// (vbd_xvda_read, vbd_xvda_write, vif_0_rx, vif_0_tx: bytes/s), from the command layer's
// deviceStats. Each data source has one AVERAGE archive per resolution, each a fixed ring
// of rows, so memory is bounded by (data sources × rows); a VM's sources go with its domain.
import type { DomainDeviceStats, DomainInfo, Toolstack } from '../toolstack/contract.js';

/** xcp-rrdd's base step. */
export const STEP_S = 5;

/** The AVERAGE archives: rows of `steps` base steps each (5 s × 120 = 10 min, 1 min × 120 = 2 h, 1 h × 168 = a week). */
export const ARCHIVES = [{ steps: 1, rows: 120 }, { steps: 12, rows: 120 }, { steps: 720, rows: 168 }] as const;

/** Data sources kept at most (host and VMs); a source past it is not recorded. */
export const MAX_SOURCES = 64 * 1024;

const SECTOR = 512;

class Archive {
  readonly values: Float64Array;
  /** The time (s) of each row's end; 0 for a row never written. */
  readonly times: Float64Array;
  #sum = 0;
  #count = 0;

  constructor(readonly steps: number, readonly rows: number) {
    this.values = new Float64Array(rows);
    this.times = new Float64Array(rows);
  }

  /** One base-step value at time `t` (s, a multiple of STEP_S). */
  add(t: number, v: number): void {
    if (Number.isFinite(v)) {
      this.#sum += v;
      this.#count++;
    }
    const period = this.steps * STEP_S;
    if (t % period !== 0) return;
    const row = (t / period) % this.rows;
    this.values[row] = this.#count ? this.#sum / this.#count : NaN;
    this.times[row] = t;
    this.#sum = 0;
    this.#count = 0;
  }
}

class Source {
  readonly archives = ARCHIVES.map((a) => new Archive(a.steps, a.rows));
}

/** The last counters seen of a domain, to turn them into rates. */
interface Last {
  readonly t: number;
  readonly uuid: string;
  readonly cpu: number;
  readonly rd: number;
  readonly wr: number;
  readonly tx: number;
  readonly rx: number;
  /** Each device's counters, by the name of its data source. */
  readonly devices: ReadonlyMap<string, number>;
}

/** A domain's device counters by the names of their data sources (xcp-rrdd's). */
function deviceCounters(d: DomainDeviceStats | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of d?.vbds ?? []) out.set(`vbd_${v.vdev}_read`, v.readBytes).set(`vbd_${v.vdev}_write`, v.writeBytes);
  for (const v of d?.vifs ?? []) out.set(`vif_${v.devid}_rx`, v.rxBytes).set(`vif_${v.devid}_tx`, v.txBytes);
  return out;
}

export interface RrdUpdates {
  readonly meta: { start: number; step: number; end: number; rows: number; columns: number; legend: string[] };
  readonly data: { t: number; values: number[] }[];
}

export class RrdStore {
  readonly #sources = new Map<string, Source>();
  readonly #last = new Map<number, Last>();

  /** Record one sample of the host and its domains (and their devices') at time `t` (s, a multiple of STEP_S). */
  sample(t: number, hostUuid: string, host: { memoryTotalKiB: number; memoryFreeKiB: number; cpuAvg: number }, domains: readonly DomainInfo[],
    devices: readonly DomainDeviceStats[] = []): void {
    const byDomid = new Map(devices.map((d) => [d.domid, d]));
    const put = (key: string, v: number) => {
      let s = this.#sources.get(key);
      if (!s) {
        if (this.#sources.size >= MAX_SOURCES) return;
        this.#sources.set(key, (s = new Source()));
      }
      for (const a of s.archives) a.add(t, v);
    };
    put(`host:${hostUuid}:cpu_avg`, host.cpuAvg);
    put(`host:${hostUuid}:memory_total_kib`, host.memoryTotalKiB);
    put(`host:${hostUuid}:memory_free_kib`, host.memoryFreeKiB);
    const seen = new Set<number>();
    for (const d of domains) {
      if (d.state[5] === 'd') continue;
      seen.add(d.domid);
      const now: Last = {
        t, uuid: d.uuid, cpu: d.cpuSeconds, rd: (d.vbdStats?.rsect ?? 0) * SECTOR, wr: (d.vbdStats?.wsect ?? 0) * SECTOR,
        tx: d.netStats?.txBytes ?? 0, rx: d.netStats?.rxBytes ?? 0, devices: deviceCounters(byDomid.get(d.domid)),
      };
      const prev = this.#last.get(d.domid);
      this.#last.set(d.domid, now);
      const vm = `vm:${d.uuid}`;
      put(`${vm}:memory`, d.memoryKiB * 1024);
      if (!prev || prev.uuid !== d.uuid || t <= prev.t) continue;
      const dt = t - prev.t;
      const rate = (a: number, b: number) => Math.max(0, (a - b) / dt);
      put(`${vm}:cpu0`, Math.min(1, rate(now.cpu, prev.cpu)));
      put(`${vm}:vbd_read`, rate(now.rd, prev.rd));
      put(`${vm}:vbd_write`, rate(now.wr, prev.wr));
      put(`${vm}:vif_tx`, rate(now.tx, prev.tx));
      put(`${vm}:vif_rx`, rate(now.rx, prev.rx));
      for (const [name, n] of now.devices) {
        const was = prev.devices.get(name);
        if (was !== undefined) put(`${vm}:${name}`, rate(n, was));
      }
    }
    // A domain that is gone takes its sources with it.
    for (const [domid, last] of this.#last) {
      if (seen.has(domid)) continue;
      this.#last.delete(domid);
      if (![...this.#last.values()].some((l) => l.uuid === last.uuid)) {
        for (const key of this.#sources.keys()) if (key.startsWith(`vm:${last.uuid}:`)) this.#sources.delete(key);
      }
    }
  }

  get sources(): number {
    return this.#sources.size;
  }

  /**
   * xcp-rrdd's rrd_updates: the rows after `start` (s) of the finest archive whose step is at
   * least `interval`, of the host's sources (with `host`) and every VM's, AVERAGE only.
   */
  updates(start: number, interval: number, host: boolean): RrdUpdates {
    const i = Math.max(0, ARCHIVES.findIndex((a) => a.steps * STEP_S >= interval));
    const step = ARCHIVES[i]!.steps * STEP_S;
    const keys = [...this.#sources.keys()].filter((k) => host || !k.startsWith('host:'));
    const rowTimes = new Set<number>();
    for (const k of keys) for (const t of this.#sources.get(k)!.archives[i]!.times) if (t > start) rowTimes.add(t);
    const times = [...rowTimes].sort((a, b) => b - a);
    const data = times.map((t) => ({
      t,
      values: keys.map((k) => {
        const a = this.#sources.get(k)!.archives[i]!;
        const row = (t / step) % a.rows;
        return a.times[row] === t ? a.values[row]! : NaN;
      }),
    }));
    return {
      meta: { start, step, end: times[0] ?? start, rows: data.length, columns: keys.length, legend: keys.map((k) => `AVERAGE:${k}`) },
      data,
    };
  }
}

/** Samples a host every STEP_S seconds into an RrdStore, until stopped. */
export class RrdSampler {
  readonly store = new RrdStore();
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  #elu = performance.eventLoopUtilization();

  constructor(private readonly ts: Toolstack, private readonly hostUuid: () => string) {}

  start(): this {
    const next = () => STEP_S * 1000 - (Date.now() % (STEP_S * 1000));
    const tick = () => {
      this.#timer = setTimeout(tick, next());
      this.#timer.unref();
      void this.sampleNow();
    };
    this.#timer = setTimeout(tick, next());
    this.#timer.unref();
    return this;
  }

  /** Take one sample, at the current step. */
  async sampleNow(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const t = Math.round(Date.now() / 1000 / STEP_S) * STEP_S;
      const [info, domains, devices] = await Promise.all([this.ts.call('info', {}), this.ts.call('list', {}), this.ts.call('deviceStats', {})]);
      const elu = performance.eventLoopUtilization(this.#elu);
      this.#elu = performance.eventLoopUtilization();
      this.store.sample(t, this.hostUuid(), { memoryTotalKiB: info.totalMemoryMiB * 1024, memoryFreeKiB: info.freeMemoryMiB * 1024, cpuAvg: elu.utilization }, domains, devices);
    } catch {
      // A host going away: the next step tries again.
    } finally {
      this.#busy = false;
    }
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}
