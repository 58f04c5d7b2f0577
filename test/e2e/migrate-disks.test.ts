// xenode migrate --with-disks between two hosts on loopback: the kv-store guest, on a raw, VHD or qcow2 VDI of
// the source's SR, keeps writing (each write flushed before it is acknowledged) while its disk is
// mirrored and copied and its memory moves; afterwards every acknowledged write is in the log on
// the destination's VDI (a fresh guest replays it there), and the source VDI is gone. A failure
// (the destination refuses the disk, dies in the middle of the copy, or refuses the domain)
// leaves the guest running at the source on its own disk, with everything it wrote, and no VDI
// left at the destination.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ByteSource } from '../../src/migration/source.js';
import { openDisk } from '../../src/storage/open.js';
import { AUTH_BYTES, authLine } from '../../src/migration/wire.js';
import type { Host } from '../../src/toolstack/host.js';
import { xenode } from '../support/cli.js';
import { offerOn } from '../support/disk-offer.js';
import type { DaemonRig } from '../support/host-daemon.js';
import { askKv } from '../support/kv.js';
import { hostOf, hostPairForTests } from '../support/migration-hosts.js';

const KV = fileURLToPath(new URL('../../../examples/kv-store/kv.ts', import.meta.url));
const TICKER = fileURLToPath(new URL('../../../test/fixtures/guests/ticker.ts', import.meta.url));
const T = { timeout: 120_000 };
let a: DaemonRig, b: DaemonRig, token: string, target: string;
hostPairForTests('migdisk', (p) => ({ a, b, token, target } = p));

const ask = askKv;

async function defaultSr(r: DaemonRig): Promise<string> {
  const s = hostOf(r).storage;
  const ref = await s.defaultSr();
  return s.db.read((tx) => tx.SR.get(ref).uuid);
}

const vdiUuids = async (r: DaemonRig): Promise<string[]> => (await r.ts.call('vdiList', {})).map((v) => v.uuid).sort();

/** A kv-store guest on a new VDI (raw unless `format` says) of the rig's default SR. */
async function kvGuest(r: DaemonRig, name: string, vdi?: string, format = 'raw'): Promise<{ domid: number; vdi: string }> {
  vdi ??= (await r.ts.call('vdiCreate', { sr: await defaultSr(r), name: `${name}-disk`, size: '4M', format })).uuid;
  const cfg = r.cfgFile(name, `name = "${name}"\nkernel = "${KV}"\nmemory = 32\ndisk = [ 'vdev=xvda, target=vdi:${vdi}' ]\nextra = "serve"\n`);
  const { domid } = await r.ts.call('create', { file: cfg });
  return { domid, vdi };
}

/** Set keys until `stop` says so (bounded); the keys the guest acknowledged. */
async function writeUntil(host: Host, domid: number, prefix: string, stop: () => boolean): Promise<string[]> {
  const acked: string[] = [];
  for (let i = 0; i < 2000 && !stop(); i++) {
    const r = await ask(host, domid, `set ${prefix}${i} v${i}`, 3000).catch(() => 'gone');
    if (r === 'gone') break;
    assert.equal(r, 'ok');
    acked.push(`${prefix}${i}`);
  }
  return acked;
}

/** Every key's value as a fresh boot of kv-store replays it from the disk (`vdi` on `r`). */
async function replayed(r: DaemonRig, name: string, vdi: string, keys: string[]): Promise<void> {
  const { domid } = await kvGuest(r, name, vdi);
  const lost: string[] = [];
  for (const k of keys) if (await ask(hostOf(r), domid, `get ${k}`) !== `ok v${k.replace(/^\D+/, '')}`) lost.push(k);
  await r.ts.call('destroy', { domain: domid });
  assert.deepEqual(lost, [], `acknowledged keys lost in a replay on ${name} (of ${keys.length})`);
}

/** Debian's verdict on an image (qemu-img check for qcow2, which has no check for VHD: vhdiinfo reads it): its exit code, 0 clean; null without the tool. */
function imageCheck(file: string, format: string): number | null {
  const [tool, ...args] = format === 'vhd' ? ['/usr/bin/vhdiinfo', file] : ['/usr/bin/qemu-img', 'check', '-f', format, file];
  if (!existsSync(tool!)) return null;
  return spawnSync(tool!, args, { stdio: 'ignore' }).status;
}

