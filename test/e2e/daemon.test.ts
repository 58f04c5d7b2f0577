// The host daemon and the xl-style subcommands as a user runs them: child processes, their
// output and exit statuses.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { vcpuResourceLimits } from '../../src/hypervisor/vcpu.js';
import { memorySplit } from '../../src/toolstack/builder.js';
import type { HostEvent } from '../../src/toolstack/contract.js';
import { FIXTURES, ROOT, XENODE, xenode as run, type Result, type RunOptions } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'xenode-daemon-'));
const stateDir = join(dir, 'state');
// A bound, not a speed check: these take 10–20 s alone and longer on a loaded machine (a test of
// many xenode commands took 15 times longer at load 22 than at load 6).
const T = { timeout: 240_000 };

/** Run `xenode ARGS` against this file's host (or another state dir). */
function xenode(args: string[], opts: Partial<RunOptions> = {}): Promise<Result> {
  return run(args, { ...opts, state: opts.state ?? stateDir });
}

async function ok(args: string[]): Promise<string> {
  const r = await xenode(args);
  assert.equal(r.code, 0, `xenode ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

let daemon: ChildProcessWithoutNullStreams;
let daemonErr = '';

/** `xenode host` in the foreground; resolves once it serves. */
function startDaemon(): Promise<ChildProcessWithoutNullStreams> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [XENODE, 'host', '--state-dir', stateDir, '--pool', '1', '--shutdown-timeout', '5'], { cwd: ROOT });
    child.stderr.on('data', (b: Buffer) => {
      daemonErr += b.toString();
      if (daemonErr.includes('control socket')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`the daemon exited with ${code}: ${daemonErr}`)));
  });
}

function cfg(name: string, kernel: string): string {
  const file = join(dir, `${name}.cfg`);
  writeFileSync(file, `name = "${name}"\nkernel = "${join(FIXTURES, kernel)}"\nmemory = 32\n`);
  return file;
}

before(async () => {
  daemon = await startDaemon();
});
after(() => {
  if (daemon.exitCode === null) daemon.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('without a host: a one-line error that says what to do', T, async () => {
  const r = await xenode(['list'], { state: join(dir, 'nohost') });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `xenode: no host running on ${join(dir, 'nohost')}: start one with \`xenode host\`\n`);
});

test("create's trailing KEY=VALUE settings override the file's, as xl create's do", T, async () => {
  const created = await xenode(['create', cfg('over', 'ticker.ts'), 'name="over2"', 'memory = 48']);
  assert.equal(created.code, 0, created.stderr);
  const long = JSON.parse(await ok(['list', '-l', 'over2'])) as { config: { name: string; memory: number } }[];
  assert.deepEqual(long.map((d) => [d.config.name, d.config.memory]), [['over2', 48]]);
  await ok(['destroy', 'over2']);
  const bad = await xenode(['create', cfg('over', 'ticker.ts'), 'memory']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /EINVAL: create: 'memory' is not a KEY=VALUE setting/);
  const badValue = await xenode(['create', cfg('over', 'ticker.ts'), 'memory=[']);
  assert.equal(badValue.code, 1);
  assert.match(badValue.stderr, /over\.cfg:\d+/);
  assert.doesNotMatch(await ok(['list']), /\bover\b/);
});

test('a second host on the same state dir is refused', T, async () => {
  const r = await xenode(['host', '--state-dir', stateDir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^xenode: EEXIST: a host is already running on ${stateDir} \\(pid ${daemon.pid}\\): stop it with \`xenode host stop\``));
});

