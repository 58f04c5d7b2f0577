// The migration invariant against kill -9 of either host process: two `xenode host` processes,
// a migration between them through a relay in this process that sees xl's handshake go by and
// kills one host (SIGKILL) at a chosen step: during the pre-copy, when the target's ready message
// passes, when the sender's permission to go passes. Afterwards the domain runs in exactly one
// place, or on neither only when its source host died; a restarted host has forgotten its
// transient domains (and any --incoming copy).
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MIGRATE_PERMISSION_TO_GO, MIGRATE_RECEIVER_READY } from '../../src/migration/format.js';
import type { DomainInfo } from '../../src/toolstack/contract.js';
import { FIXTURES, ROOT, XENODE, xenode } from '../support/cli.js';

const T = { timeout: 180_000 };
/** How long settles() polls: most of a test's time, the rest left for its other steps. */
const SETTLE_MS = 120_000;
let dir: string;

interface HostProc {
  readonly state: string;
  readonly port: number;
  proc: ChildProcessWithoutNullStreams;
}

/** A port nothing listens on now (the host's listener must keep it across restarts). */
async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  s.close();
  return port;
}

function spawnHost(state: string, port: number): Promise<ChildProcessWithoutNullStreams> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [XENODE, 'host', '--state-dir', state, '--pool', '0', '--listen', `127.0.0.1:${port}`], { cwd: ROOT });
    let err = '';
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.includes('control socket')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`the host exited with ${code}: ${err}`)));
  });
}

async function startHost(name: string): Promise<HostProc> {
  const state = join(dir, name);
  const port = await freePort();
  return { state, port, proc: await spawnHost(state, port) };
}

async function kill(h: HostProc): Promise<void> {
  if (h.proc.exitCode !== null || h.proc.signalCode !== null) return;
  const gone = new Promise((r) => h.proc.once('exit', r));
  h.proc.kill('SIGKILL');
  await gone;
}

async function restart(h: HostProc): Promise<void> {
  await kill(h);
  h.proc = await spawnHost(h.state, h.port);
}

/** `name:state` of the domains named NAME... on a host ('-' dropped from the state). */
async function where(h: HostProc, name: string): Promise<string[]> {
  const r = await xenode(['list', '--json'], { state: h.state });
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as DomainInfo[]).filter((d) => d.name.startsWith(name)).map((d) => `${d.name}:${d.state.replace(/-/g, '')}`);
}

type Step = 'precopy' | 'ready' | 'go';

/**
 * A relay to `to` that calls `kill` once at `step`: after 64 KiB of the stream (precopy), when
 * the target's ready message comes (before passing it on), when the permission to go comes
 * (after passing it on). After the kill it passes nothing more and stops listening.
 */
async function relay(to: number, step: Step, killNow: () => Promise<void>): Promise<{ server: Server; port: number }> {
  let fired = false;
  const server = createServer((a) => {
    const b = connect(to, '127.0.0.1');
    const fire = async () => {
      fired = true;
      server.close();
      await killNow();
    };
    let forward = 0;
    a.on('data', (chunk: Buffer) => {
      if (fired) return;
      forward += chunk.length;
      b.write(chunk);
      if ((step === 'precopy' && forward > 64 << 10) || (step === 'go' && chunk.includes(MIGRATE_PERMISSION_TO_GO))) void fire();
    });
    b.on('data', (chunk: Buffer) => {
      if (fired) return;
      if (step === 'ready' && chunk.includes(MIGRATE_RECEIVER_READY)) return void fire();
      a.write(chunk);
    });
    const close = () => {
      a.destroy();
      b.destroy();
    };
    a.on('error', close).on('close', close);
    b.on('error', close).on('close', close);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

let src: HostProc;
let dst: HostProc;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xenode-mig-kill-'));
  [src, dst] = await Promise.all([startHost('a'), startHost('b')]);
});
after(async () => {
  await Promise.all([kill(src), kill(dst)]);
  rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
/** Create a guest at the source, migrate it through a relay that kills `victim` at `step`; the migrate command's result. */
async function migrateAndKill(step: Step, victim: 'source' | 'target'): Promise<{ name: string; code: number | null; stderr: string }> {
  const name = `mk${seq++}`;
  const cfg = join(dir, `${name}.cfg`);
  writeFileSync(cfg, `name = "${name}"\nkernel = "${join(FIXTURES, 'filler.ts')}"\nmemory = 32\nextra = "mb=4"\n`);
  assert.equal((await xenode(['create', cfg], { state: src.state })).code, 0);
  // 4 MiB of frames to move: the relay's pre-copy step comes well before the end of the stream.
  await settles(async () => [await filler(src, name)], ['filled']);
  const token = readFileSync(join(dst.state, 'migration-token'), 'utf8').trim();
  const r = await relay(dst.port, step, () => kill(victim === 'source' ? src : dst));
  const m = await xenode(['migrate', name, `127.0.0.1:${r.port}`, '--token', token], { state: src.state });
  r.server.close();
  return { name, code: m.code, stderr: m.stderr };
}

/** The guest's data/filler on host `h`. */
async function filler(h: HostProc, name: string): Promise<string> {
  const r = await xenode(['list', '--json', name], { state: h.state });
  const [d] = JSON.parse(r.stdout) as DomainInfo[];
  return (await xenode(['xenstore', 'read', `/local/domain/${d!.domid}/data/filler`], { state: h.state })).stdout.trim();
}

/**
 * Poll `f` until it gives `want`: a killed peer's end notices a closed connection soon, not at
 * once. Bounded by the test's own timeout, not a shorter one: each poll is a CLI process or two
 * (seconds apiece on a loaded machine), and a guest's start there takes as long as it takes.
 */
async function settles(f: () => Promise<string[]>, want: string[]): Promise<void> {
  let got: string[] = [];
  for (const end = Date.now() + SETTLE_MS; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
    got = await f();
    if (JSON.stringify(got) === JSON.stringify(want)) return;
  }
  assert.deepEqual(got, want);
}

for (const step of ['precopy', 'ready', 'go'] as const) {
  test(`kill -9 of the target host at ${step}: the domain runs on at the source, nothing at the restarted target`, T, async () => {
    const { name, code, stderr } = await migrateAndKill(step, 'target');
    assert.notEqual(code, 0);
    assert.match(stderr, /Migration failed/);
    const here = await where(src, name);
    assert.equal(here.length, 1, here.join(','));
    assert.match(here[0]!, new RegExp(`^${name}:[rb]+$`), 'running under its own name');
    assert.equal(await filler(src, name), 'filled', 'resumed in place: its memory and program as they were');
    await restart(dst);
    assert.deepEqual(await where(dst, name), []);
    assert.equal((await xenode(['destroy', name], { state: src.state })).code, 0);
  });
}

for (const step of ['precopy', 'ready'] as const) {
  test(`kill -9 of the source host at ${step}: the target destroys its --incoming copy; the restarted source has forgotten the transient domain`, T, async () => {
    const { name } = await migrateAndKill(step, 'source');
    await settles(() => where(dst, name), []);
    await restart(src);
    assert.deepEqual(await where(src, name), []);
  });
}

test('kill -9 of the source host after the permission to go: the domain runs at the target', T, async () => {
  const { name } = await migrateAndKill('go', 'source');
  await settles(async () => (await where(dst, name)).map((s) => s.replace(/:[rb]+$/, ':running')), [`${name}:running`]);
  await settles(async () => [await filler(dst, name)], ['resumed']);
  await restart(src);
  assert.deepEqual(await where(src, name), []);
  assert.equal((await xenode(['destroy', name], { state: dst.state })).code, 0);
});
