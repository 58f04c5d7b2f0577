// The idle cost of dom0's switch (issue 12; XCP 1.6's "massive VLAN scalability"): plug one port
// into each of 4094 VLANs of a bridge, one trunk port carrying all 4094, and one port into each
// of 1000 bridges; report the time and the heap they take, and the CPU the switch uses while
// nothing moves. The same-run baseline is the same devices created and kept in a Map without
// the switch (what any switch must hold at least), one empty Map plus Set (the smallest
// per-VLAN structure a JavaScript switch could have), and the process's idle CPU before any
// switch exists.
//
//   npm run bench -- switch-idle [--vlans=4094] [--bridges=1000] [--idle=1000]
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { NET_FRAME_PLAIN } from '../src/abi/netif.js';
import { Switch } from '../src/network/switch.js';
import type { PortDevice } from '../src/network/port.js';
import { emit, numberOptions } from './support/harness.js';

const opts = numberOptions({ vlans: 4094, bridges: 1000, idle: 1000 });

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const FEATURES = { csumOffload: true, gsoTcpv4: true, gsoTcpv6: true };
let delivered = 0;
function device(name: string): PortDevice {
  return { name, features: FEATURES, deliver: () => (delivered++, true) };
}

/** Time (ms) and retained heap (bytes) of building something, which is kept alive until measured. */
function measure<T>(build: () => T): { ms: number; bytes: number; value: T } {
  const before = heap();
  const t0 = performance.now();
  const value = build();
  const ms = performance.now() - t0;
  return { ms, bytes: heap() - before, value };
}

const vlans = Array.from({ length: opts.vlans }, (_, i) => i + 1);

/**
 * CPU (ms) the process uses over `ms` of doing nothing, after a full GC and a first window of
 * the same length (V8's concurrent sweeping and memory reducer run after a burst of allocation:
 * they are the allocation's cost, not the idle switch's).
 */
async function idleCpu(ms: number): Promise<number> {
  gc();
  await new Promise((r) => setTimeout(r, ms));
  const cpu0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, ms));
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000;
}

// The process's own idle CPU, before any switch exists.
const baselineIdleCpuMs = await idleCpu(opts.idle);

// Baselines first, each released before the next measurement.
let base = measure(() => new Map(vlans.map((v) => [`vif${v}.0`, device(`vif${v}.0`)])));
const baseVlanDevices = { ms: base.ms, bytes: base.bytes };
base = measure(() => new Map(Array.from({ length: opts.bridges }, (_, i) => [`vif${i + 1}.0`, device(`vif${i + 1}.0`)])));
const baseBridgeDevices = { ms: base.ms, bytes: base.bytes };
const emptyMaps = measure(() => vlans.map(() => [new Map(), new Set()]));
const emptyMapBytes = emptyMaps.bytes / opts.vlans;
base = undefined as never;

// 4094 access ports, one per VLAN, on one bridge.
const access = measure(() => {
  const sw = new Switch({ maxPorts: opts.vlans + 1 });
  const ports = vlans.map((v) => sw.plug(device(`vif${v}.0`), { bridge: `xenbr0.${v}` }));
  return { sw, ports };
});
// One trunk port carrying every VLAN.
const trunk = measure(() => {
  const sw = new Switch();
  sw.plug(device('vif1.0'), { bridge: `xenbr0:${vlans.join(':')}` });
  return sw;
});
// 1000 bridges with a port each.
const bridges = measure(() => {
  const sw = new Switch();
  for (let i = 1; i <= opts.bridges; i++) sw.plug(device(`vif${i}.0`), { bridge: `xenbr${i}` });
  return sw;
});

// Idle: nothing moves; the switch has no timers, so the process should use what it used before.
const idleCpuMs = await idleCpu(opts.idle);

// Still a switch: a broadcast on the last VLAN reaches exactly one other port.
const last = access.value.ports[opts.vlans - 1]!;
delivered = 0;
const frame = new Uint8Array(60).fill(0xff, 0, 6);
frame.set([0x02, 0, 0, 0, 0, 1], 6);
access.value.sw.plug(device('vif0.0'), { bridge: `xenbr0.${opts.vlans}` });
last.input(frame, NET_FRAME_PLAIN);
if (delivered !== 1) throw new Error(`a broadcast on VLAN ${opts.vlans} reached ${delivered} ports, not 1`);

const kib = (b: number) => b / 1024;
emit({
  bench: 'switch-idle',
  vlans: opts.vlans,
  bridges: opts.bridges,
  access_ports_ms: access.ms,
  access_ports_kib: kib(access.bytes),
  access_bytes_per_vlan: access.bytes / opts.vlans,
  baseline_devices_kib: kib(baseVlanDevices.bytes),
  baseline_devices_ms: baseVlanDevices.ms,
  access_vs_devices_heap: access.bytes / baseVlanDevices.bytes,
  empty_map_set_bytes: emptyMapBytes,
  access_per_vlan_vs_empty_map_set: access.bytes / opts.vlans / emptyMapBytes,
  trunk_all_vlans_ms: trunk.ms,
  trunk_all_vlans_kib: kib(trunk.bytes),
  trunk_bytes_per_vlan: trunk.bytes / opts.vlans,
  trunk_per_vlan_vs_empty_map_set: trunk.bytes / opts.vlans / emptyMapBytes,
  bridges_ms: bridges.ms,
  bridges_kib: kib(bridges.bytes),
  bytes_per_bridge: bridges.bytes / opts.bridges,
  baseline_bridge_devices_kib: kib(baseBridgeDevices.bytes),
  bridges_vs_devices_heap: bridges.bytes / baseBridgeDevices.bytes,
  idle_ms: opts.idle,
  idle_cpu_ms: idleCpuMs,
  baseline_idle_cpu_ms: baselineIdleCpuMs,
});
// Keep everything alive until here.
void [access.value, trunk.value, bridges.value, emptyMaps.value];