test('create, list, uptime, info, domid, domname, rename, pause, unpause, dmesg, destroy', T, async () => {
  const created = await xenode(['create', cfg('tick', 'ticker.ts')]);
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.stderr, `Parsing config from ${join(dir, 'tick.cfg')}\n`);
  const list = await ok(['list']);
  assert.match(list, /^Name {40}ID {3}Mem VCPUs\tState\tTime\(s\)\nDomain-0 {37}0 +\d+ {5}1 {5}[-rb]{2}----  +\d+\.\d\ntick {36} +(\d+) {4}32 {5}1 {5}[-rb]{2}----  +\d+\.\d\n$/);
  const domid = /\ntick +(\d+)/.exec(list)![1]!;
  assert.equal(await ok(['domid', 'tick']), `${domid}\n`);
  assert.equal(await ok(['domname', domid]), 'tick\n');
  const json = JSON.parse(await ok(['list', '--json', 'tick'])) as { name: string; memoryKiB: number }[];
  assert.deepEqual(json.map((d) => [d.name, d.memoryKiB]), [['tick', 32768]]);
  const long = JSON.parse(await ok(['list', '-l', domid])) as { domid: number; config: { name: string; memory: number } }[];
  assert.deepEqual(long.map((d) => [d.domid, d.config.name, d.config.memory]), [[Number(domid), 'tick', 32]]);
  assert.match(await ok(['uptime']), /^Name {32}ID Uptime\nDomain-0 +0 +\d+:\d\d:\d\d\ntick +\d+ +\d+:\d\d:\d\d\n$/);
  assert.match(await ok(['info']), /^host {19}: .+\n(.+\n)*xen_version {12}: \d+\.\d+\.\d+\n/);
  assert.match(await ok(['info', 'nr_cpus']), /^\d+\n$/);
  await ok(['pause', 'tick']);
  assert.match(await ok(['list', 'tick']), /--p---/);
  await ok(['unpause', domid]);
  await ok(['rename', 'tick', 'tock']);
  assert.match(await ok(['console', '--log', 'tock']), /tick \d+\n/);
  await ok(['destroy', 'tock']);
  assert.equal((await ok(['list'])).split('\n').length, 3);
  const dmesg = await ok(['dmesg']);
  for (const what of [`d${domid} 'tick': created`, `d${domid} 'tick': paused`, `d${domid}: renamed from 'tick' to 'tock'`, `d${domid} 'tock': destroyed`]) {
    assert.match(dmesg, new RegExp(`^\\(XEN\\) \\[\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\] ${what.replace(/[()]/g, '\\$&')}$`, 'm'));
  }
  const unknown = await xenode(['destroy', 'tock']);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr, "xenode: ESRCH: no domain named 'tock': `xenode list` shows the domains\n");
});

