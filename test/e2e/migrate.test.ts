// Live migration between two hosts on loopback, through the command layer as `xenode migrate`
// does it: the kv-store guest moves with its state, its disk (a file both hosts see, as a
// shared SR) and its vif's MAC; xl's sender messages; and the invariant at each failure point
// we can reach in one process: a wrong token, no receiver, a name clash at the target, a target
// that reports failure (also after a create of the guest's name, or its destroy, at the source in
// the sender's rename window), a target that vanishes after the permission to go. The domain runs in
// exactly one place afterwards, every time. A destroy during the pre-copy sends no frame of the
// next domain given its memory.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { getPriority } from 'node:os';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isXenError } from '../../src/errors.js';
import {
  MIGRATE_PERMISSION_TO_GO, MIGRATE_RECEIVER_BANNER, MIGRATE_RECEIVER_READY, MIGRATE_REPORT, MIGRATE_XENODE_BUILT, MIGRATE_XENODE_SYNCED,
} from '../../src/migration/format.js';
import { migrateDomain } from '../../src/migration/migrate.js';
import { populatedPfns } from '../../src/migration/save.js';
import { CREDIT_DEFAULT_WEIGHT, GUEST_NICE, RESUME_BOOST_MS, niceForWeight } from '../../src/hypervisor/sched.js';
import { PAGE_SIZE } from '../../src/abi/xen.js';
import { geometryOf } from '../../src/migration/config.js';
import { encodeHeaders, encodePages, readImage } from '../../src/migration/image.js';
import { ByteSource } from '../../src/migration/source.js';
import { AUTH_BYTES, authLine } from '../../src/migration/wire.js';
import { parseDomainConfig } from '../../src/toolstack/domconfig.js';
import { listVifs } from '../../src/toolstack/vifs.js';
import { parseMac } from '../../src/network/mac.js';
import { SHELL_BRIDGE, preconnectFrames } from '../../src/toolstack/builder.js';
import { backendPath, frontendPath } from '../../src/drivers/xenbus.js';
import { XenbusState } from '../../src/abi/xenbus.js';
import { CB_RAM_HWM, firstRamPfn } from '../../src/hypervisor/layout.js';
import { xenode } from '../support/cli.js';
import type { DaemonRig } from '../support/host-daemon.js';
import { askKv } from '../support/kv.js';
import { hostOf, hostPairForTests } from '../support/migration-hosts.js';
import type { Host } from '../../src/toolstack/host.js';

const KV = fileURLToPath(new URL('../../../examples/kv-store/kv.ts', import.meta.url));
const MAC = '00:16:3e:3c:00:01';
const T = { timeout: 120_000 };
let a: DaemonRig, b: DaemonRig, token: string, target: string;
hostPairForTests('migrate', (p) => ({ a, b, token, target } = p));

const ask = askKv;

let seq = 0;
async function kvGuest(name: string): Promise<{ domid: number; disk: string }> {
  const disk = join(a.dir, `${name}-${seq++}.img`);
  await writeFile(disk, new Uint8Array(4 << 20));
  const cfg = a.cfgFile(name, `name = "${name}"\nkernel = "${KV}"\nmemory = 32\ndisk = [ 'vdev=xvda, target=${disk}' ]\n`
    + `vif = [ 'mac=${MAC},bridge=xenbr-mig' ]\nextra = "serve"\n`);
  const { domid } = await a.ts.call('create', { file: cfg });
  return { domid, disk };
}

/** Where a domain of this name runs: on which hosts, in which state. */
function whereIs(name: string): string[] {
  const out: string[] = [];
  for (const [label, r] of [['a', a], ['b', b]] as const) {
    for (const d of hostOf(r).hv.domains()) if (d.name.startsWith(name) && !d.dying) out.push(`${label}:${d.name}:${d.shutdownReason ?? 'running'}`);
  }
  return out;
}

