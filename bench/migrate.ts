// Live migration between two hosts in this process over loopback TCP: a 64 MiB and a 256 MiB
// guest (a quarter of memory= is I/O memory; three quarters of that filled), idle and while it
// rewrites pages at a set rate. Total time, bytes sent as a multiple of the guest's I/O memory,
// pre-copy rounds, and the downtime as the sender sees it (from the suspend to the target's
// report that its copy runs) with its parts; next to it the same-run limit: the same number of
// bytes copied over a plain loopback socket. Then the downtime as a client on a third domain
// sees it (below), with the parts after the report: to the guest's main(os), and from there to
// its devices and TCP/IP stack serving again; and the downtime's phases in order, from the
// marks of both hosts and both runtimes (`phases_ms`: the source guest frozen, its devices
// quiesced, the domain suspended, the last round and the suspend record sent, acknowledged,
// renamed and permission given, the target unpaused, the runtime handed its kernel, its suspend
// record read, its vifs connected, its stacks restored (their gratuitous ARP goes first), the
// client's first answer).
//
//   npm run bench -- migrate [--rate=200] [--sizes=2 (1: the 64 MiB guest only)] [--repeat=1 (client runs per rate)]
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MigrationReceiver } from '../src/migration/receive.js';
import { migrateDomain } from '../src/migration/migrate.js';
import { memorySplit } from '../src/toolstack/builder.js';
import { parseDomainConfig } from '../src/toolstack/domconfig.js';
import { Host } from '../src/toolstack/host.js';
import { emit, numberOptions } from './support/harness.js';

const opts = numberOptions({ rate: 200, sizes: 2, repeat: 1 });
const SIZES = [64, 256].slice(0, opts.sizes);
const KERNEL = fileURLToPath(new URL('../../bench/guests/dirty.ts', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'xenode-bench-mig-'));
const a = await Host.start({ poolSize: 1 });
const b = await Host.start({ poolSize: 1 });
const tokenFile = join(dir, 'token');
for (const memory of SIZES) b.pool.warm({ heapMb: memorySplit(memory).heapMb });
/** The receiver's messages as they came (epoch ms), to place its steps among the sender's. */
const received: [number, string][] = [];
const epoch = () => performance.timeOrigin + performance.now();
const receiver = await MigrationReceiver.listen(b, { address: '127.0.0.1', port: 0, tokenFile, log: (line) => void received.push([epoch(), line]) });
const token = (await readFile(tokenFile, 'utf8')).trim();

