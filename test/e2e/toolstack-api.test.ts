// The command API over the control socket, and bad input of every kind: each mistake gets a
// clear error, and afterwards the host is checked for consistency (hypervisor, xenstore,
// consoles and the API's own view agree).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { XenError, isXenError } from '../../src/errors.js';
import { RemoteToolstack } from '../../src/toolstack/client.js';
import { HostDaemon } from '../../src/toolstack/daemon.js';
import { type DaemonRig, startDaemonRig } from '../support/host-daemon.js';
import type { HostEvent } from '../../src/toolstack/contract.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/guests/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'xenode-api-'));
const stateDir = join(dir, 'state');
let daemon: HostDaemon;
let ts: RemoteToolstack;
let rig: DaemonRig;

before(async () => {
  rig = await startDaemonRig('api', { dir, poolSize: 1, shutdownGraceMs: 5000 });
  ({ daemon, ts } = rig);
});
after(() => rig.close());

/** Every test is bounded: a hang fails it instead of stalling the suite. */
// A bound, not a speed check: these take 10–20 s alone and longer on a loaded machine.
const T = { timeout: 120_000 };

let seq = 0;
/** A config file for a fixture kernel; returns its absolute path. */
function cfg(kernel: string, extra = '', name = `g${seq++}`): string {
  const file = join(dir, `${name}-${seq++}.cfg`);
  writeFileSync(file, `name = "${name}"\nkernel = "${join(FIXTURES, kernel)}"\nmemory = 32\n${extra}`);
  return file;
}

function rejectsWith(p: Promise<unknown>, errno: string, message: RegExp): Promise<void> {
  return assert.rejects(p, (e: Error) => {
    assert.ok(isXenError(e), `not a XenError: ${e.name}: ${e.message}`);
    assert.equal(e.errno, errno, e.message);
    assert.match(e.message, message);
    return true;
  });
}

/** The host agrees with itself: every live guest is listed once, has its xenstore nodes and console; nothing else is left. */
async function assertConsistent(): Promise<void> {
  const { host } = daemon.local;
  const live = host.hv.domains().filter((d) => d.domid !== 0 && !d.dying);
  const names = live.map((d) => d.name);
  assert.equal(new Set(names).size, names.length, `duplicate names: ${names.join(', ')}`);
  const listed = await ts.call('list', {});
  assert.deepEqual(listed.map((d) => d.domid), host.hv.domains().map((d) => d.domid));
  const inStore = (await host.xs.directory('/local/domain').catch(() => [])).map(Number).filter((id) => id !== 0);
  assert.deepEqual(inStore.sort((a, b) => a - b), live.map((d) => d.domid).sort((a, b) => a - b), 'xenstore /local/domain');
  const vms = await host.xs.directory('/vm').catch(() => []);
  assert.deepEqual(vms.sort(), live.map((d) => d.uuid).sort(), 'xenstore /vm');
  for (const d of live) {
    assert.equal(await host.xs.read(`/local/domain/${d.domid}/name`), d.name);
    assert.ok(host.config(d.domid), `d${d.domid} has no config`);
    assert.ok(host.consoled.has(d.domid), `d${d.domid} has no console`);
  }
}

/** Destroy every guest, so that each test starts from an empty host. */
async function clean(): Promise<void> {
  for (const d of await ts.call('list', {})) if (d.domid !== 0) await ts.call('destroy', { domain: d.domid }).catch(() => {});
  await assertConsistent();
}

test('the control socket is 0600 and the log is JSON lines', T, async () => {
  assert.equal(statSync(daemon.paths.controlSocket).mode & 0o777, 0o600);
  const { domid, ms } = await ts.call('create', { file: cfg('ticker.ts', '', 'logged') });
  assert.ok(ms.setup > 0 && ms.vcpu > 0 && ms.main > 0, JSON.stringify(ms));
  await ts.call('destroy', { domain: 'logged' });
  await daemon.local.log.flushed(); // written in the background
  const lines = readFileSync(daemon.paths.logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as HostEvent);
  assert.ok(lines.some((e) => e.type === 'host' && e.state === 'started'));
  assert.ok(lines.some((e) => e.type === 'created' && e.domid === domid && e.name === 'logged' && /^\d{4}-\d\d-\d\dT/.test(e.time)));
  assert.ok(lines.some((e) => e.type === 'destroyed' && e.domid === domid));
  await assertConsistent();
});