test('create -c shows the console from the first line, types into it, and Ctrl-] detaches; viewers come one after another', T, async () => {
  const file = cfg('echo', 'echo.ts');
  let typed = false;
  const r = await xenode(['create', '-c', file], {
    onStdout: (text, child) => {
      if (!typed && text.includes('echo ready on echo')) {
        typed = true;
        child.stdin.write('hi');
      }
      if (text.includes('got: hi')) child.stdin.write(Buffer.from([0x1d]));
    },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^echo ready on echo\n/);
  for (const word of ['one', 'two']) {
    // Typed before the viewer is attached: it reaches the guest once it is.
    const v = await xenode(['console', 'echo'], {
      input: word,
      onStdout: (text, child) => {
        if (text.includes(`got: ${word}`)) child.stdin.write(Buffer.from([0x1d]));
      },
    });
    assert.equal(v.code, 0, v.stderr);
  }
  // Detaching left the guest running.
  assert.match(await ok(['list', 'echo']), /\necho +\d+/);
});

test("shutdown -w waits and prints xl's messages", T, async () => {
  const domid = (await ok(['domid', 'echo'])).trim();
  const r = await xenode(['shutdown', '-w', 'echo']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, `Shutting down domain ${domid}\nWaiting for 1 domains\nDomain ${domid} has been shut down, reason code 0\n`);
});

test('run uses the daemon when one is up, with the same exit statuses', T, async () => {
  const hello = await xenode(['run', 'examples/hello/hello.cfg']);
  assert.equal(hello.code, 0, hello.stderr);
  assert.match(hello.stderr, /Using the host running on /);
  assert.match(hello.stdout, /Hello from xenode!/);
  const crash = await xenode(['run', join(FIXTURES, 'crash.cfg')]);
  assert.equal(crash.code, 2);
  assert.match(crash.stdout, /guest crashed: Error: boom from the guest/);
});

test('top: batch frames as xentop -b, and JSON', T, async () => {
  await ok(['create', cfg('tick2', 'ticker.ts')]);
  const frames = await ok(['top', '-b', '-i', '2', '-d', '0.2']);
  assert.equal(frames.match(/^xentop - /gm)?.length, 2);
  assert.match(frames, /\n {6}NAME {2}STATE {3}CPU\(sec\) CPU\(%\) +MEM\(k\)/);
  assert.match(frames, /\n +tick2 --b---|\n +tick2 -----r/);
  const [line] = (await ok(['top', '--json', '-i', '1'])).trim().split('\n');
  const sample = JSON.parse(line!) as { domains: { name: string; cpuPercent: number }[] };
  assert.deepEqual(sample.domains.map((d) => d.name), ['Domain-0', 'tick2']);
});

test('SIGTERM: guests power off, the log says so, the lock and sockets go', T, async () => {
  const exited = new Promise<number | null>((resolve) => daemon.on('exit', (code) => resolve(code)));
  daemon.kill('SIGTERM');
  assert.equal(await exited, 0, daemonErr);
  const events = readFileSync(join(stateDir, 'host.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as HostEvent);
  assert.ok(events.some((e) => e.type === 'shutdown' && e.name === 'tick2' && e.reason === 'poweroff'), 'tick2 was not powered off');
  assert.deepEqual(events.slice(-1).map((e) => e.type === 'host' && e.state), ['stopped']);
  for (const f of ['host.pid', 'control.sock', 'xenstored.sock']) assert.equal(existsSync(join(stateDir, f)), false, f);
});

test('host start daemonizes (over a stale lock) and prints its socket; host stop stops it', T, async () => {
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  writeFileSync(join(stateDir, 'host.pid'), `${dead}\n`);
  const start = await xenode(['host', 'start', '--state-dir', stateDir, '--pool', '0']);
  assert.equal(start.code, 0, start.stderr);
  assert.equal(start.stdout, `${join(stateDir, 'control.sock')}\n`);
  assert.match(await ok(['list']), /^Name/);
  const stop = await xenode(['host', 'stop']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(existsSync(join(stateDir, 'host.pid')), false);
});

test("a daemonized host's guest gets the heap its memory= gives it, not the daemon's heap flags", T, async () => {
  const state = join(dir, 'heap-state');
  // `host start` gives the daemon 1 MiB semi-spaces; the user's NODE_OPTIONS a large old space.
  const start = await xenode(['host', 'start', '--state-dir', state, '--pool', '0', '--xapi-port', 'off'], { state, env: { NODE_OPTIONS: '--max-old-space-size=512' } });
  assert.equal(start.code, 0, start.stderr);
  try {
    const created = await xenode(['create', cfg('heap', 'heap.ts')], { state });
    assert.equal(created.code, 0, created.stderr);
    // The guest's line reaches the console log after its main() began: read until it is there.
    let said: RegExpExecArray | null = null;
    for (let i = 0; i < 200 && !said; i++) said = /heap_size_limit (\d+)/.exec((await xenode(['console', '--log', 'heap'], { state })).stdout);
    assert.ok(said, 'the guest never reported its heap');
    // The same thread's heap in this process (run without heap flags): what memory=32 gives.
    const limits = vcpuResourceLimits(memorySplit(32).heapMb);
    const own = new Worker("require('node:worker_threads').parentPort.postMessage(require('node:v8').getHeapStatistics().heap_size_limit)",
      { eval: true, resourceLimits: limits });
    const [expected] = (await once(own, 'message')) as [number];
    await own.terminate();
    assert.ok(limits.maxYoungGenerationSizeMb! > 3, 'memory=32 must give more young generation than 1 MiB semi-spaces do');
    assert.equal(Number(said[1]), expected);
  } finally {
    const stop = await xenode(['host', 'stop'], { state });
    assert.equal(stop.code, 0, stop.stderr);
  }
});