test('a live migration moves the guest with its state, disk and MAC; xl\'s messages', T, async (t) => {
  const { domid } = await kvGuest('kv-mig');
  assert.equal(await ask(hostOf(a), domid, 'set colour green'), 'ok');
  const r = await a.ts.call('migrate', { domain: 'kv-mig', target, token });
  assert.deepEqual(r.messages, [
    'migration sender: Target has acknowledged transfer.',
    'migration sender: Giving target permission to start.',
    'migration sender: Target reports successful startup.',
    'Migration successful.',
  ]);
  assert.ok(r.rounds.length >= 2, `pre-copy then stop-and-copy: ${r.rounds.join(',')}`);
  assert.ok(r.rounds[0]! > 0);
  // The stop-and-copy's steps, each side's in the order they happen.
  const inOrder = (marks: Readonly<Record<string, number>> | undefined, keys: string[]) => {
    const at = keys.map((k) => marks?.[k]);
    assert.ok(at.every((t, i) => t !== undefined && (i === 0 || t >= at[i - 1]!)), `${keys.join(' <= ')}: ${JSON.stringify(marks)}`);
  };
  inOrder(r.timeline.sender, ['suspend', 'suspended', 'compared', 'lastRoundSent', 'acked', 'renamed', 'go', 'report', 'destroying', 'destroyed']);
  // The old copy's teardown waits out the target guest's boost (its first answers at the host's priority).
  assert.ok(r.timeline.sender.destroying! - r.timeline.sender.report! >= RESUME_BOOST_MS - 1, JSON.stringify(r.timeline.sender));
  inOrder(r.timeline.guest, ['asked', 'handler', 'frozen', 'quiesced', 'flushed']);
  assert.deepEqual(whereIs('kv-mig'), ['b:kv-mig:running']);
  const there = hostOf(b).hv.domains().find((d) => d.name === 'kv-mig')!;
  assert.equal(await ask(hostOf(b), there.domid, 'get colour'), 'ok green');
  assert.equal(await ask(hostOf(b), there.domid, 'get boots'), 'ok 1');
  // The resumed runtime's own steps, reported once main(os) runs and its vifs and stacks are back.
  assert.ok(await until(() => there.vcpu?.marks?.('resume') !== undefined, 10_000));
  inOrder(there.vcpu?.marks?.('resume'), ['handed', 'record', 'main']);
  // Boosted for its resume (the host's own priority), then dom0 lowers its thread to its
  // weight's (the guest never does). A runner at a guest's nice or more cannot tell them apart.
  const hostNice = getPriority();
  const want = niceForWeight(hostOf(b).config(there.domid)?.cpuWeight ?? CREDIT_DEFAULT_WEIGHT);
  if (hostNice >= GUEST_NICE) t.diagnostic(`the boost's end not checked: this runner's nice is ${hostNice}, not below a guest's (${GUEST_NICE})`);
  else if (there.vcpu?.nice?.() !== undefined) {
    assert.notEqual(want, hostNice, 'the weight\'s nice is not the boost\'s');
    assert.ok(await until(() => there.vcpu?.nice?.() === want, 10_000), `nice ${there.vcpu?.nice?.()}, want ${want}`);
  }
  const [vif] = await listVifs(hostOf(b).devices, there.domid);
  assert.equal(vif?.mac, MAC);
  await hostOf(b).destroy(there.domid);
});

test('a guest in a shared cpupool migrates with its state into the same-named pool at the target', T, async () => {
  for (const r of [a, b]) await r.ts.call('cpupoolCreate', { name: 'mig', cpus: 1 });
  const disk = join(a.dir, `kv-pool-${seq++}.img`);
  await writeFile(disk, new Uint8Array(4 << 20));
  const cfg = a.cfgFile('kv-pool-mig', `name = "kv-pool-mig"\nkernel = "${KV}"\nmemory = 32\npool = "mig"\ndisk = [ 'vdev=xvda, target=${disk}' ]\nextra = "serve"\n`);
  const { domid } = await a.ts.call('create', { file: cfg });
  assert.equal(hostOf(a).poolOf(domid), 'mig');
  assert.equal(await ask(hostOf(a), domid, 'set colour teal'), 'ok');
  const r = await a.ts.call('migrate', { domain: 'kv-pool-mig', target, token });
  assert.equal(r.messages.at(-1), 'Migration successful.');
  assert.deepEqual(whereIs('kv-pool-mig'), ['b:kv-pool-mig:running']);
  const there = hostOf(b).hv.domains().find((d) => d.name === 'kv-pool-mig')!;
  assert.equal(hostOf(b).poolOf(there.domid), 'mig');
  assert.equal(await ask(hostOf(b), there.domid, 'get colour'), 'ok teal');
  await hostOf(b).destroy(there.domid);
});