test('malformed configurations: file:line:column errors, and nothing is created', T, async () => {
  const bad = (text: string) => {
    const file = join(dir, `bad-${seq++}.cfg`);
    writeFileSync(file, text);
    return file;
  };
  const kernel = join(FIXTURES, 'ticker.ts');
  await assert.rejects(ts.call('create', { file: bad(`name = "x"\nkernel = "${kernel}"\nmemory = [ 1,\n`) }), /bad-\d+\.cfg:\d+:\d+: /);
  await assert.rejects(ts.call('create', { file: bad(`name = "x"\nkernel = "${kernel}"\nmemory = "lots"\n`) }), /bad-\d+\.cfg:3:\d+: memory: /);
  await assert.rejects(ts.call('create', { file: bad(`kernel = "${kernel}"\n`) }), /has no name/);
  await assert.rejects(ts.call('create', { file: bad(`name = "x"\nkernel = "${kernel}"\ndisk = [ 'vdev=xvda,target=/a', 'vdev=xvda,target=/b' ]\n`) }), /disk: .*already used/);
  await assert.rejects(ts.call('create', { file: bad(`name = "x"\nkernel = "${join(dir, 'none.ts')}"\n`) }), /none\.ts: no such file/);
  await assert.rejects(ts.call('create', { file: cfg('nomain.ts') }), /does not export a main function/);
  await rejectsWith(ts.call('create', { file: join(dir, 'missing.cfg') }), 'ENOENT', /missing\.cfg does not exist/);
  await rejectsWith(ts.call('create', { file: 'relative.cfg' }), 'EINVAL', /absolute path/);
  assert.deepEqual((await ts.call('list', {})).map((d) => d.name), ['Domain-0']);
  await assertConsistent();
});

test('names are unique, also between creates that race', T, async () => {
  await ts.call('create', { file: cfg('ticker.ts', '', 'dup') });
  await rejectsWith(ts.call('create', { file: cfg('ticker.ts', '', 'dup') }), 'EEXIST', /named 'dup' already exists/);
  const results = await Promise.allSettled([0, 1, 2].map(() => ts.call('create', { file: cfg('ticker.ts', '', 'twin') })));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  for (const r of results) if (r.status === 'rejected') assert.ok(isXenError(r.reason, 'EEXIST'), String(r.reason));
  await assertConsistent();
  await clean();
});

test('unknown domains, by name and by id', T, async () => {
  await rejectsWith(ts.call('destroy', { domain: 'nosuch' }), 'ESRCH', /no domain named 'nosuch': `xenode list` shows the domains/);
  await rejectsWith(ts.call('pause', { domain: 4242 }), 'ESRCH', /no domain with id 4242/);
  await rejectsWith(ts.call('list', { domains: ['Domain-0', 'nosuch'] }), 'ESRCH', /nosuch/);
  await rejectsWith(ts.call('consoleLog', { domain: '999' }), 'ESRCH', /id 999/);
  await rejectsWith(ts.console('nosuch', { onOutput() {}, onEnd() {} }), 'ESRCH', /nosuch/);
  await assertConsistent();
});

test('commands on a domain in the wrong state', T, async () => {
  const { domid } = await ts.call('create', { file: cfg('ticker.ts', '', 'state') });
  await rejectsWith(ts.call('unpause', { domain: domid }), 'EINVAL', /not paused/);
  await ts.call('pause', { domain: 'state' });
  assert.match((await ts.call('list', { domains: ['state'] }))[0]!.state, /^--p---$/);
  await rejectsWith(ts.call('shutdown', { domain: 'state' }), 'EINVAL', /paused and cannot act on a poweroff request: unpause it first/);
  await ts.call('unpause', { domain: 'state' });
  await rejectsWith(ts.call('pause', { domain: 0 }), 'EPERM', /Domain-0 cannot be paused/);
  await rejectsWith(ts.call('destroy', { domain: 'Domain-0' }), 'EPERM', /Domain-0 cannot be destroyed/);
  await rejectsWith(ts.call('shutdown', { domain: 0 }), 'EPERM', /Domain-0/);
  await rejectsWith(ts.call('consoleLog', { domain: 0 }), 'EINVAL', /Domain-0 has no PV console/);
  await rejectsWith(ts.call('rename', { domain: 'state', name: 'Domain-0' }), 'EEXIST', /already exists/);
  await rejectsWith(ts.call('rename', { domain: 'state', name: '123' }), 'EINVAL', /only digits/);
  // A migration's switch asks synchronously: refused at once, nothing changed.
  assert.throws(() => void daemon.local.host.beginRename(domid, 'Domain-0'), (e: Error) => isXenError(e, 'EEXIST'));
  assert.equal(daemon.local.host.hv.domain(domid).name, 'state');
  await ts.call('rename', { domain: 'state', name: 'renamed' });
  assert.equal(await daemon.local.host.xs.read(`/local/domain/${domid}/name`), 'renamed');

  // A crashed guest kept by on_crash=preserve has shut down: asking it again is an error.
  const seen: HostEvent[] = [];
  const sub = await ts.events((e) => seen.push(e));
  const crashed = await ts.call('create', { file: cfg('crash.ts', 'on_crash = "preserve"\n', 'kept') }).catch((e: Error) => e);
  // Its main() ran before it crashed, so the create itself succeeded.
  assert.ok(!(crashed instanceof Error), String(crashed));
  while (!seen.some((e) => e.type === 'shutdown' && e.name === 'kept')) await new Promise((r) => setTimeout(r, 10));
  sub.close();
  assert.equal((await ts.call('list', { domains: ['kept'] }))[0]!.state, '---sc-');
  await rejectsWith(ts.call('shutdown', { domain: 'kept' }), 'EINVAL', /already shut down \(crash\): destroy it/);
  await assertConsistent();
  await clean();
});