for (const format of ['raw', 'vhd', 'qcow2']) {
test(`--with-disks, a ${format} VDI: it moves with the running guest into a ${format} VDI; no acknowledged write is lost`, T, async () => {
  const name = `kv-${format}`;
  const { domid, vdi } = await kvGuest(a, name, undefined, format);
  for (let i = 0; i < 20; i++) assert.equal(await ask(hostOf(a), domid, `set pre${i} v${i}`), 'ok');
  let done = false;
  const writing = writeUntil(hostOf(a), domid, 'during', () => done);
  const r = await a.ts.call('migrate', { domain: name, target, token, withDisks: true }).finally(() => (done = true));
  const during = await writing;
  assert.equal(r.messages.at(-1), 'Migration successful.');
  assert.ok(during.length > 0, 'the guest wrote while it migrated');
  const there = hostOf(b).hv.domains().find((d) => d.name === name)!;
  assert.ok(there, 'it runs at the destination');
  const destVdi = hostOf(b).config(there.domid)!.disks[0]!.target!.replace(/^vdi:/, '');
  assert.notEqual(destVdi, vdi);
  assert.ok((await vdiUuids(b)).includes(destVdi));
  const { params } = await hostOf(b).vdis.diskParams(destVdi, 'ro');
  assert.equal(params.slice(0, params.indexOf(':')), format, 'the destination VDI has the source\'s format');
  assert.ok(!(await vdiUuids(a)).includes(vdi), 'the source VDI is gone');
  assert.equal(await ask(hostOf(b), there.domid, 'get pre3'), 'ok v3');
  // The last writes acknowledged before the suspend are in the state the guest resumed with
  // (kv-store holds the puts that come after it handed its state over, unacknowledged): if one
  // is missing only from the replay below, the disk lost it.
  for (const k of during.slice(-5)) assert.equal(await ask(hostOf(b), there.domid, `get ${k}`), `ok v${k.slice('during'.length)}`, `key ${k} in the resumed guest's state`);
  await b.ts.call('destroy', { domain: there.domid });
  if (format !== 'raw') assert.ok([0, null].includes(imageCheck(params.slice(params.indexOf(':') + 1), format)), `Debian's tools read the ${format} image as sound`);
  await replayed(b, `${name}-replay`, destVdi, [...Array.from({ length: 20 }, (_, i) => `pre${i}`), ...during]);
  await b.ts.call('vdiDestroy', { vdi: destVdi });
});
}

test('the old copy destroyed by someone else after the target reported (an operator, or the host closing): the migration still succeeds and the source VDI goes', T, async () => {
  const name = 'kv-gone';
  const { domid, vdi } = await kvGuest(a, name);
  const h = hostOf(a);
  const destroy = h.destroy;
  // The operator's destroy of NAME--migratedaway ends just before the sender's own.
  h.destroy = async (id: number, keepVm?: boolean) => {
    if (id === domid) await destroy.call(h, id, keepVm);
    return destroy.call(h, id, keepVm);
  };
  let r;
  try {
    r = await a.ts.call('migrate', { domain: name, target, token, withDisks: true });
  } finally {
    h.destroy = destroy;
  }
  assert.equal(r.messages.at(-1), 'Migration successful.');
  assert.ok(r.messages.some((m) => /was destroyed already/.test(m)), 'the sender says why it destroyed nothing');
  assert.ok(!(await vdiUuids(a)).includes(vdi), 'the source VDI is gone');
  const there = hostOf(b).hv.domains().find((d) => d.name === name)!;
  assert.ok(there, 'it runs at the destination');
  const destVdi = hostOf(b).config(there.domid)!.disks[0]!.target!.replace(/^vdi:/, '');
  await b.ts.call('destroy', { domain: there.domid });
  await b.ts.call('vdiDestroy', { vdi: destVdi });
});

/** Wait (bounded) until `cond` holds. */
async function until(cond: () => Promise<boolean>, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (await cond()) return true;
  return cond();
}

/** After a failed migration: the guest runs at the source on its own disk, which holds every write. */
async function stillAtSource(name: string, domid: number, vdi: string, keys: string[]): Promise<void> {
  assert.equal(hostOf(a).hv.domain(domid).name, name);
  assert.equal(hostOf(a).hv.domain(domid).shutdownReason, null);
  assert.equal(await ask(hostOf(a), domid, 'set after0 v0'), 'ok');
  await a.ts.call('destroy', { domain: domid });
  await replayed(a, `${name}-replay`, vdi, [...keys, 'after0']);
  await a.ts.call('vdiDestroy', { vdi });
}

