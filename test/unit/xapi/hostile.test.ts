// XenAPI against callers who try to hurt others (docs/SECURITY.md, "XenAPI"): a login flood
// from one source or many gets a bounded number of password checks (scrypt shares libuv's pool
// with guests' disks); a read-only user's long polls and calls do not take every place from
// the others; its logins do not end other users' sessions; a vm-admin names kernels in the
// host's kernel directories only, and learns nothing of files elsewhere.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sourceKey, SourceConnections } from '../../../src/xapi/conns.js';
import { XapiError } from '../../../src/xapi/errors.js';
import { checkKernelDirs } from '../../../src/xapi/kernels.js';
import { TooManyCalls, type Peer } from '../../../src/xapi/service.js';
import { GUESTS, jsonCall, post, startInProcessXapi, type InProcessXapi } from '../../support/xapi.js';
import { waitFor } from '../../support/wait.js';

const LOGIN = 'session.login_with_password';
const peer = (source: string): Peer => ({ source, local: false });

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof TooManyCalls) return e.name;
    assert.ok(e instanceof XapiError, String(e));
    return e.params[1] ?? e.code;
  }
}

let x: InProcessXapi;

before(async () => {
  x = await startInProcessXapi('xapi-hostile', {
    sessions: { idleMs: 3600_000, perUser: 3 }, checks: { concurrent: 2, queued: 4, perSource: 3 }, callsPerUser: 4, http: { maxInFlight: 8 }, events: { maxWaitMs: 30_000 },
  });
});
after(() => x.close());

test('a burst of logins from one source gets `failures` password checks, not one per attempt', async () => {
  const got = await Promise.all(Array.from({ length: 40 }, () => outcome(x.service.call(LOGIN, ['nosuchuser', 'guess'], peer('10.1.0.1')))));
  const checked = got.filter((r) => r === 'Authentication failure').length;
  assert.equal(checked, 5, JSON.stringify([...new Set(got)]));
  assert.equal(got.filter((r) => /too many logins at once from 10\.1\.0\.1/.test(r)).length, 35);
  // Then the source waits out its window, the right password included; another source does not.
  await x.users.add('alice', 'read-only', 'pw');
  assert.match(await outcome(x.service.call(LOGIN, ['alice', 'pw'], peer('10.1.0.1'))), /too many failed logins/);
  assert.equal(await outcome(x.service.call(LOGIN, ['alice', 'pw'], peer('10.1.0.2'))), 'ok');
});

test('logins from many sources: a bounded number of password checks at once host-wide and a bounded queue, the rest refused unchecked', async () => {
  const { checks } = x.users;
  const { concurrent, queued } = checks.limits;
  const n = concurrent + queued + 6;
  await x.users.add('bob', 'read-only', 'pw');
  const flood = Array.from({ length: n }, (_, i) => outcome(x.service.call(LOGIN, ['nosuchuser', 'guess'], peer(`10.2.0.${i}`))));
  // A known user with the right password is refused alike while the queue is full.
  const bob = outcome(x.service.call(LOGIN, ['bob', 'pw'], peer('10.3.0.1')));
  assert.equal(checks.running, concurrent);
  assert.equal(checks.waiting, queued);
  assert.match(await bob, /too many logins at once on this host/);
  const got = await Promise.all(flood);
  assert.equal(got.filter((r) => r === 'Authentication failure').length, concurrent + queued);
  assert.equal(got.filter((r) => /too many logins at once on this host/.test(r)).length, 6);
  // Refused unchecked is not a failed guess: the source may log in at once.
  assert.equal(await outcome(x.service.call(LOGIN, ['bob', 'pw'], peer(`10.2.0.${n - 1}`))), 'ok');
  assert.equal(checks.running + checks.waiting, 0);
});