test('a guest that dies before main() runs fails its create with what it printed', T, async () => {
  const file = join(dir, 'early.ts');
  writeFileSync(file, "throw new Error('dead on arrival');\nexport default async function main() {}\n");
  const cfgFile = join(dir, 'early.cfg');
  writeFileSync(cfgFile, `name = "early"\nkernel = "${file}"\n`);
  await rejectsWith(ts.call('create', { file: cfgFile }), 'ENOEXEC', /'early' \(id \d+\) shut down \(crash\) before its main\(\) ran: .*dead on arrival/);
  // on_crash=destroy runs after the create failed; under load it may not be done yet.
  for (let i = 0; i < 100 && (await ts.call('list', {})).some((d) => d.name === 'early'); i++) await new Promise((r) => setTimeout(r, 100));
  await assertConsistent();
});

/** A raw connection to the control socket, for what a well-behaved client never sends. */
function raw(): Promise<{ sock: Socket; lines: () => Promise<string[]> }> {
  return new Promise((resolve, reject) => {
    const sock = connect(daemon.paths.controlSocket);
    let buf = '';
    sock.on('data', (b) => (buf += b.toString()));
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.once('error', reject);
    sock.once('connect', () => resolve({
      sock,
      lines: async () => {
        await closed;
        return buf.split('\n').filter(Boolean);
      },
    }));
  });
}

test('garbage on the wire gets error replies; an endless line gets the client hung up on', T, async () => {
  const c = await raw();
  c.sock.write('not json\n{"id":1,"op":"fly"}\n{"id":2,"op":"list","args":[]}\n{"id":3,"op":"list","args":{"colour":"red"}}\n');
  c.sock.write('{"id":4,"op":"destroy","args":{"domain":{"evil":true}}}\n{"id":5,"op":"pause","args":{"domain":-1}}\n');
  c.sock.end('{"id":6,"op":"info"}\n');
  const replies = (await c.lines()).map((l) => JSON.parse(l) as { id: number; ok: boolean; error?: { errno: string; message: string } });
  const byId = new Map(replies.map((r) => [r.id, r]));
  assert.equal(byId.get(0)?.error?.errno, 'EINVAL');
  assert.equal(byId.get(1)?.error?.errno, 'ENOSYS');
  assert.match(byId.get(2)!.error!.message, /arguments must be an object/);
  assert.match(byId.get(3)!.error!.message, /unknown argument 'colour'/);
  assert.match(byId.get(4)!.error!.message, /domain must be a domain name or id/);
  assert.equal(byId.get(5)?.error?.errno, 'EINVAL');
  assert.equal(byId.get(6)?.ok, true);

  const big = await raw();
  big.sock.on('error', () => {});
  big.sock.write(`{"id":1,"op":"list","args":{"x":"${'a'.repeat(2 << 20)}`);
  const [reply] = await big.lines();
  assert.match(reply!, /E2BIG/);
  // Others are served as before.
  assert.equal((await ts.call('info', {})).domains, 1);
  await assertConsistent();
});

