// xenstored under hostile load, as a user of its socket can make it: while one client runs an
// attack, a second client's READs must still be answered promptly (p99 under 50 ms, or under a
// small fraction of the attack's own duration on a loaded machine; no READ waiting out most of the
// storm: see `within`) and the host's RSS must stay bounded. Runs a real `xenode host` and measures it from outside.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { on } from 'node:events';
import { XS_READ, XS_WATCH, XS_WRITE } from '../../src/abi/xs_wire.js';
import { ROOT, XENODE } from '../support/cli.js';
import { SocketPeer, packet } from '../support/xenstore.js';

const P99_MAX_MS = 50;
/** The probe's p99 may also be up to this fraction of the storm's duration (see `within`). */
const STORM_FRACTION = 0.1;
/** The probe's longest wait: at most this much more than the idle probe's, or this fraction of the storm. */
const MAX_WAIT_MS = 100;
const MAX_WAIT_FRACTION = 0.25;
const RSS_GROWTH_MAX = 256 * 1024 * 1024;
/** How long the probe runs during each attack. */
const PROBE_MS = 2500;
/** How long the probe runs alone before each attack, to measure the machine's own noise. */
const IDLE_MS = 1000;
/** Attacks that have not finished by then are stopped (the test then fails on latency anyway). */
const ATTACK_MAX_MS = 30_000;
const T = { timeout: 180_000 };

const dir = mkdtempSync(join(tmpdir(), 'xenode-hostile-'));
const socketPath = join(dir, 'xenstored.sock');
let host: ChildProcessWithoutNullStreams;
const peers: SocketPeer[] = [];