test('logins from many sources take turns by address: a flood from fewer addresses than the queue has places cannot keep an honest one out', async () => {
  const y = await startInProcessXapi('xapi-hostile-turns', { checks: { concurrent: 2, queued: 8, perSource: 2 } });
  try {
    await y.users.add('carol', 'read-only', 'pw');
    // Six addresses, four guesses each, one address after the other (each within its failures).
    const flood = Array.from({ length: 24 }, (_, i) => ({ source: `10.6.0.${i >> 2}`, got: outcome(y.service.call(LOGIN, ['nosuchuser', 'guess'], peer(`10.6.0.${i >> 2}`))) }));
    assert.equal(await outcome(y.service.call(LOGIN, ['carol', 'pw'], peer('10.7.0.1'))), 'ok');
    const got = await Promise.all(flood.map(async (f) => ({ source: f.source, got: await f.got })));
    // Every address had at least one guess checked; the rest were refused unchecked.
    for (let s = 0; s < 6; s++) assert.ok(got.some((g) => g.source === `10.6.0.${s}` && g.got === 'Authentication failure'), `10.6.0.${s} had no check`);
    assert.ok(got.every((g) => g.got === 'Authentication failure' || /too many logins at once (on this host|from 10\.6\.0\.[0-5]):/.test(g.got)), JSON.stringify([...new Set(got.map((g) => g.got))]));
  } finally {
    await y.close();
  }
});

test("a read-only user's logins end only its own oldest sessions", async () => {
  const admin = await x.login('pool-admin');
  const ro = await x.login('read-only');
  const more = [];
  for (let i = 0; i < 5; i++) more.push(await jsonCall(x.tcp, LOGIN, ['u-read-only', 'read-only']));
  assert.equal(x.service.sessions.has(admin), true);
  assert.equal(x.service.sessions.has(ro), false);
  assert.deepEqual(more.map((r) => x.service.sessions.has(r.result as string)), [false, false, true, true, true]);
  assert.ok(Array.isArray((await jsonCall(x.tcp, 'VM.get_all', [admin])).result));
});

test("a read-only user's long polls and calls do not take every place: the others' calls are served", async () => {
  const admin = await x.login('pool-admin');
  const ro = await x.login('read-only');
  const token = ((await jsonCall(x.tcp, 'event.from', [ro, ['vm'], '', 0])).result as { token: string }).token;
  // As many event.from long polls as the host runs calls at once (maxInFlight), all waiting.
  const parked = Array.from({ length: 8 }, () => jsonCall(x.tcp, 'event.from', [ro, ['pool'], token, 30]));
  assert.ok(await waitFor(() => x.service.events.waiting === 8, 10_000), `${x.service.events.waiting} waiting`);
  const r = await post(x.tcp, '/jsonrpc', JSON.stringify({ jsonrpc: '2.0', method: 'VM.get_all', params: [admin], id: 1 }), 'application/json');
  assert.equal(r.status, 200, r.body);
  // Calls that run: 4 at once per user (callsPerUser), the rest of a burst refused; another user is not.
  const burst = await Promise.all(Array.from({ length: 10 }, () => outcome(x.service.call('VM.get_all_records', [ro], peer('10.4.0.1')))));
  assert.deepEqual([burst.filter((o) => o === 'ok').length, burst.filter((o) => o === 'TooManyCalls').length], [4, 6], JSON.stringify(burst));
  assert.equal((await Promise.all(Array.from({ length: 4 }, () => outcome(x.service.call('VM.get_all_records', [admin], peer('10.4.0.2')))))).filter((o) => o === 'ok').length, 4);
  x.service.events.close();
  assert.ok((await Promise.all(parked)).every((p) => p.result !== undefined));
});

test('a long poll whose client hangs up ends: its place among the waiters is free again', async () => {
  const ro = await x.login('read-only');
  const token = ((await jsonCall(x.tcp, 'event.from', [ro, ['vm'], '', 0])).result as { token: string }).token;
  const body = JSON.stringify({ jsonrpc: '2.0', method: 'event.from', params: [ro, ['pool'], token, 30], id: 1 });
  const req = httpsRequest({ host: '127.0.0.1', port: x.tcp.port, method: 'POST', path: '/jsonrpc', rejectUnauthorized: false, headers: { 'Content-Type': 'application/json' } });
  req.on('error', () => {});
  req.end(body);
  assert.ok(await waitFor(() => x.service.events.waiting === 1, 10_000), `${x.service.events.waiting} waiting`);
  req.destroy();
  assert.ok(await waitFor(() => x.service.events.waiting === 0, 10_000), `${x.service.events.waiting} still waiting after the hang-up`);
});