test('refused before anything happens: a wrong token, no receiver; the guest runs on at the source', T, async () => {
  const { domid } = await kvGuest('kv-refused');
  await assert.rejects(a.ts.call('migrate', { domain: domid, target, token: '0'.repeat(64) }),
    (e: Error) => isXenError(e, 'EACCES') && /refused the migration token/.test(e.message));
  await assert.rejects(a.ts.call('migrate', { domain: domid, target: '127.0.0.1:1', token }), (e: Error) => isXenError(e, 'ECONNREFUSED'));
  assert.deepEqual(whereIs('kv-refused'), ['a:kv-refused:running']);
  assert.equal(await ask(hostOf(a), domid, 'set still here'), 'ok');
  await a.ts.call('destroy', { domain: domid });
});

test('a name clash at the target: it creates nothing, and the guest runs on at the source, never stopped', T, async () => {
  const { domid } = await kvGuest('kv-clash');
  // The target already runs a domain of that name.
  const squat = b.cfgFile('squat', `name = "kv-clash"\nkernel = "${fileURLToPath(new URL('../../../test/fixtures/guests/ticker.ts', import.meta.url))}"\nmemory = 32\n`);
  const { domid: squatter } = await b.ts.call('create', { file: squat });
  // Refused before the target says it built a copy: the guest was not suspended.
  // The target's reason reaches the sender (it was only in the target's log).
  await assert.rejects(a.ts.call('migrate', { domain: domid, target, token }),
    (e: Error) => /Migration failed; the domain runs on at the sender\. \(EEXIST: the target refused the domain: Domain with name "kv-clash" already exists\.\)/.test(e.message));
  assert.deepEqual(whereIs('kv-clash'), ['a:kv-clash:running', 'b:kv-clash:running']);
  assert.equal(hostOf(b).hv.domains().filter((d) => d.name.startsWith('kv-clash')).length, 1, 'no --incoming copy left at the target');
  assert.equal(await ask(hostOf(a), domid, 'set resumed yes'), 'ok', 'the resumed guest answers');
  await b.ts.call('destroy', { domain: squatter });
  await a.ts.call('destroy', { domain: domid });
});