function rss(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${host.pid}/status`, 'latin1'));
  return Number(m![1]) * 1024;
}

async function open(): Promise<SocketPeer> {
  // A host on a loaded machine may accept more slowly than an attack connects: the kernel then
  // refuses with EAGAIN (listen backlog full), and a client tries again.
  for (let tries = 0; ; tries++) {
    try {
      const p = await SocketPeer.open(socketPath);
      peers.push(p);
      return p;
    } catch (e) {
      if (tries >= 1000 || (e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      await delay(1);
    }
  }
}

interface Figures { p99: number; max: number; reads: number; rssGrowth: number; stormMs: number }

/**
 * The second client, on its own thread so the attacker's work in this one does not delay it:
 * READs a node in a loop until told to stop, then posts the latencies (ms).
 */
const PROBE = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const s = net.connect(workerData.path);
const path = Buffer.from('/hostile/probe\\0', 'latin1');
const req = Buffer.alloc(16 + path.length);
req.writeUInt32LE(${XS_READ}, 0);
req.writeUInt32LE(path.length, 12);
path.copy(req, 16);
const lat = [];
let stop = false;
let ready = false;
let buf = Buffer.alloc(0);
let t0 = 0;
parentPort.on('message', () => { stop = true; });
function next() {
  if (stop) { parentPort.postMessage(lat); s.destroy(); return; }
  t0 = performance.now();
  s.write(req);
}
// The first READ only says the probe is up (a thread starts slowly on a busy machine).
function answered(ms) {
  if (ready) lat.push(ms);
  else parentPort.postMessage('ready');
  ready = true;
}
s.on('connect', next);
s.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  while (buf.length >= 16 && buf.length >= 16 + buf.readUInt32LE(12)) {
    const end = 16 + buf.readUInt32LE(12);
    if (buf.toString('latin1', 16, end) !== 'ok') throw new Error('unexpected reply ' + buf.toString('latin1', 16, end));
    buf = buf.subarray(end);
    answered(performance.now() - t0);
    setTimeout(next, 2);
  }
});
`;

/**
 * READ latency of the probe client while `attack` runs (at least PROBE_MS, and until the attack
 * is over; an attack still running after ATTACK_MAX_MS is told to stop), and the host's RSS
 * growth meanwhile. `attack` resolves once its storm is over (every request answered, or every
 * connection set up); how long that took is `stormMs`. What it holds (connections) stays held
 * until PROBE_MS.
 */
async function underAttack(name: string, attack: (stop: (hard?: boolean) => boolean) => Promise<void>, probeMs = PROBE_MS): Promise<Figures> {
  const base = rss();
  let peak = base;
  const sampler = setInterval(() => { peak = Math.max(peak, rss()); }, 50);
  const probe = new Worker(PROBE, { eval: true, workerData: { path: socketPath } });
  const messages = on(probe, 'message');
  await messages.next();
  const probed = messages.next().then((m) => (m.value as [number[]])[0]);
  const t0 = Date.now();
  // A bounded attack runs to its end (unless it overruns); one that holds resources, for PROBE_MS.
  const stop = (hard = false): boolean => Date.now() - t0 > ATTACK_MAX_MS || (!hard && Date.now() - t0 > probeMs);
  let stormMs: number;
  try {
    await attack(stop);
    stormMs = Date.now() - t0;
    while (!stop()) await delay(20);
  } catch (e) {
    // A failed attack must not leave the probe and the sampler running: they would keep this
    // file's process (and the whole suite) waiting.
    clearInterval(sampler);
    await probe.terminate();
    for (const p of peers.splice(0)) p.close();
    throw e;
  }
  probe.postMessage('stop');
  const lat = await probed;
  await probe.terminate();
  clearInterval(sampler);
  peak = Math.max(peak, rss());
  lat.sort((a, b) => a - b);
  // No answer at all while attacked counts as an endless wait.
  if (lat.length === 0) lat.push(Infinity);
  // The p99 is never the longest wait, which the max bound is for: of 100 READs or fewer (a loaded
  // machine leaves the probe 71-90 in 4-9 s of watch flood at load 15) the 99th is the longest, and
  // the one wait of the flood's firing, 0.13-0.19 x the storm there, failed the bound meant for many.
  const f = { p99: lat[Math.min(Math.floor(lat.length * 0.99), Math.max(0, lat.length - 2))]!, max: lat[lat.length - 1]!, reads: lat.length, rssGrowth: peak - base, stormMs };
  console.log(`# ${name}: p99 ${f.p99.toFixed(1)} ms, max ${f.max.toFixed(1)} ms over ${f.reads} READs in ${Date.now() - t0} ms (storm ${stormMs} ms), RSS +${(f.rssGrowth / 2 ** 20).toFixed(0)} MiB`);
  for (const p of peers.splice(0)) p.close();
  return f;
}

/**
 * Run `attack` and check the bounds. What is checked is fair service: the probe is not made to
 * wait behind the storm. A fair daemon answers the probe within a turn or a few, whatever the
 * storm's length; an unfair one serves the storm first, so a probe READ waits about the storm's
 * whole duration (before fair service: seconds). Two bounds, each the larger of an absolute one
 * and a fraction of the storm's duration:
 * - p99 < max(50 ms + the idle probe's p99, STORM_FRACTION x storm);
 * - max < max(MAX_WAIT_MS + the idle probe's max, MAX_WAIT_FRACTION x storm): a READ stuck
 *   behind the whole storm is one among the hundreds the probe makes after it, so p99 alone
 *   misses it (measured with a scratch scheduler serving the busiest connection first: max 0.5
 *   to 1.0 x storm with p99 a few ms; the fair one: max 0.02 to 0.1 x storm, idle or at load 20).
 * The idle probe, measured first with no attack running, is the machine's own noise. The
 * fractions of the storm keep the test meaningful on a loaded machine (load average far above
 * the cores): every turn of the daemon is slower, which stretches the probe's waits and the storm
 * alike, so their ratio stays near 0 for a fair daemon and near 1 for an unfair one.
 * A miss is retried (twice), since noise comes and goes while an unfair daemon misses every time.
 */
async function within(name: string, attack: (stop: (hard?: boolean) => boolean) => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const idle = await underAttack(`${name} (idle probe before)`, async () => undefined, IDLE_MS);
    const f = await underAttack(name, attack);
    const bound = Math.max(P99_MAX_MS + idle.p99, STORM_FRACTION * f.stormMs);
    const maxBound = Math.max(MAX_WAIT_MS + idle.max, MAX_WAIT_FRACTION * f.stormMs);
    const ok = f.p99 < bound && f.max < maxBound && f.rssGrowth < RSS_GROWTH_MAX;
    if (ok || attempt === 3) {
      assert.ok(f.p99 < bound, `p99 READ latency ${f.p99.toFixed(1)} ms >= max(${P99_MAX_MS} ms + idle p99 ${idle.p99.toFixed(1)} ms, ${STORM_FRACTION} x storm ${f.stormMs} ms)`);
      assert.ok(f.max < maxBound, `longest READ wait ${f.max.toFixed(1)} ms >= max(${MAX_WAIT_MS} ms + idle max ${idle.max.toFixed(1)} ms, ${MAX_WAIT_FRACTION} x storm ${f.stormMs} ms)`);
      assert.ok(f.rssGrowth < RSS_GROWTH_MAX, `RSS grew by ${(f.rssGrowth / 2 ** 20).toFixed(0)} MiB`);
      return;
    }
  }
}