test('PV_kernel: only kernels in the host kernel directories; a file elsewhere is refused alike, whether it exists or not', async () => {
  const s = await x.login('vm-admin');
  const secret = join(x.dir, 'secret.js');
  writeFileSync(secret, 'export function main() {}\n');
  const kdir = join(x.dir, 'kernels');
  mkdirSync(kdir);
  symlinkSync(secret, join(kdir, 'escape.js'));
  // A kernel directory may be a link to one (the state dir's guest/ to the shipped examples).
  const linked = join(x.dir, 'linked');
  symlinkSync(GUESTS, linked);
  const create = (k: string, svc = x.service) => svc.call('VM.create', [s, { name_label: 'k', PV_kernel: k, memory_static_max: String(32 << 20) }], peer('10.5.0.1'));
  const refusal = async (k: string) => {
    try {
      await create(k);
    } catch (e) {
      assert.ok(e instanceof XapiError);
      return [e.code, e.params[0], e.params[2]];
    }
    assert.fail(`${k} was taken`);
  };
  const outside = await refusal(secret);
  assert.deepEqual(outside.slice(0, 2), ['INVALID_VALUE', 'PV_kernel']);
  assert.match(outside[2]!, /Is not in any of the allowed kernel directories/);
  for (const k of [join(x.dir, 'missing.js'), '/etc/passwd', `${GUESTS}/../../../package.json`, 'ticker.ts']) assert.deepEqual(await refusal(k), outside, k);
  // A kernel directory's link that leads out of it is refused with the same words.
  const withDir = await startInProcessXapi('xapi-hostile-k', { kernelDirs: [kdir, linked], stateDir: x.dir });
  try {
    const admin = await withDir.login('vm-admin');
    const r = await jsonCall(withDir.tcp, 'VM.create', [admin, { name_label: 'k', PV_kernel: join(kdir, 'escape.js'), memory_static_max: String(32 << 20) }]);
    assert.deepEqual([r.error?.message, r.error?.data[0]], ['INVALID_VALUE', 'PV_kernel']);
    // The directories as the state dir's: where the host's user lives is not the caller's business.
    assert.equal(r.error!.data[2], 'Is not in any of the allowed kernel directories: [<state>/kernels; <state>/linked]');
    const missing = await jsonCall(withDir.tcp, 'VM.create', [admin, { name_label: 'k', PV_kernel: join(kdir, 'nope.js'), memory_static_max: String(32 << 20) }]);
    assert.deepEqual([missing.error?.data[0], missing.error?.data[2]], ['PV_kernel', 'File does not exist']);
    // One in a kernel directory is taken.
    const ok = await jsonCall(withDir.tcp, 'VM.create', [admin, { name_label: 'k', PV_kernel: join(linked, 'ticker.ts'), memory_static_max: String(32 << 20) }]);
    assert.equal(typeof ok.result, 'string', JSON.stringify(ok.error));
    // It reads back as it was set, not as the path it leads to.
    assert.equal((await jsonCall(withDir.tcp, 'VM.get_PV_kernel', [admin, ok.result])).result, join(linked, 'ticker.ts'));
    // Checked again at VM.start: a kernel whose file became a link out of the directory since VM.create is refused.
    const swap = join(kdir, 'swap.js');
    writeFileSync(swap, 'export function main() {}\n');
    const later = await jsonCall(withDir.tcp, 'VM.create', [admin, { name_label: 'swap', PV_kernel: swap, memory_static_max: String(32 << 20) }]);
    assert.equal(typeof later.result, 'string', JSON.stringify(later.error));
    rmSync(swap);
    symlinkSync(secret, swap);
    const start = await jsonCall(withDir.tcp, 'VM.start', [admin, later.result, false, false]);
    assert.deepEqual([start.error?.message, start.error?.data[0]], ['INVALID_VALUE', 'PV_kernel'], JSON.stringify(start));
  } finally {
    await withDir.close();
  }
});