test('a client that disconnects mid-command: the command completes, and nothing is half done', T, async () => {
  const created = new Promise<number>((resolve) => {
    void ts.events((e) => {
      if (e.type === 'created' && e.name === 'orphan') resolve(e.domid);
    });
  });
  const c = await raw();
  c.sock.write(`${JSON.stringify({ id: 1, op: 'create', args: { file: cfg('ticker.ts', '', 'orphan') } })}\n`);
  c.sock.destroy();
  const domid = await created;
  assert.equal((await ts.call('lookup', { domain: 'orphan' })).domid, domid);
  await assertConsistent();

  // A console viewer that vanishes leaves the console to the next one.
  const v = await raw();
  v.sock.write(`${JSON.stringify({ id: 1, op: 'console', args: { domain: 'orphan' } })}\n`);
  await new Promise((r) => v.sock.once('data', r));
  v.sock.destroy();
  const out: Buffer[] = [];
  let ended = false;
  const session = await ts.console('orphan', { onOutput: (d) => out.push(Buffer.from(d)), onEnd: () => (ended = true) });
  while (!Buffer.concat(out).toString().includes('tick')) await new Promise((r) => setTimeout(r, 10));
  await ts.call('destroy', { domain: 'orphan' });
  while (!ended) await new Promise((r) => setTimeout(r, 10));
  session.close();
  await assertConsistent();
});

test('two clients racing to destroy one domain: one does it, the other is told', T, async () => {
  const { domid } = await ts.call('create', { file: cfg('ticker.ts', '', 'racer') });
  const other = await RemoteToolstack.connect(stateDir);
  const results = await Promise.allSettled([ts.call('destroy', { domain: domid }), other.call('destroy', { domain: 'racer' })]);
  other.close();
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(results));
  const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  assert.ok(isXenError(lost.reason, 'ESRCH') && /already being destroyed|no domain/.test((lost.reason as XenError).message), String(lost.reason));
  await assertConsistent();
});

test('consoles: replay of the kept log, input, several viewers one after another', T, async () => {
  await ts.call('create', { file: cfg('echo.ts', '', 'echo') });
  // main() has been called when create returns; what it prints arrives soon after.
  const kept = async () => Buffer.from((await ts.call('consoleLog', { domain: 'echo' })).data, 'base64').toString();
  while (!(await kept()).includes('echo ready on echo')) await new Promise((r) => setTimeout(r, 10));
  for (let viewer = 0; viewer < 2; viewer++) {
    let out = '';
    const s = await ts.console('echo', { onOutput: (d) => (out += Buffer.from(d).toString()), onEnd() {} }, { replay: true });
    // The replayed log comes first, though perhaps after the attach has returned.
    while (!out.includes('echo ready')) await new Promise((r) => setTimeout(r, 10));
    assert.ok(out.startsWith('echo ready'), out);
    s.write(Buffer.from(`hello ${viewer}`));
    while (!out.includes(`got: hello ${viewer}`)) await new Promise((r) => setTimeout(r, 10));
    s.close();
  }
  await clean();
});

test('stopping a host: guests that power off go at once; a hung one is destroyed after the grace period', T, async () => {
  const other = await HostDaemon.start({ stateDir: join(dir, 'stop'), poolSize: 0, shutdownGraceMs: 5_000 });  // long enough for polite to power off on a loaded machine
  const api = other.local.api;
  await api.call('create', { file: cfg('ticker.ts', '', 'polite') });
  await api.call('create', { file: cfg('stubborn.ts', '', 'stubborn') });
  const seen: HostEvent[] = [];
  await api.events((e) => seen.push(e));
  await other.stop();
  const polite = seen.find((e) => e.type === 'shutdown' && e.name === 'polite');
  assert.ok(polite && polite.type === 'shutdown' && polite.reason === 'poweroff', 'polite did not power off');
  assert.ok(!seen.some((e) => e.type === 'shutdown' && e.name === 'stubborn'), JSON.stringify(seen.filter((e) => e.type === 'shutdown')));
  assert.ok(seen.some((e) => e.type === 'destroyed' && e.name === 'stubborn'), 'stubborn was not destroyed');
  assert.deepEqual(other.local.host.hv.domains().map((d) => d.domid), [0]);
  await assert.rejects(RemoteToolstack.connect(join(dir, 'stop')), /no host running/);
});

test("xentop's block counters: blkback's rd_req, wr_req, rd_sect and wr_sect for the disks dom0 serves", T, async () => {
  const { domid } = await ts.call('create', { file: cfg('diskio.ts', "disk = [ 'vdev=xvda, target=ram:1M' ]\n", 'diskio') });
  await daemon.local.host.xs.wait(`/local/domain/${domid}/data/diskio`, (v) => v === 'done', { timeout: 20_000 });
  const [d] = await ts.call('list', { domains: [domid] });
  assert.equal(d!.vbds, 1);
  assert.deepEqual(d!.vbdStats, { oo: 0, rd: 2, wr: 3, rsect: 16, wsect: 24 });
  const [dom0] = await ts.call('list', { domains: [0] });
  assert.equal(dom0!.vbdStats, null, 'dom0 has no disks');
  await ts.call('destroy', { domain: domid });
  await assertConsistent();
});