/** ms to push `bytes` through a plain loopback TCP connection. */
async function socketCopy(bytes: number): Promise<number> {
  const server = createServer((s) => s.on('data', () => {}).on('end', () => s.end()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const sock = connect((server.address() as { port: number }).port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  const chunk = Buffer.alloc(1 << 20, 7);
  const t0 = performance.now();
  for (let left = bytes; left > 0; left -= chunk.length) {
    if (!sock.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await new Promise((r) => sock.once('drain', r));
  }
  sock.end();
  await new Promise((r) => sock.once('close', r));
  const ms = performance.now() - t0;
  server.close();
  return ms;
}

const runs = [];
let seq = 0;
for (const memory of SIZES) {
  for (const rate of [0, opts.rate]) {
    const ioMb = memory / 4;
    const name = `mig-${seq++}`;
    const cfg = parseDomainConfig(`name = "${name}"\nkernel = "${KERNEL}"\nmemory = ${memory}\nextra = "mb=${(ioMb * 3) / 4} rate=${rate}"\n`, KERNEL).config;
    const built = await a.create(cfg);
    await a.xs.wait(`/local/domain/${built.domain.domid}/data/dirty`, (v) => v === 'filled', { timeout: 60_000 });
    const r = await migrateDomain(a, built.domain.domid, `127.0.0.1:${receiver.port}`, { token });
    const there = b.hv.domains().find((d) => d.name === name)!;
    await b.xs.wait(`/local/domain/${there.domid}/data/dirty`, (v) => v === 'resumed', { timeout: 60_000 });
    await b.destroy(there.domid);
    const limitMs = await socketCopy(r.bytes);
    runs.push({
      memory_mib: memory, io_memory_mib: ioMb, dirty_pages_per_10ms: rate, total_ms: r.totalMs, downtime_ms: r.downtimeMs, downtime_parts_ms: r.downtimePartsMs,
      rounds: r.rounds, sent_over_io_memory: r.bytes / (ioMb << 20), rate_mb_s: r.bytes / 2 ** 20 / (r.totalMs / 1000),
      limit_socket_copy_mb_s: r.bytes / 2 ** 20 / (limitMs / 1000),
    });
  }
}
// Downtime as a client sees it: a prober guest on host A sends an HTTP request every 1 ms
// (pipelined) on one keep-alive connection to a guest that serves HTTP; that guest migrates to host
// B, whose bridge of the same name is joined to A's by VXLAN over loopback, with the connection;
// the time without an answer around the switch is the downtime (the longest gap of the run is
// reported beside it).
const BRIDGE = 'xenbr-migbench';
const [va, vb] = await Promise.all([a.switch.vtep({ address: '127.0.0.1', port: 0 }), b.switch.vtep({ address: '127.0.0.1', port: 0 })]);
await a.switch.link(BRIDGE, vb.local, { local: va.local });
await b.switch.link(BRIDGE, va.local, { local: vb.local });
const PROBER = fileURLToPath(new URL('../../bench/guests/prober.ts', import.meta.url));
const prober = await a.create(parseDomainConfig(`name = "prober"\nkernel = "${PROBER}"\nmemory = 32\n`
  + `vif = [ 'mac=00:16:3e:77:00:01,bridge=${BRIDGE},ip=10.77.0.1/24' ]\nextra = "target=10.77.0.2 interval=1 rto=2"\n`, PROBER).config);
const probe = `/local/domain/${prober.domain.domid}/data/probe`;
const clients = [];
for (const rate of [0, opts.rate].flatMap((r) => Array<number>(opts.repeat).fill(r))) {
  const name = `echo-${seq++}`;
  b.pool.warm({ heapMb: memorySplit(64).heapMb });
  const echo = await a.create(parseDomainConfig(`name = "${name}"\nkernel = "${KERNEL}"\nmemory = 64\n`
    + `vif = [ 'mac=00:16:3e:77:00:02,bridge=${BRIDGE},ip=10.77.0.2/24' ]\nextra = "mb=12 rate=${rate} http"\n`, KERNEL).config);
  await a.xs.wait(`/local/domain/${echo.domain.domid}/data/dirty`, (v) => v === 'filled', { timeout: 60_000 });
  await a.xs.write(`${probe}/run`, name);
  await a.xs.wait(`${probe}/ready`, (v) => v === name, { timeout: 60_000 });
  let reportAt = 0;
  const say = (line: string) => {
    if (/successful startup/.test(line)) reportAt = performance.timeOrigin + performance.now();
  };
  received.length = 0;
  const r = await migrateDomain(a, echo.domain.domid, `127.0.0.1:${receiver.port}`, { token, say });
  const there = b.hv.domains().find((d) => d.name === name)!;
  const times = await b.xs.wait(`/local/domain/${there.domid}/data/dirty-times`, (v) => v !== undefined, { timeout: 60_000 });
  const [mainAt, servingAt] = times!.split(' ').map(Number) as [number, number];
  // The resumed runtime reports once its vifs and stacks are back (and main(os) ran).
  let resumed = there.vcpu?.marks?.('resume');
  for (let i = 0; !resumed && i < 100; i++) {
    await new Promise((res) => setTimeout(res, 10));
    resumed = there.vcpu?.marks?.('resume');
  }
  await new Promise((res) => setTimeout(res, 300));
  await a.xs.write(`${probe}/stop`, name);
  const line = await a.xs.wait(`${probe}/result`, (v) => v?.startsWith(`${name} `) === true, { timeout: 30_000 });
  const result = JSON.parse(line!.slice(name.length + 1)) as { sent: number; answered: number; reconnects: number; max_gap_ms: number; gaps: [number, number][] };
  await b.destroy(there.domid);
  // Every mark in ms from the sender's suspend request, to place the client's gap among them.
  const suspendAt = reportAt - r.downtimeMs;
  const p = r.downtimePartsMs;
  const at = (t: number) => Math.round((t - suspendAt) * 10) / 10;
  const { gaps, ...probes } = result;
  // The downtime is the gap the switch falls in: when the target reports its copy running, the
  // guest answers nowhere yet (a longer gap may come earlier: the pre-copy keeps the one event
  // loop of both hosts busy).
  const [gapAt, downtime] = gaps.find(([t, ms]) => t <= reportAt && t + ms >= reportAt) ?? [reportAt, 0];
  // The downtime's phases, each from the step before it (ms).
  const recv = (re: RegExp) => received.find(([, line]) => re.test(line))?.[0];
  const g = r.timeline.guest ?? {};
  const s = r.timeline.sender;
  const steps: [string, number | undefined][] = [
    ['source_frozen', g.frozen], ['source_devices_quiesced', g.quiesced], ['source_suspended', s.suspended],
    ['last_round_and_record_sent', s.lastRoundSent], ['target_read_and_acked', s.acked], ['renamed_and_go', s.go],
    ['target_unpaused', recv(/Domain started/)], ['runtime_handed', resumed?.handed], ['record_read', resumed?.record],
    ['vifs_connected', resumed?.vifs], ['stacks_restored', resumed?.stacks], ['client_answered', gapAt + downtime],
  ];
  const phases: Record<string, number | null> = {};
  let prev = steps[0]![1];
  for (const [k, t] of steps.slice(1)) {
    phases[k] = t !== undefined && prev !== undefined ? Math.round((t - prev) * 10) / 10 : null;
    if (t !== undefined) prev = t;
  }
  clients.push({
    memory_mib: 64, io_filled_mib: 12, dirty_pages_per_10ms: rate, client_downtime_ms: downtime, client: 'HTTP/1.1 keep-alive, pipelined, a request every 1 ms, RTO 2 ms', probes,
    sender_downtime_ms: r.downtimeMs, downtime_parts_ms: { ...p, to_main: mainAt - reportAt, devices_and_stack: servingAt - mainAt },
    phases_ms: phases, frozen_to_answer_ms: g.frozen === undefined ? null : Math.round((gapAt + downtime - g.frozen) * 10) / 10,
    main_after_handed_ms: resumed?.main === undefined || resumed.handed === undefined ? null : Math.round((resumed.main - resumed.handed) * 10) / 10,
    timeline_ms: {
      suspended: at(suspendAt + p.suspend), acked: at(suspendAt + p.suspend + (p.disks ?? 0) + p.lastRound), target_running: at(reportAt), main: at(mainAt),
      serving: at(servingAt), client_gap: [at(gapAt), at(gapAt + downtime)],
    },
    rounds: r.rounds,
  });
}
await receiver.close();
await a.close();
await b.close();
await rm(dir, { recursive: true, force: true });
emit({ bench: 'migrate', runs, client: clients, goal_downtime_ms: 50 });