test("one source cannot take the listener's connections: past its share they are closed at once, its own logged-in long polls go on; every loopback address is that one source", async () => {
  // 12 connections on the listener; 6 per source, 3 of them before a login.
  const y = await startInProcessXapi('xapi-hostile-conns', { http: { maxConnections: 12, sources: { perSource: 6, unauthenticatedPerSource: 3 } }, events: { maxWaitMs: 30_000 } });
  const held: Socket[] = [];
  try {
    const a = { ...y.tcp, localAddress: '127.0.0.2' };
    await y.users.add('ann', 'read-only', 'pw');
    const ann = (await jsonCall(a, LOGIN, ['ann', 'pw'])).result as string;
    const token = ((await jsonCall(a, 'event.from', [ann, ['vm'], '', 0])).result as { token: string }).token;
    // The source's logged-in clients wait for events: 4 connections, each counted as logged in once its call came.
    // (One after another: a connection counts as not logged in until its call arrives.)
    const polls = [];
    for (let i = 1; i <= 4; i++) {
      polls.push(jsonCall(a, 'event.from', [ann, ['pool'], token, 30]));
      assert.ok(await waitFor(() => y.service.events.waiting === i, 10_000), `${y.service.events.waiting} waiting`);
    }
    // Then it opens 20 more from another loopback address (any local user can bind any of them)
    // and says nothing: 2 fit the one loopback share, the other 18 are closed at once.
    let closed = 0;
    for (let i = 0; i < 20; i++) {
      const s = connect({ host: '127.0.0.1', port: y.tcp.port, localAddress: '127.0.0.3' });
      s.on('error', () => {});
      s.on('close', () => closed++);
      held.push(s);
    }
    assert.ok(await waitFor(() => closed === 18, 10_000), `${closed} of 20 closed`);
    // Another source is served meanwhile (the same bounds, by source).
    const other = new SourceConnections({ perSource: 6, unauthenticatedPerSource: 3 });
    for (let i = 0; i < 3; i++) assert.ok(other.admit(sourceKey(`127.0.0.${i + 2}`)));
    assert.equal(other.admit(sourceKey('::1')), undefined);
    assert.ok(other.admit(sourceKey('10.0.0.1')));
    // The long polls answer.
    y.service.events.close();
    assert.ok((await Promise.all(polls)).every((p) => p.result !== undefined));
  } finally {
    for (const s of held) s.destroy();
    await y.close();
  }
});