test('--with-disks failures: refused, the destination dying mid-copy, a name clash; the guest runs on at the source', T, async () => {
  const bVdis = await vdiUuids(b);
  const keys = ['k1', 'k2', 'k3'];
  // The destination refuses the disk (no such SR): nothing was switched.
  const g1 = await kvGuest(a, 'kv-refuse');
  for (const k of keys) assert.equal(await ask(hostOf(a), g1.domid, `set ${k} v${k.slice(1)}`), 'ok');
  await assert.rejects(a.ts.call('migrate', { domain: 'kv-refuse', target, token, withDisks: true, vdiMap: { [g1.vdi]: 'no-such-sr' } }), /cannot take VDI/);
  await stillAtSource('kv-refuse', g1.domid, g1.vdi, keys);

  // A destination that takes the disk, then dies after the first record of its copy.
  const fake = createServer((sock) => {
    sock.on('error', () => {});
    const src = new ByteSource(sock, { stallMs: 20_000 });
    void (async () => {
      await src.read(AUTH_BYTES, 'auth');
      const n = (await src.read(4, 'offer length')).readUInt32LE(0);
      await src.read(n, 'offer');
      const body = Buffer.from(JSON.stringify({ vdi: '00000000-0000-4000-8000-000000000000' }));
      const len = Buffer.alloc(4);
      len.writeUInt32LE(body.length);
      sock.write(Buffer.concat([len, body]));
      await src.read(15, 'a record');
      sock.destroy();
    })().catch(() => sock.destroy());
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
  const g2 = await kvGuest(a, 'kv-dies');
  for (const k of keys) assert.equal(await ask(hostOf(a), g2.domid, `set ${k} v${k.slice(1)}`), 'ok');
  await assert.rejects(a.ts.call('migrate', { domain: 'kv-dies', target: `127.0.0.1:${(fake.address() as { port: number }).port}`, token, withDisks: true }));
  fake.close();
  await stillAtSource('kv-dies', g2.domid, g2.vdi, keys);

  // The disk is copied, then the destination refuses the domain (its name is taken there): the copy there goes.
  const { domid: squatter } = await b.ts.call('create', { file: b.cfgFile('squat', `name = "kv-clash"\nkernel = "${TICKER}"\nmemory = 32\n`) });
  const g3 = await kvGuest(a, 'kv-clash');
  for (const k of keys) assert.equal(await ask(hostOf(a), g3.domid, `set ${k} v${k.slice(1)}`), 'ok');
  await assert.rejects(a.ts.call('migrate', { domain: 'kv-clash', target, token, withDisks: true }), /Migration failed; the domain runs on at the sender/);
  await b.ts.call('destroy', { domain: squatter });
  assert.ok(await until(async () => (await vdiUuids(b)).join() === bVdis.join(), 10_000), 'no VDI is left at the destination');
  await stillAtSource('kv-clash', g3.domid, g3.vdi, keys);
});

/** A disk connection to the destination by hand: the preamble, then `offer` (length-prefixed JSON); its answer. */
async function offerDisk(offer: unknown, tok = token): Promise<{ sock: Socket; src: ByteSource; answer: Record<string, unknown> }> {
  const sock = connect(b.daemon.migration!.port, '127.0.0.1');
  sock.on('error', () => {});
  await new Promise((r) => sock.once('connect', r));
  return { sock, ...(await offerOn(sock, tok, offer)) };
}

test('a disk connection with bad input: refused token, malformed offer, a record past the end; no VDI is left', T, async () => {
  const vdis = await vdiUuids(b);
  const wrong = await offerDisk({}, 'f'.repeat(64));
  assert.deepEqual(wrong.answer, { refused: true });
  wrong.sock.destroy();
  const offer = { vdi: '11111111-1111-4111-8111-111111111111', name: 'x', sr: null, size: 1 << 20, format: 'raw' };
  for (const bad of [{ ...offer, size: -1 }, { ...offer, format: 'vmdk' }, { ...offer, size: 1000 }, 'no']) {
    const r = await offerDisk(bad);
    assert.equal(r.answer['error'], 'a malformed disk offer');
    r.sock.destroy();
  }
  const r = await offerDisk(offer);
  assert.equal(typeof r.answer['vdi'], 'string');
  assert.ok((await vdiUuids(b)).includes(r.answer['vdi'] as string));
  const rec = Buffer.alloc(15);
  rec[0] = 0x4d; // a mirrored write
  rec.writeUInt32LE(1, 1);
  rec.writeUIntLE(2047, 5, 6); // the last sector, but two sectors long
  rec.writeUInt32LE(1024, 11);
  r.sock.write(Buffer.concat([rec, Buffer.alloc(1024)]));
  await assert.rejects(r.src.read(5, 'ack'), /truncated|EIO/);
  assert.ok(await until(async () => (await vdiUuids(b)).join() === vdis.join(), 10_000), 'the VDI made for it is deleted');
});

test('the receiver writes base records at once, and a mirrored write always wins over a base record it overlaps', T, async () => {
  const offer = { vdi: '22222222-2222-4222-8222-222222222222', name: 'order', sr: null, size: 1 << 20, format: 'raw' };
  const r = await offerDisk(offer);
  const uuid = r.answer['vdi'] as string;
  const record = (type: number, id: number, sector: number, fill: number, sectors: number) => {
    const h = Buffer.alloc(15);
    h[0] = type;
    h.writeUInt32LE(id, 1);
    h.writeUIntLE(sector, 5, 6);
    h.writeUInt32LE(sectors * 512, 11);
    return Buffer.concat([h, Buffer.alloc(sectors * 512, fill)]);
  };
  // A mirrored write before the base record that covers it, two base records, and mirrored
  // writes into a base record the receiver is (or may be) still writing: all sent at once.
  r.sock.write(Buffer.concat([
    record(0x4d, 1, 5, 0xa5, 1), record(0x42, 2, 0, 0xbb, 1024), record(0x42, 3, 1024, 0xbd, 1024),
    record(0x4d, 4, 10, 0xcc, 2), record(0x4d, 5, 2000, 0xcd, 1), record(0x44, 6, 0, 0, 0),
  ]));
  const acks = new Set<number>();
  for (let i = 0; i < 6; i++) {
    const a = await r.src.read(5, 'ack');
    assert.equal(a[4], 0, `record ${a.readUInt32LE(0)} failed`);
    acks.add(a.readUInt32LE(0));
  }
  assert.deepEqual([...acks].sort(), [1, 2, 3, 4, 5, 6]);
  const { params } = await hostOf(b).vdis.diskParams(uuid, 'ro');
  const disk = await openDisk(params, { readOnly: true });
  try {
    const at = async (sector: number) => {
      const buf = new Uint8Array(512);
      await disk.read(sector, [buf]);
      assert.ok(buf.every((x) => x === buf[0]), `sector ${sector} is one write's`);
      return buf[0];
    };
    assert.deepEqual(await Promise.all([4, 5, 6, 9, 10, 11, 12, 1999, 2000, 2001].map(at)), [0xbb, 0xa5, 0xbb, 0xbb, 0xcc, 0xcc, 0xbb, 0xbd, 0xcd, 0xbd]);
  } finally {
    await disk.close();
  }
  r.sock.destroy(); // no commit: the VDI goes
  assert.ok(await until(async () => !(await vdiUuids(b)).includes(uuid), 10_000), 'the uncommitted VDI is deleted');
});

test('--with-disks, five VDIs: the disks belong to the migration, not to slots of their own (the receiver takes 4 at once); all five move', T, async () => {
  const name = 'kv-five';
  const sr = await defaultSr(a);
  const vdis: string[] = [];
  for (let i = 0; i < 5; i++) vdis.push((await a.ts.call('vdiCreate', { sr, name: `${name}-disk${i}`, size: '4M', format: 'raw' })).uuid);
  const disks = vdis.map((v, i) => `'vdev=xvd${'abcde'[i]}, target=vdi:${v}'`).join(', ');
  const { domid } = await a.ts.call('create', { file: a.cfgFile(name, `name = "${name}"\nkernel = "${KV}"\nmemory = 32\ndisk = [ ${disks} ]\nextra = "serve"\n`) });
  for (let i = 0; i < 5; i++) assert.equal(await ask(hostOf(a), domid, `set five${i} v${i}`), 'ok');
  // Before, the fifth disk's connection was told the receiver was busy.
  const r = await a.ts.call('migrate', { domain: name, target, token, withDisks: true });
  assert.equal(r.messages.at(-1), 'Migration successful.');
  const there = hostOf(b).hv.domains().find((d) => d.name === name)!;
  assert.ok(there, 'it runs at the destination');
  const moved = hostOf(b).config(there.domid)!.disks.map((d) => d.target!.replace(/^vdi:/, ''));
  assert.equal(moved.length, 5);
  const bVdis = await vdiUuids(b);
  for (const v of moved) assert.ok(bVdis.includes(v) && !vdis.includes(v), `disk ${v} is a new VDI at the destination`);
  const aVdis = await vdiUuids(a);
  assert.ok(vdis.every((v) => !aVdis.includes(v)), 'the source VDIs are gone');
  for (let i = 0; i < 5; i++) assert.equal(await ask(hostOf(b), there.domid, `get five${i}`), `ok v${i}`);
  await b.ts.call('destroy', { domain: there.domid });
  for (const v of moved) await b.ts.call('vdiDestroy', { vdi: v });
});

/** Whether a memory stream showing `tok` is let in (given the receiver's banner) rather than refused; its connection then goes. */
async function memoryLetIn(tok: string): Promise<boolean> {
  const sock = connect(b.daemon.migration!.port, '127.0.0.1');
  sock.on('error', () => {});
  await new Promise((r) => sock.once('connect', r));
  sock.write(authLine(tok));
  const head = await new ByteSource(sock, { stallMs: 10_000 }).read(4, 'banner');
  sock.destroy();
  return head.toString('latin1') === 'xl m';
}

test("a migration's token opens its other disks and one memory stream, no more, and none once its first disk's connection is gone", T, async () => {
  const vdis = await vdiUuids(b);
  const offer = (i: number) => ({ vdi: `33333333-3333-4333-8333-33333333333${i}`, name: `bound${i}`, sr: null, size: 1 << 20, format: 'raw' });
  // Three disks: two more disk connections and a memory stream.
  const first = await offerDisk({ ...offer(0), disks: 3 });
  const mig = first.answer['migration'];
  assert.ok(typeof mig === 'string' && /^[0-9a-f]{64}$/.test(mig), `the first disk is given the migration's token: ${JSON.stringify(first.answer)}`);
  // A joined connection cannot announce a migration of its own.
  const again = await offerDisk({ ...offer(1), disks: 64 }, mig);
  assert.equal(again.answer['error'], 'a malformed disk offer', 'a connection with the migration token announces nothing');
  again.sock.destroy();
  // That refusal used one of its two other disks; the other is taken here.
  const second = await offerDisk(offer(2), mig);
  assert.equal(typeof second.answer['vdi'], 'string');
  const third = await offerDisk(offer(3), mig);
  assert.deepEqual(third.answer, { refused: true }, 'past what it announced the token opens no disk');
  third.sock.destroy();
  for (const c of [first, second]) c.sock.destroy();
  assert.ok(await until(async () => (await vdiUuids(b)).join() === vdis.join(), 10_000), 'the VDIs made for them are deleted');
  // Its memory stream was never taken: only the first disk's end keeps it out.
  assert.equal(await memoryLetIn(mig), false, 'the first disk gone, its token opens nothing');
  assert.ok(await until(async () => (await vdiUuids(b)).join() === vdis.join(), 10_000), 'no VDI is left');
});

test('the xenode command: --with-disks reaches the migration; a bad --vdi-map is refused', T, async () => {
  const { domid } = await a.ts.call('create', { file: a.cfgFile('tick-cli', `name = "tick-cli"\nkernel = "${TICKER}"\nmemory = 32\n`) });
  const tokenFile = join(b.stateDir, 'migration-token');
  const m = await xenode(['migrate', 'tick-cli', target, '--token-file', tokenFile, '--with-disks'], { state: a.stateDir });
  assert.notEqual(m.code, 0);
  assert.match(m.stderr, /--with-disks: domain 'tick-cli' has no writable disk with target=vdi:/);
  const bad = await xenode(['migrate', 'tick-cli', target, '--token-file', tokenFile, '--with-disks', '--vdi-map', 'nosr'], { state: a.stateDir });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--vdi-map wants VDI=SR/);
  assert.equal(hostOf(a).hv.domain(domid).shutdownReason, null, 'it runs on at the source');
  await a.ts.call('destroy', { domain: domid });
});