/** A listening target that takes the sender's auth and answers its banner, then plays `serve`. */
async function fakeTarget(serve: (sock: Socket, src: ByteSource) => Promise<void>): Promise<Server> {
  const server = createServer((sock) => {
    sock.on('error', () => {});
    const src = new ByteSource(sock, { stallMs: 20_000 });
    void (async () => {
      await src.read(AUTH_BYTES, 'auth');
      sock.write(MIGRATE_RECEIVER_BANNER);
      await serve(sock, src);
    })().catch(() => sock.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

/** A receiver that reads the whole stream as a real one would (saying it built the domain at once and answering sync records, unless `silent` about one), then plays `after`. */
async function fakeReceiver(after: (sock: Socket, src: ByteSource) => Promise<void>, silent?: 'built' | 'synced'): Promise<{ server: Server; target: string }> {
  const server = await fakeTarget(async (sock, src) => {
    if (silent !== 'built') sock.write(MIGRATE_XENODE_BUILT);
    await readImage(src, undefined, () => void (silent === undefined && sock.write(MIGRATE_XENODE_SYNCED)));
    sock.write(MIGRATE_RECEIVER_READY);
    await after(sock, src);
  });
  const addr = server.address() as { port: number };
  return { server, target: `127.0.0.1:${addr.port}` };
}

test('the target reports a failed start and hands the domain back: the sender resumes it under its name', T, async () => {
  const { domid } = await kvGuest('kv-back');
  const fake = await fakeReceiver(async (sock, src) => {
    await src.read(MIGRATE_PERMISSION_TO_GO.length, 'go');
    sock.write(Buffer.concat([MIGRATE_REPORT, Buffer.from([1]), MIGRATE_PERMISSION_TO_GO]));
  });
  await assert.rejects(a.ts.call('migrate', { domain: domid, target: fake.target, token }), /Migration failed due to problems at target/);
  assert.deepEqual(whereIs('kv-back'), ['a:kv-back:running']);
  assert.equal(await ask(hostOf(a), domid, 'set back yes'), 'ok');
  fake.server.close();
  await a.ts.call('destroy', { domain: domid });
});

// Between the sender's rename away (Host.beginRename, migrate.ts) and the target's report, the
// domain's name is free at the source and the domain is still the source's: a create of that
// name, or a destroy of the domain, may come then. With the target failing, the sender hands
// back what is left, as xl: the guest under the name away, or the destroy's ESRCH.
test("inside the sender's rename window a create takes the name at the source, and the target fails: the sender resumes its guest under the name away", T, async () => {
  const { domid } = await kvGuest('kv-taken');
  const ticker = a.cfgFile('kv-taken-squat', `name = "kv-taken"\nkernel = "${fileURLToPath(new URL('../../../test/fixtures/guests/ticker.ts', import.meta.url))}"\nmemory = 32\n`);
  let squatter: number | undefined;
  const fake = await fakeReceiver(async (sock, src) => {
    await src.read(MIGRATE_PERMISSION_TO_GO.length, 'go');
    squatter = (await a.ts.call('create', { file: ticker })).domid;
    sock.write(Buffer.concat([MIGRATE_REPORT, Buffer.from([1]), MIGRATE_PERMISSION_TO_GO]));
  });
  try {
    await assert.rejects(a.ts.call('migrate', { domain: domid, target: fake.target, token }), /Migration failed due to problems at target/);
    assert.deepEqual(whereIs('kv-taken').sort(), ['a:kv-taken--migratedaway:running', 'a:kv-taken:running']);
    assert.equal(await ask(hostOf(a), domid, 'set taken yes'), 'ok', 'the resumed guest answers');
  } finally {
    fake.server.close();
    await a.ts.call('destroy', { domain: domid }).catch(() => {});
    if (squatter !== undefined) await a.ts.call('destroy', { domain: squatter }).catch(() => {});
  }
});

test("inside the sender's rename window the domain is destroyed, and the target fails: the migration fails ESRCH, saying so", T, async () => {
  const { domid } = await kvGuest('kv-gone-window');
  const fake = await fakeReceiver(async (sock, src) => {
    await src.read(MIGRATE_PERMISSION_TO_GO.length, 'go');
    await a.ts.call('destroy', { domain: domid });
    sock.write(Buffer.concat([MIGRATE_REPORT, Buffer.from([1]), MIGRATE_PERMISSION_TO_GO]));
  });
  try {
    await assert.rejects(a.ts.call('migrate', { domain: domid, target: fake.target, token }), (e: Error) => {
      assert.match(e.message, /ESRCH: Migration failed: the domain was destroyed at the sender meanwhile/);
      return true;
    });
    assert.deepEqual(whereIs('kv-gone-window'), []);
  } finally {
    fake.server.close();
  }
});

test('a target that never says its copy is built, or that it has read the pre-copy: the guest is never stopped, the migration fails and it runs on', T, async () => {
  for (const silent of ['built', 'synced'] as const) {
    const { domid } = await kvGuest(`kv-un${silent}`);
    const fake = await fakeReceiver(async () => {}, silent);
    await assert.rejects(migrateDomain(hostOf(a), domid, fake.target, { token, stallMs: 1500 }),
      (e: Error) => isXenError(e, 'ETIMEDOUT') && new RegExp(`Migration failed; the domain runs on at the sender\\. .*${silent} message`).test(e.message));
    assert.deepEqual(whereIs(`kv-un${silent}`), [`a:kv-un${silent}:running`]);
    assert.equal(await ask(hostOf(a), domid, `set ${silent} yes`), 'ok', 'never suspended: it answers');
    fake.server.close();
    await a.ts.call('destroy', { domain: domid });
  }
});

/** After a held-target test: the target closed, and the guest destroyed if the test left it running. */
async function closeHeld(host: Host, server: Server, name: string): Promise<void> {
  server.close();
  const left = host.hv.liveDomainNamed(name);
  if (left) await host.destroy(left.domid).catch(() => {});
}

/** A target that takes the stream, each frame as last sent, and says its copy is built only when the test does. */
async function heldTarget(): Promise<{ server: Server; frames: Map<number, Uint8Array>; received: () => number; sayBuilt: () => void }> {
  const frames = new Map<number, Uint8Array>();
  let received = 0;
  const sink = {
    get: (pfn: number) => frames.get(pfn),
    set: (pfn: number, data: Uint8Array) => void (received++, frames.set(pfn, Uint8Array.from(data))),
    delete: (pfn: number) => void (received++, frames.delete(pfn)),
  };
  let sayBuilt!: () => void;
  const built = new Promise<void>((r) => (sayBuilt = r));
  const server = await fakeTarget(async (sock, src) => {
    void built.then(() => sock.write(MIGRATE_XENODE_BUILT));
    await readImage(src, () => sink);
  });
  return { server, frames, received: () => received, sayBuilt };
}

test("a destroy during the pre-copy: the stream carries none of the frames of the next domain given its memory, and the migration fails", T, async () => {
  // 4 MiB of its RAM filled with a pattern.
  const filler = fileURLToPath(new URL('../../../test/fixtures/guests/filler.ts', import.meta.url));
  const host = hostOf(a);
  const { domid } = await a.ts.call('create', { file: a.cfgFile('mig-gone', `name = "mig-gone"\nkernel = "${filler}"\nmemory = 32\nextra = "mb=4"\n`) });
  await host.xs.wait(`/local/domain/${domid}/data/filler`, (v) => v === 'filled', { timeout: 60_000 });
  const { geometry } = host.hv.domain(domid).view;
  const first = firstRamPfn(geometry);
  const populated = Atomics.load(host.hv.domain(domid).view.ctl, CB_RAM_HWM) - first;
  const { server, frames, received, sayBuilt } = await heldTarget();
  try {
    // The test says when the target's copy is built: the sender waits for it (one round, then
    // that wait) as long as the test needs, however loaded the machine.
    const migrating = migrateDomain(host, domid, `127.0.0.1:${(server.address() as AddressInfo).port}`, { token, stallMs: 60_000, maxRounds: 1 })
      .then(() => undefined, (e: Error) => e);
    let settled = false;
    void migrating.then(() => (settled = true));
    assert.ok(await until(() => received() >= populated, 20_000), `the first round is in: ${received()} of ${populated} frames`);
    // Destroyed and reaped while the sender waits for the target; a domain of its size comes next and writes its RAM.
    await host.destroy(domid);
    assert.equal(host.hv.findDomain(domid), undefined, 'reaped');
    assert.ok(await until(() => host.hv.heap.stats().scrubbingBytes === 0, 20_000), 'the scrubber is done');
    const next = host.hv.createDomain({ name: 'mig-gone-next', ramFrames: geometry.ramFrames, maxGrantFrames: geometry.maxGrantFrames });
    try {
      new Uint8Array(next.view.buffers.memory, first * PAGE_SIZE).fill(0xa5);
      assert.equal(settled, false, 'the sender still waits for the built message: its next round comes after the destroy');
      sayBuilt();
      const e = await migrating;
      const theirs = Buffer.alloc(PAGE_SIZE, 0xa5);
      let foreign = 0;
      for (const f of frames.values()) if (theirs.equals(f)) foreign++;
      assert.equal(foreign, 0, `of ${frames.size} frames at the target, none is the next domain's`);
      assert.ok(e && isXenError(e, 'ESRCH') && /the domain was destroyed at the sender/.test(e.message), `the migration fails: ${e?.message}`);
    } finally {
      await host.hv.destroyDomain(next.domid);
    }
  } finally {
    await closeHeld(host, server, 'mig-gone');
  }
});

test('a destroy while the sender waits for a target that never says its copy is built: the migration fails ESRCH, not with the wait\'s timeout', T, async () => {
  const { domid } = await kvGuest('kv-gone-wait');
  const host = hostOf(a);
  const populated = populatedPfns(host.hv.domain(domid)).length;
  const { server, received } = await heldTarget();
  try {
    // One round, then the wait for the built message, which times out 5 s after the banner: the
    // destroy begins well before (a kv guest's round takes milliseconds).
    const migrating = migrateDomain(host, domid, `127.0.0.1:${(server.address() as AddressInfo).port}`, { token, stallMs: 5000, maxRounds: 1 });
    migrating.catch(() => {}); // awaited below
    assert.ok(await until(() => received() >= populated, 5000), `the first round is in: ${received()} of ${populated} frames`);
    await host.destroy(domid);
    await assert.rejects(migrating, (e: Error) => {
      assert.ok(isXenError(e, 'ESRCH'), e.message);
      assert.match(e.message, /^ESRCH: Migration failed: the domain was destroyed at the sender meanwhile\. \(ETIMEDOUT: .*built message/);
      return true;
    });
  } finally {
    await closeHeld(host, server, 'kv-gone-wait');
  }
});

test('the target vanishes after the permission to go: the sender never resumes its copy', T, async () => {
  const { domid } = await kvGuest('kv-gone');
  const fake = await fakeReceiver(async (sock, src) => {
    await src.read(MIGRATE_PERMISSION_TO_GO.length, 'go');
    sock.destroy();
  });
  await assert.rejects(a.ts.call('migrate', { domain: domid, target: fake.target, token }), /Migration failed during final handshake[\s\S]*CHECK AT BOTH ENDS/);
  // Suspended and renamed away: it may be running at the target, so it must not run here.
  assert.deepEqual(whereIs('kv-gone'), ['a:kv-gone--migratedaway:suspend']);
  fake.server.close();
  await a.ts.call('destroy', { domain: domid });
});

test("the xenode command: save, restore and migrate print xl's messages", T, async () => {
  await kvGuest('kv-cli');
  const file = join(a.dir, 'kv-cli.save');
  const s = await xenode(['save', 'kv-cli', file], { state: a.stateDir });
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stderr, /^Saving to \/.*kv-cli\.save new xl format \(info 0x3\/0x0\/\d+\)$/m);
  assert.deepEqual(whereIs('kv-cli'), []);
  const r = await xenode(['restore', file], { state: a.stateDir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^Loading new save file \/.*kv-cli\.save \(new xl fmt info 0x3\/0x0\/\d+\)\n Savefile contains xl domain config in JSON format\nParsing config from <saved>$/m);
  assert.deepEqual(whereIs('kv-cli'), ['a:kv-cli:running']);
  const m = await xenode(['migrate', 'kv-cli', target, '--token-file', join(b.stateDir, 'migration-token')], { state: a.stateDir });
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stderr, /migration sender: Target has acknowledged transfer\.\n[\s\S]*Migration successful\.\n$/);
  assert.deepEqual(whereIs('kv-cli'), ['b:kv-cli:running']);
  const bad = await xenode(['migrate', 'kv-cli', target, '--token', 'nothex'], { state: b.stateDir });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /token/);
  await b.ts.call('destroy', { domain: 'kv-cli' });
});

/** Poll `cond` every 20 ms for at most `ms`. */
async function until(cond: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) if (cond()) return true;
  return cond();
}

const TICKER = fileURLToPath(new URL('../../../test/fixtures/guests/ticker.ts', import.meta.url));

/** A sender of our own to b: the configuration `cfg` (ticker's kernel) and its first 64 frames, nothing after. */
async function startStream(cfg: string): Promise<{ sock: Socket; src: ByteSource; config: ReturnType<typeof parseDomainConfig>['config'] }> {
  const config = parseDomainConfig(`kernel = "${TICKER}"\nmemory = 32\n${cfg}`, TICKER).config;
  const memory = new SharedArrayBuffer(geometryOf(config).end * PAGE_SIZE);
  const first = geometryOf(config).first;
  const sock = connect(b.daemon.migration!.port, '127.0.0.1');
  sock.on('error', () => {});
  await new Promise((r) => sock.once('connect', r));
  const src = new ByteSource(sock, { stallMs: 60_000 });
  sock.write(authLine(token));
  await src.read(MIGRATE_RECEIVER_BANNER.length, 'banner');
  for (const c of encodeHeaders(config)) sock.write(c);
  for (const c of encodePages(memory, Array.from({ length: 64 }, (_, i) => first + i)).chunks) sock.write(c);
  return { sock, src, config };
}

test('a stream that breaks while the target builds its --incoming copy: the copy is destroyed', T, async () => {
  const { sock } = await startStream('name = "torn"\n');
  assert.ok(await until(() => whereIs('torn').includes('b:torn--incoming:running'), 20_000), `built while the stream arrives: ${whereIs('torn').join(',')}`);
  sock.destroy();
  assert.ok(await until(() => whereIs('torn').length === 0, 20_000), `nothing is left at the target: ${whereIs('torn').join(',')}`);
});

test("the guest's vif joins the same-named bridge at the target; linked by VXLAN, a peer at the source reaches it there", T, async () => {
  const PINGABLE = fileURLToPath(new URL('../../../examples/pingable/pingable.ts', import.meta.url));
  const [va, vb] = await Promise.all([hostOf(a).switch.vtep({ address: '127.0.0.1', port: 0 }), hostOf(b).switch.vtep({ address: '127.0.0.1', port: 0 })]);
  await hostOf(a).switch.link('xenbr-vx', vb.local, { local: va.local });
  await hostOf(b).switch.link('xenbr-vx', va.local, { local: vb.local });
  const guest = (name: string, ip: string, extra = '') => a.cfgFile(name, `name = "${name}"\nkernel = "${PINGABLE}"\nmemory = 32\n`
    + `vif = [ 'bridge=xenbr-vx' ]\nextra = "ip=${ip}${extra}"\non_poweroff = "preserve"\non_crash = "preserve"\n`);
  await a.ts.call('create', { file: guest('pong-vx', '10.78.0.2') });
  await a.ts.call('migrate', { domain: 'pong-vx', target, token });
  assert.deepEqual(whereIs('pong-vx'), ['b:pong-vx:running']);
  const { domid } = await a.ts.call('create', { file: guest('ping-vx', '10.78.0.3', ' ping=10.78.0.2 count=3') });
  const text = async () => Buffer.from((await a.ts.call('consoleLog', { domain: domid })).data, 'base64').toString();
  assert.ok(await until(() => hostOf(a).hv.findDomain(domid)?.shutdownReason !== null, 60_000));
  assert.equal(hostOf(a).hv.domain(domid).shutdownReason, 'poweroff', await text());
  assert.match(await text(), /3 packets transmitted, 3 received/);
  await a.ts.call('destroy', { domain: domid });
  await b.ts.call('destroy', { domain: 'pong-vx' });
});

test("at the target the guest's MAC is announced as it resumes (QEMU's RARP): the source's bridge, linked by VXLAN, learns where it is before the guest sends a frame", T, async () => {
  const mac = '00:16:3e:3c:00:0a';
  const [va, vb] = await Promise.all([hostOf(a).switch.vtep({ address: '127.0.0.1', port: 0 }), hostOf(b).switch.vtep({ address: '127.0.0.1', port: 0 })]);
  const [link] = await Promise.all([hostOf(a).switch.link('xenbr-ann', vb.local, { local: va.local }), hostOf(b).switch.link('xenbr-ann', va.local, { local: vb.local })]);
  // filler never opens its vif: nothing it runs sends a frame from its MAC.
  const filler = fileURLToPath(new URL('../../../test/fixtures/guests/filler.ts', import.meta.url));
  const { domid } = await a.ts.call('create', { file: a.cfgFile('ann', `name = "ann"\nkernel = "${filler}"\nmemory = 32\nvif = [ 'mac=${mac},bridge=xenbr-ann' ]\nextra = "mb=1"\n`) });
  await hostOf(a).xs.wait(`/local/domain/${domid}/data/filler`, (v) => v === 'filled', { timeout: 60_000 });
  const learned = () => hostOf(a).switch.findBridge('xenbr-ann')!.fdbRows().find((r) => r.mac === parseMac(mac))?.port.name;
  assert.equal(learned(), undefined);
  await a.ts.call('migrate', { domain: domid, target, token });
  assert.deepEqual(whereIs('ann'), ['b:ann:running']);
  assert.ok(await until(() => learned() === link.name, 20_000), `the source's bridge has the MAC on ${learned()}, not on ${link.name}`);
  await b.ts.call('destroy', { domain: 'ann' });
});

test("an incoming copy's vif connects while it is parked, on the shells' bridge, in frames the stream does not reach", T, async () => {
  const { sock, src, config } = await startStream(`name = "pre"\nvif = [ 'mac=00:16:3e:3c:00:09,bridge=xenbr-pre' ]\n`);
  await src.read(MIGRATE_XENODE_BUILT.length, 'built');
  // No permission to go is ever sent: the copy stays parked and paused.
  const d = hostOf(b).hv.domains().find((x) => x.name === 'pre--incoming' && !x.dying);
  assert.ok(d, `built: ${whereIs('pre').join(',')}`);
  const be = backendPath(0, 'vif', d.domid, 0);
  await hostOf(b).xs.wait(`${be}/state`, (v) => v === String(XenbusState.Connected), { timeout: 60_000 });
  await hostOf(b).xs.wait(`${frontendPath(d.domid, 'vif', 0)}/state`, (v) => v === String(XenbusState.Connected), { timeout: 60_000 });
  assert.equal(await hostOf(b).xs.read(`${be}/bridge`), SHELL_BRIDGE);
  assert.ok(d.paused && d.name === 'pre--incoming');
  // Its rings and rx buffers are above every frame the stream may write.
  assert.ok(Atomics.load(d.view.ctl, CB_RAM_HWM) > geometryOf(config).end - preconnectFrames(config), 'the runtime populated frames of its own');
  sock.destroy();
  assert.ok(await until(() => whereIs('pre').length === 0, 20_000), `nothing is left at the target: ${whereIs('pre').join(',')}`);
});

/**
 * Migrate fixtures/guests/filler.ts (memory = 32: 2,048 RAM frames, the top 258 kept for the vif
 * at the target) with `extra`; returns the names b's host created, and checks its pages arrived
 * intact and its vif connected at the resume, plugged where its configuration says.
 */
async function migrateFiller(name: string, extra: string): Promise<string[]> {
  const filler = fileURLToPath(new URL('../../../test/fixtures/guests/filler.ts', import.meta.url));
  const cfg = a.cfgFile(name, `name = "${name}"\nkernel = "${filler}"\nmemory = 32\nvif = [ 'bridge=xenbr-${name}' ]\nextra = "${extra}"\n`);
  const { domid } = await a.ts.call('create', { file: cfg });
  await hostOf(a).xs.wait(`/local/domain/${domid}/data/filler`, (v) => v === 'filled', { timeout: 60_000 });
  const created: string[] = [];
  const onCreated = (_: number, n: string) => void created.push(n);
  hostOf(b).on('created', onCreated);
  try {
    await a.ts.call('migrate', { domain: domid, target, token });
  } finally {
    hostOf(b).off('created', onCreated);
  }
  assert.deepEqual(whereIs(name), [`b:${name}:running`]);
  const there = hostOf(b).hv.domains().find((x) => x.name === name && !x.dying)!;
  assert.equal(await hostOf(b).xs.wait(`/local/domain/${there.domid}/data/filler`, (v) => v !== 'filled', { timeout: 60_000 }), 'resumed');
  const be = backendPath(0, 'vif', there.domid, 0);
  await hostOf(b).xs.wait(`${be}/state`, (v) => v === String(XenbusState.Connected), { timeout: 60_000 });
  assert.equal(await hostOf(b).xs.read(`${be}/bridge`), `xenbr-${name}`);
  await b.ts.call('destroy', { domain: name });
  return created;
}

test("a guest whose own vif's frames lie in those kept for the vifs at the target: dropped there, the copy stays parked", T, async () => {
  // 6 MiB of I/O pages, then its vif's rings and buffers (and its suspend record) at the top.
  assert.deepEqual(await migrateFiller('topvif', 'mb=6 netlast'), ['topvif--incoming']);
});

test('a guest whose pages grew into the frames kept for the vifs: the target builds its copy again from the RAM received, intact', T, async () => {
  // Its vif's rings and buffers, then 6 MiB of I/O pages reaching into the top 258 frames (those
  // of the source's vif are free at the target).
  assert.deepEqual(await migrateFiller('grown', 'mb=6 net'), ['grown--incoming', 'grown--incoming'], 'built parked, then again');
});