test('sourceKey: an IPv4-mapped address is its IPv4 one, IPv6 counts by /64, all loopback is one source', () => {
  assert.equal(sourceKey('::ffff:10.1.2.3'), '10.1.2.3');
  assert.equal(sourceKey('::FFFF:10.1.2.3'), '10.1.2.3');
  assert.equal(sourceKey('10.1.2.3'), '10.1.2.3');
  for (const a of ['127.0.0.1', '127.9.8.7', '::ffff:127.0.0.2', '::1', '0:0:0:0:0:0:0:1']) assert.equal(sourceKey(a), 'loopback', a);
  for (const a of ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:0:0:0:9', '2001:db8:1:2::1.2.3.4']) assert.equal(sourceKey(a), '2001:db8:1:2::/64', a);
  assert.equal(sourceKey('2001:db8:1:3::1'), '2001:db8:1:3::/64');
  assert.equal(sourceKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(sourceKey('unix'), 'unix');
});

test('logins are throttled and queued by source: many loopback addresses, or many addresses of one /64, are one', async () => {
  const y = await startInProcessXapi('xapi-hostile-keys', { checks: { concurrent: 1, queued: 8, perSource: 2 } });
  try {
    for (const [kind, many] of [['loopback', (i: number) => `127.0.1.${i}`], ['/64', (i: number) => `2001:db8:5:6::${i + 1}`]] as const) {
      const got = await Promise.all(Array.from({ length: 6 }, (_, i) => outcome(y.service.call(LOGIN, ['nosuchuser', 'guess'], peer(many(i))))));
      // One running and two waiting for the one source; the others refused unchecked as that source's.
      assert.equal(got.filter((r) => r === 'Authentication failure').length, 3, `${kind}: ${JSON.stringify(got)}`);
      assert.equal(got.filter((r) => /too many logins at once from (loopback|2001:db8:5:6::\/64)/.test(r)).length, 3, `${kind}: ${JSON.stringify(got)}`);
    }
  } finally {
    await y.close();
  }
});

test('PV_kernel is checked again at VM.resume and VM.pool_migrate: a kernel that became a link out of the directory is refused, and the VM stays as it was', async () => {
  const kdir = join(x.dir, 'kernels-resume');
  mkdirSync(kdir);
  const kernel = join(kdir, 'ticker.ts');
  const swap = (to: 'outside' | 'back') => {
    rmSync(kernel);
    if (to === 'outside') symlinkSync(join(GUESTS, 'ticker.ts'), kernel);
    else writeFileSync(kernel, readFileSync(join(GUESTS, 'ticker.ts')));
  };
  writeFileSync(kernel, readFileSync(join(GUESTS, 'ticker.ts')));
  const y = await startInProcessXapi('xapi-hostile-resume', { kernelDirs: [kdir], stateDir: x.dir });
  try {
    const s = await y.login('vm-admin');
    const op = await y.login('pool-admin');
    const call = async (method: string, ...params: unknown[]) => {
      const r = await jsonCall(y.tcp, method, [op, ...params]);
      return r.error ? [r.error.message, r.error.data[0]] : r.result;
    };
    const vm = (await jsonCall(y.tcp, 'VM.create', [s, { name_label: 'resumed', PV_kernel: kernel, memory_static_max: String(32 << 20) }])).result as string;
    assert.equal(typeof vm, 'string');
    assert.equal(await call('VM.start', vm, false, false), '');
    swap('outside');
    const host = (await call('host.get_all') as string[])[0];
    assert.deepEqual(await call('VM.pool_migrate', vm, host, {}), ['INVALID_VALUE', 'PV_kernel']);
    // Nor suspended (its resume would be refused), nor rebooted (the new domain loads it by path).
    const domid = await call('VM.get_domid', vm);
    for (const m of ['VM.suspend', 'VM.hard_reboot', 'VM.clean_reboot']) assert.deepEqual(await call(m, vm), ['INVALID_VALUE', 'PV_kernel'], m);
    assert.equal(await call('VM.get_power_state', vm), 'Running');
    assert.equal(await call('VM.get_domid', vm), domid);
    swap('back');
    assert.equal(await call('VM.suspend', vm), '');
    // Its suspend image is no disk: no VBD attaches it (a guest that could write it would choose what the VM resumes with).
    const other = (await jsonCall(y.tcp, 'VM.create', [s, { name_label: 'other', PV_kernel: kernel, memory_static_max: String(32 << 20) }])).result as string;
    const image = await call('VM.get_suspend_VDI', vm) as string;
    const vbd = await jsonCall(y.tcp, 'VBD.create', [s, { VM: other, VDI: image, userdevice: '1', mode: 'RW', type: 'Disk' }]);
    assert.deepEqual(vbd.error && [vbd.error.message, ...vbd.error.data], ['VDI_INCOMPATIBLE_TYPE', image, 'suspend'], JSON.stringify(vbd));
    swap('outside');
    assert.deepEqual(await call('VM.resume', vm, false, false), ['INVALID_VALUE', 'PV_kernel']);
    assert.deepEqual(await call('VM.resume_on', vm, host, false, false), ['INVALID_VALUE', 'PV_kernel']);
    assert.equal(await call('VM.get_power_state', vm), 'Suspended');
    // Back in the directory, it resumes.
    swap('back');
    assert.equal(await call('VM.resume', vm, false, false), '');
    assert.equal(await call('VM.get_power_state', vm), 'Running');
    assert.equal(await call('VM.hard_shutdown', vm), '');
  } finally {
    await y.close();
  }
});

test('a kernel directory that others can write in (or that is not ours) is refused, at start for the configured ones and at each use', async () => {
  const kdir = join(x.dir, 'kernels-shared');
  mkdirSync(kdir, { mode: 0o700 });
  writeFileSync(join(kdir, 'k.js'), 'export default function main() {}\n');
  const y = await startInProcessXapi('xapi-hostile-kdir', { kernelDirs: [kdir], stateDir: x.dir });
  try {
    const s = await y.login('vm-admin');
    const create = () => jsonCall(y.tcp, 'VM.create', [s, { name_label: 'k', PV_kernel: join(kdir, 'k.js'), memory_static_max: String(32 << 20) }]);
    assert.equal(typeof (await create()).result, 'string');
    // Made writable by the group (or others) since: whoever could write there would choose what runs.
    for (const mode of [0o770, 0o707]) {
      chmodSync(kdir, mode);
      const r = await create();
      assert.deepEqual(r.error?.data.slice(0, 1), ['PV_kernel'], JSON.stringify(r));
      assert.match(r.error!.data[2]!, new RegExp(`^The kernel directory <state>/kernels-shared is writable by other users \\(mode ${mode.toString(8)}\\)`));
      await assert.rejects(checkKernelDirs([kdir]), /is writable by other users/);
    }
    chmodSync(kdir, 0o700);
    assert.equal(typeof (await create()).result, 'string');
    await checkKernelDirs([kdir]);
    // Below it too (OpenSSH's StrictModes): a subdirectory others can write in, a kernel file they can write.
    const sub = join(kdir, 'sub');
    mkdirSync(sub, { mode: 0o700 });
    writeFileSync(join(sub, 'k.js'), 'export default function main() {}\n');
    const named = async (path: string) => (await jsonCall(y.tcp, 'VM.create', [s, { name_label: 'k', PV_kernel: path, memory_static_max: String(32 << 20) }]));
    assert.equal(typeof (await named(join(sub, 'k.js'))).result, 'string');
    chmodSync(sub, 0o777);
    const r1 = await named(join(sub, 'k.js'));
    assert.match(r1.error?.data[2] ?? '', /^Its directory <state>\/kernels-shared\/sub is writable by other users \(mode 777\)/, JSON.stringify(r1));
    chmodSync(sub, 0o700);
    chmodSync(join(kdir, 'k.js'), 0o666);
    const r2 = await create();
    assert.match(r2.error?.data[2] ?? '', /^The kernel file is writable by other users \(mode 666\)/, JSON.stringify(r2));
    chmodSync(join(kdir, 'k.js'), 0o644);
    // Above it: a directory others can write in (not sticky) could have it renamed away and another put in its place.
    const open = join(x.dir, 'open');
    mkdirSync(join(open, 'kernels'), { recursive: true, mode: 0o700 });
    writeFileSync(join(open, 'kernels', 'k.js'), 'export default function main() {}\n');
    chmodSync(open, 0o777);
    await assert.rejects(checkKernelDirs([join(open, 'kernels')]), new RegExp(`is inside ${open}, which is writable by other users and not sticky`));
    chmodSync(open, 0o1777);
    await checkKernelDirs([join(open, 'kernels')]);
    await assert.rejects(checkKernelDirs(['kernels-shared']), /give an absolute path/);
    // Nor one that holds the state dir (or the home directory): every file there would be a kernel callers could name.
    await assert.rejects(checkKernelDirs([x.dir], [x.dir]), new RegExp(`kernel directory ${x.dir} holds ${x.dir}`));
    await assert.rejects(checkKernelDirs([kdir], [join(kdir, 'state')]), /holds/);
    await checkKernelDirs([kdir], [x.dir]);
    await assert.rejects(checkKernelDirs([join(x.dir, 'nope')]), /does not exist/);
  } finally {
    await y.close();
  }
});