/**
 * Read and throw away everything the daemon sends (parsing it would load this process, not the
 * daemon); returns the count of bytes received so far.
 */
function discard(p: SocketPeer): () => number {
  let bytes = 0;
  p.sock.removeAllListeners('data');
  p.sock.on('data', (d: Buffer) => { bytes += d.length; });
  return () => bytes;
}

/** Wait until the socket's write buffer is empty, the socket closes, or `stop` says so. */
async function drained(p: SocketPeer, stop: (hard: boolean) => boolean): Promise<void> {
  while (p.sock.writableLength > 0 && !p.closed && !stop(true)) await delay(5);
}

before(async () => {
  host = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [XENODE, 'host', '--state-dir', dir, '--pool', '1', '--shutdown-timeout', '5'], { cwd: ROOT });
    let err = '';
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.includes('control socket')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`the host exited with ${code}: ${err}`)));
  });
  const setup = await SocketPeer.open(socketPath);
  await setup.req(XS_WRITE, '/hostile/probe\0ok');
  setup.close();
});

after(() => {
  if (host.exitCode === null) host.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('40,000 watches on one path, then a write that fires them all', T, async () => {
  await within('watch flood', async (stop) => {
    const p = await open();
    const received = discard(p);
    const N = 40_000;
    // Every WATCH is answered "OK" (19 bytes) and fires its initial event; the WRITE is answered
    // "OK" and fires each watch once more.
    const path = '/hostile/flood';
    let expected = 19;
    for (let j = 0; j < N; j++) expected += 19 + 2 * (16 + path.length + 2 + `t${j}`.length);
    for (let i = 0; i < N && !stop(true); i += 1000) {
      const batch: Buffer[] = [];
      for (let j = i; j < i + 1000; j++) batch.push(packet(XS_WATCH, `/hostile/flood\0t${j}\0`));
      // Pipelined as fast as the daemon takes them; replies and initial events are read unparsed.
      p.write(Buffer.concat(batch));
      await drained(p, stop);
    }
    p.write(packet(XS_WRITE, '/hostile/flood\0x'));
    while (received() < expected && !p.closed && !stop(true)) await delay(10);
    assert.equal(received(), expected, 'every watch registered and fired');
  });
});

test('32 watchers that never read while events fire', T, async () => {
  await within('unread watchers', async (stop) => {
    const watchers = await Promise.all(Array.from({ length: 32 }, () => open()));
    for (const [i, w] of watchers.entries()) {
      w.write(packet(XS_WATCH, `/hostile/hot\0w${i}\0`));
      await w.recv(2);
      w.sock.pause();
    }
    const writer = await open();
    const received = discard(writer);
    let sent = 0;
    // Distinct paths, so no two events are alike; each fires all 32 watches.
    for (let i = 0; i < 100_000 && !stop(true); i += 500, sent += 500) {
      const batch: Buffer[] = [];
      for (let j = i; j < i + 500; j++) batch.push(packet(XS_WRITE, `/hostile/hot/k${j % 5000}\0${'v'.repeat(64)}`));
      writer.write(Buffer.concat(batch));
      await drained(writer, stop);
      await delay(1);
    }
    // Each WRITE is answered "OK" (19 bytes).
    while (received() < 19 * sent && !writer.closed && !stop(true)) await delay(10);
  });
});

test('a stalled half message, on many connections', T, async () => {
  await within('stalled half messages', async () => {
    for (let i = 0; i < 64; i++) {
      const p = await open();
      // A header promising 4000 bytes, and 100 of them.
      p.write(packet(XS_WRITE, `/hostile/half\0${'x'.repeat(3980)}`).subarray(0, 116));
    }
  });
});

test('a thousand connections', T, async () => {
  await within('1000 connections', async (stop) => {
    for (let i = 0; i < 1000 && !stop(true); i++) {
      const p = await open();
      p.write(packet(XS_WRITE, `/hostile/conn/c${i % 100}\0${i}`));
    }
  });
});

test('a 600,000-request pipeline', T, async () => {
  await within('600k pipeline', async (stop) => {
    const p = await open();
    const received = discard(p);
    const one = packet(XS_READ, '/hostile/probe\0');
    const chunk = Buffer.concat(Array.from({ length: 10_000 }, () => one));
    let sent = 0;
    for (let i = 0; i < 60 && !stop(true); i++, sent += 10_000) {
      p.write(chunk);
      await drained(p, stop);
    }
    // Each READ is answered "ok" (18 bytes).
    while (received() < 18 * sent && !p.closed && !stop(true)) await delay(10);
  });
});
