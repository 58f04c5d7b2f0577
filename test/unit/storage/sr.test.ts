// SRs and VDIs on the host database: the default SR made once, directory and RAM SRs, VDIs
// created, listed, resized and destroyed with their images, sr-scan reconciling records with
// files without deleting any, and user input (names, paths, sizes, formats) validated.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, test } from 'node:test';
import { isXenError } from '../../../src/errors.js';
import { SrExists, Storage, checkName, type ScanReport } from '../../../src/storage/sr.js';
import { Vdis, parseVirtualSize, type VdiView } from '../../../src/storage/vdi.js';
import { SqliteHostDb } from '../../../src/toolstack/db/sqlite.js';
import { Host } from '../../../src/toolstack/host.js';
import { targetPath } from '../../../src/toolstack/images.js';

const dir = mkdtempSync(join(tmpdir(), 'xenode-sr-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A host's storage in a fresh state dir; `inUse` lists the uuids a guest uses. */
function rig() {
  const state = join(dir, `s${n++}`);
  mkdirSync(state);
  const db = SqliteHostDb.open(join(state, 'host.db'));
  const storage = new Storage(db, join(state, 'images'));
  const inUse = new Set<string>();
  const vdis = new Vdis(storage, async (v) => (inUse.has(v.uuid) ? ["domain 1 ('g') as xvda"] : []));
  return { state, db, storage, vdis, inUse, images: join(state, 'images') };
}

async function fails(p: Promise<unknown>, errno: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.ok(isXenError(e, errno as never), `${e.name}: ${e.message}`);
    assert.match(e.message, message);
    return true;
  });
}

test('the default SR is made once, with its directory, even when asked for at once by many', async () => {
  const r = rig();
  const refs = await Promise.all(Array.from({ length: 5 }, () => r.storage.defaultSr()));
  assert.equal(new Set(refs).size, 1);
  const list = await r.storage.list();
  assert.equal(list.length, 1);
  assert.equal(list[0]!.record.name_label, 'default');
  assert.equal(list[0]!.record.type, 'file');
  assert.equal(list[0]!.path, r.images);
  assert.ok(statSync(r.images).isDirectory());
  assert.equal(await r.storage.resolve('default'), refs[0]);
  assert.equal(await r.storage.resolve(list[0]!.record.uuid), refs[0]);
  await r.db.close();
});

test('sr-create: a directory SR (made if absent) and a RAM SR; clashes and bad input refused', async () => {
  const r = rig();
  const fast = await r.storage.create({ name: 'fast', type: 'file', path: join(r.state, 'fast') });
  assert.ok(statSync(join(r.state, 'fast')).isDirectory());
  assert.ok(fast.record.physical_size > 0);
  const mem = await r.storage.create({ name: 'mem', type: 'ram' });
  assert.equal(mem.path, null);
  assert.deepEqual((await r.storage.list()).map((s) => s.record.name_label), ['default', 'fast', 'mem']);
  await fails(r.storage.create({ name: 'fast', type: 'ram' }), 'EEXIST', /an SR named 'fast' exists already/);
  await fails(r.storage.create({ name: 'fast', type: 'file', path: join(r.state, 'fast-again') }), 'EEXIST', /exists already/);
  assert.equal(existsSync(join(r.state, 'fast-again')), false);
  await fails(r.storage.create({ name: 'inside', type: 'file', path: join(r.state, 'fast', 'sub') }), 'EEXIST', /overlaps the directory of SR 'fast'/);
  await fails(r.storage.create({ name: 'outside', type: 'file', path: r.state }), 'EEXIST', /is not empty/);
  // A directory that once held an SR's (gone since) is empty: the overlap check refuses it.
  rmSync(join(r.state, 'fast'), { recursive: true });
  await fails(r.storage.create({ name: 'again', type: 'file', path: join(r.state, 'fast') }), 'EEXIST', /overlaps the directory of SR 'fast'/);
  await fails(r.storage.create({ name: 'rel', type: 'file', path: 'fast2' }), 'EINVAL', /must be an absolute path/);
  await fails(r.storage.create({ name: 'nopath', type: 'file' }), 'EINVAL', /needs path=/);
  await fails(r.storage.create({ name: 'rampath', type: 'ram', path: '/x' }), 'EINVAL', /a RAM SR has no path/);
  writeFileSync(join(r.state, 'plain'), '');
  await fails(r.storage.create({ name: 'file', type: 'file', path: join(r.state, 'plain') }), 'EINVAL', /plain is not a directory/);
  // An existing directory must be empty (FileSR's SRExists): not even a dot file, and nothing is recorded.
  const home = join(r.state, 'home');
  mkdirSync(home);
  writeFileSync(join(home, 'authorized_keys'), 'ssh-ed25519 AAAA admin@host\n');
  await assert.rejects(r.storage.create({ name: 'home', type: 'file', path: home }), (e: Error) => e instanceof SrExists && /home is not empty/.test(e.message));
  rmSync(join(home, 'authorized_keys'));
  writeFileSync(join(home, '.profile'), '');
  await fails(r.storage.create({ name: 'home', type: 'file', path: home }), 'EEXIST', /is not empty: an SR's directory must be new or empty/);
  assert.deepEqual((await r.storage.list()).map((s) => s.record.name_label), ['default', 'fast', 'mem']);
  rmSync(join(home, '.profile'));
  assert.equal((await r.storage.create({ name: 'home', type: 'file', path: home })).path, home);
  await fails(r.storage.resolve('nothing'), 'ENOENT', /no SR named 'nothing'/);
  await r.db.close();
});

test('sr-create over an existing directory others can write in, or not xenode\'s, is refused; a new one is made 0700', async () => {
  const r = rig();
  const shared = join(r.state, 'shm');
  mkdirSync(shared);
  chmodSync(shared, 0o1777);
  await fails(r.storage.create({ name: 'shm', type: 'file', path: shared }), 'EACCES', /shm has mode 1777: its group or others can write in it/);
  chmodSync(shared, 0o775);
  await fails(r.storage.create({ name: 'shm', type: 'file', path: shared }), 'EACCES', /has mode 775/);
  chmodSync(shared, 0o755);
  if (process.getuid?.() === 0) {
    // Another user's empty directory (their home, say): whatever they put there later is not theirs to give xenode.
    chownSync(shared, 65534, 65534);
    await fails(r.storage.create({ name: 'shm', type: 'file', path: shared }), 'EACCES', /is owned by uid 65534, not by xenode's \(uid 0\)/);
    chownSync(shared, 0, 0);
  }
  assert.equal((await r.storage.create({ name: 'shm', type: 'file', path: shared })).path, shared);
  await r.storage.create({ name: 'new', type: 'file', path: join(r.state, 'new') });
  assert.equal(statSync(join(r.state, 'new')).mode & 0o777, 0o700);
  await r.db.close();
});

test('an SR made before the rules over a directory others can write in is refused at plug, and unusable until fixed and plugged again', async () => {
  const r = rig();
  const old = await r.storage.create({ name: 'old', type: 'file', path: join(r.state, 'old') });
  await r.vdis.create({ sr: 'old', name: 'disk', size: '1M' });
  // What the old sr-create allowed (a shared directory), or a chmod since.
  chmodSync(old.path!, 0o1777);
  await fails(r.storage.plug(old.ref), 'EACCES', /old has mode 1777: its group or others can write in it.*\(fix: chmod go-w .*old\)/);
  const pbd = await r.db.read((tx) => tx.PBD.get(tx.PBD.where('SR', old.ref)[0]!));
  assert.equal(pbd.currently_attached, false);
  // Nothing uses it meanwhile: no new image, no scan of what others may have planted, no guest's disk.
  const unplugged = /SR 'old' is unplugged: path=.*old has mode 1777.*chmod go-w .*`xenode sr-scan 'old'` plugs it again/;
  await fails(r.vdis.create({ sr: 'old', name: 'more', size: '1M' }), 'EACCES', unplugged);
  await fails(r.vdis.diskParams('disk', 'rw'), 'EACCES', unplugged);
  await fails(r.vdis.scan('old'), 'EACCES', /old has mode 1777.*chmod go-w/);
  // Listed still, and other SRs work (a scan of one does not stop at the unplugged SR).
  assert.deepEqual((await r.storage.list()).map((v) => v.record.name_label).sort(), ['default', 'old']);
  assert.deepEqual((await r.vdis.scan('default')).introduced, []);
  if (process.getuid?.() === 0) {
    chmodSync(old.path!, 0o700);
    chownSync(old.path!, 65534, 65534);
    await fails(r.vdis.scan('old'), 'EACCES', /is owned by uid 65534, not by xenode's \(uid 0\).*\(fix: chown 0 /);
    chownSync(old.path!, 0, 0);
  }
  chmodSync(old.path!, 0o755);
  await r.vdis.scan('old');
  assert.equal((await r.db.read((tx) => tx.PBD.get(tx.PBD.where('SR', old.ref)[0]!))).currently_attached, true);
  assert.match((await r.vdis.diskParams('disk', 'rw')).params, /^raw:.*old\//);
  await r.db.close();
});

test('the host plugs every SR when it starts: an unsafe one is logged and left unplugged, the others serve', async () => {
  const r = rig();
  const old = await r.storage.create({ name: 'old', type: 'file', path: join(r.state, 'old') });
  await r.storage.create({ name: 'fine', type: 'file', path: join(r.state, 'fine') });
  await r.db.close();
  chmodSync(old.path!, 0o777);
  const lines: string[] = [];
  const host = await Host.start({ stateDir: r.state, poolSize: 0, log: (l) => void lines.push(l) });
  try {
    assert.deepEqual(lines.filter((l) => /^SR /.test(l)).map((l) => l.replaceAll(r.state, '<state>')),
      ["SR 'old' left unplugged: EACCES: path=<state>/old has mode 777: its group or others can write in it; an SR's directory must be writable by xenode only (fix: chmod go-w <state>/old)"]);
    await fails(host.vdis.create({ sr: 'old', name: 'x', size: '1M' }), 'EACCES', /SR 'old' is unplugged/);
    assert.equal((await host.vdis.create({ sr: 'fine', name: 'y', size: '1M' })).srName, 'fine');
  } finally {
    await host.close();
  }
});

test('under umask 002 the images directory xl create makes for a bare target is 0700, so the next start plugs the default SR', async () => {
  const r = rig();
  await r.db.close();
  const umask = process.umask(0o002);
  try {
    await targetPath('root.img', 'raw', r.images);
    assert.equal(statSync(r.images).mode & 0o777, 0o700);
    const lines: string[] = [];
    const host = await Host.start({ stateDir: r.state, poolSize: 0, log: (l) => void lines.push(l) });
    try {
      assert.deepEqual(lines.filter((l) => /^SR /.test(l)), []);
      assert.equal((await host.vdis.create({ sr: 'default', name: 'x', size: '1M' })).srName, 'default');
    } finally {
      await host.close();
    }
  } finally {
    process.umask(umask);
  }
});

test("the default SR's directory an older xenode made 0775 (umask 002) is made 0755 at plug; another SR whose directory is gone stays unplugged", async () => {
  const r = rig();
  const def = await r.storage.defaultSr();
  chmodSync(r.images, 0o775);
  await r.storage.plug(def);
  assert.equal(statSync(r.images).mode & 0o777, 0o755);
  assert.equal((await r.db.read((tx) => tx.PBD.get(tx.PBD.where('SR', def)[0]!))).currently_attached, true);
  // Another SR's directory gone: anyone could make that path again, so it is not plugged unchecked.
  const gone = await r.storage.create({ name: 'gone', type: 'file', path: join(r.state, 'gone') });
  rmSync(gone.path!, { recursive: true });
  await fails(r.storage.plug(gone.ref), 'EACCES', /gone is gone/);
  assert.equal((await r.db.read((tx) => tx.PBD.get(tx.PBD.where('SR', gone.ref)[0]!))).currently_attached, false);
  await r.db.close();
});

test('an SR whose directory cannot be checked at plug (a parent made a file) or is no directory is left unplugged, typed, never plugged unchecked', async () => {
  const r = rig();
  mkdirSync(join(r.state, 'p'));
  const old = await r.storage.create({ name: 'old', type: 'file', path: join(r.state, 'p', 'old') });
  const other = await r.storage.create({ name: 'other', type: 'file', path: join(r.state, 'other') });
  rmSync(join(r.state, 'p'), { recursive: true });
  writeFileSync(join(r.state, 'p'), 'x');
  rmSync(other.path!, { recursive: true });
  writeFileSync(other.path!, 'x');
  const lines: string[] = [];
  await r.storage.plugAll((l) => void lines.push(l.replaceAll(r.state, '<state>')));
  assert.deepEqual(lines, [
    "SR 'old' left unplugged: EACCES: path=<state>/p/old cannot be checked (ENOTDIR) (fix: make <state>/p/old a directory of xenode's, mode 0700)",
    "SR 'other' left unplugged: EACCES: path=<state>/other is a regular file, not a directory (fix: move it away and make <state>/other a directory of xenode's, mode 0700)"]);
  for (const sr of [old, other]) {
    assert.equal((await r.db.read((tx) => tx.PBD.get(tx.PBD.where('SR', sr.ref)[0]!))).currently_attached, false);
    await assert.rejects(r.vdis.create({ sr: sr.record.name_label, name: 'd', size: '1M' }), { name: 'SrUnplugged' });
  }
  await r.db.close();
});

test('sr-create makes only the last directory, after the overlap check; overlaps are found through symbolic links', async () => {
  const r = rig();
  await r.storage.create({ name: 'fast', type: 'file', path: join(r.state, 'fast') });
  // Refused: nothing is left behind.
  await fails(r.storage.create({ name: 'in', type: 'file', path: join(r.state, 'fast', 'sub') }), 'EEXIST', /overlaps the directory of SR 'fast'/);
  assert.equal(existsSync(join(r.state, 'fast', 'sub')), false);
  // No tree of directories: the parent must exist.
  await fails(r.storage.create({ name: 'deep', type: 'file', path: join(r.state, 'a', 'b') }), 'ENOENT', /its parent directory \S+\/a does not exist/);
  assert.equal(existsSync(join(r.state, 'a')), false);
  // The default SR of a state dir reached through a symbolic link: an SR inside it is found by its real path.
  const real = join(dir, `real${n++}`);
  mkdirSync(real);
  symlinkSync(real, `${real}-link`);
  const db = SqliteHostDb.open(join(real, 'host.db'));
  const storage = new Storage(db, join(`${real}-link`, 'images'));
  await storage.defaultSr();
  await fails(storage.create({ name: 'nested', type: 'file', path: join(real, 'images', 'sub') }), 'EEXIST', /overlaps the directory of SR 'default'/);
  assert.equal(existsSync(join(real, 'images', 'sub')), false);
  await db.close();
  await r.db.close();
});

test('names: empty, control characters, separators, uuid shapes and stray spaces are refused', () => {
  for (const bad of ['', 'a/b', 'a,b', 'a\nb', ' a', 'a ', 'x'.repeat(256), '0f3b2c1d-0000-4000-8000-000000000000']) {
    assert.throws(() => checkName('VDI', bad), (e: Error) => isXenError(e, 'EINVAL'), JSON.stringify(bad));
  }
  assert.equal(checkName('VDI', 'root disk'), 'root disk');
});

test('sizes: units, rounding up to a sector, and nonsense refused', () => {
  assert.equal(parseVirtualSize('8G'), 8 * 2 ** 30);
  assert.equal(parseVirtualSize('1T'), 2 ** 40);
  assert.equal(parseVirtualSize('1000'), 1024);
  for (const bad of ['0', '-1', '8X', '', '1.5G', '99999999999']) assert.throws(() => parseVirtualSize(bad), /is not <bytes>/, bad);
});

test('vdi-create, vdi-list, vdi-resize and vdi-destroy with their images', async () => {
  const r = rig();
  await r.storage.create({ name: 'fast', type: 'file', path: join(r.state, 'fast') });
  const root = await r.vdis.create({ sr: 'default', name: 'root', size: '8G' });
  const data = await r.vdis.create({ sr: 'fast', name: 'data', size: '1M', description: 'scratch' });
  const rootFile = join(r.images, `${root.record.uuid}.raw`);
  assert.equal(statSync(rootFile).size, 8 * 2 ** 30);
  assert.equal(root.record.location, `${root.record.uuid}.raw`);
  assert.deepEqual(root.record.sm_config, { format: 'raw' });
  assert.equal(root.srName, 'default');
  assert.equal(data.record.name_description, 'scratch');
  assert.deepEqual((await r.vdis.list()).map((v) => v.record.name_label), ['root', 'data']);
  assert.deepEqual((await r.vdis.list('fast')).map((v) => v.record.name_label), ['data']);
  // The SR's totals follow its VDIs.
  const def = (await r.storage.list()).find((s) => s.record.name_label === 'default')!;
  assert.equal(def.record.virtual_allocation, 8 * 2 ** 30);

  const grown = await r.vdis.resize('root', '9G');
  assert.equal(grown.record.virtual_size, 9 * 2 ** 30);
  assert.equal(statSync(rootFile).size, 9 * 2 ** 30);
  await fails(r.vdis.resize('root', '1G'), 'EINVAL', /shrinking it to 1073741824 is not supported/);

  // In use by a guest: neither destroyed nor resized, and the image is untouched.
  r.inUse.add(root.record.uuid);
  await fails(r.vdis.destroy('root'), 'EBUSY', /in use by domain 1 \('g'\) as xvda and cannot be destroyed/);
  await fails(r.vdis.resize(root.record.uuid, '10G'), 'EBUSY', /cannot be resized/);
  assert.equal(statSync(rootFile).size, 9 * 2 ** 30);
  r.inUse.clear();

  assert.deepEqual(await r.vdis.destroy(root.record.uuid), { uuid: root.record.uuid, kept: null });
  assert.equal(existsSync(rootFile), false);
  await fails(r.vdis.destroy('root'), 'ENOENT', /no VDI named 'root'/);
  await fails(r.vdis.create({ sr: 'fast', name: 'data', size: '1M' }).then(() => r.vdis.destroy('data')), 'EINVAL', /2 VDIs are named 'data': name one by its uuid/);
  await r.db.close();
});

test('formats: unknown ones are refused by name; a RAM SR holds raw disks that attach as RAM', async () => {
  const r = rig();
  await fails(r.vdis.create({ sr: 'default', name: 'v', size: '1M', format: 'qed' }), 'EOPNOTSUPP', /disk format qed is not supported yet \(known: raw, vhd/);
  await fails(r.vdis.create({ sr: 'default', name: 'v', size: '1M', format: 'nonsense' }), 'EOPNOTSUPP', /nonsense/);
  assert.deepEqual(await r.vdis.list(), []);
  await r.storage.create({ name: 'mem', type: 'ram' });
  const v = await r.vdis.create({ sr: 'mem', name: 'scratch', size: '64M' });
  assert.equal(v.record.location, '');
  assert.deepEqual(await r.vdis.diskParams('scratch', 'rw'), { uuid: v.record.uuid, params: 'raw:ram:64M' });
  const f = await r.vdis.create({ sr: 'default', name: 'disk', size: '1M' });
  assert.deepEqual(await r.vdis.diskParams(f.record.uuid, 'ro'), { uuid: f.record.uuid, params: `raw:${join(r.images, `${f.record.uuid}.raw`)}` });
  await r.db.transaction((tx) => tx.VDI.update(f.ref, { read_only: true }));
  await fails(r.vdis.diskParams('disk', 'rw'), 'EROFS', /is read-only: attach it with access=ro/);
  await r.db.close();
});

test('an SR never leads out of its directory: a tampered location or a symbolic link is refused', async () => {
  const r = rig();
  const v = await r.vdis.create({ sr: 'default', name: 'v', size: '1M' });
  await r.db.transaction((tx) => tx.VDI.update(v.ref, { location: '../host.db' }));
  await fails(r.vdis.diskParams('v', 'rw'), 'EINVAL', /has location '\.\.\/host\.db', not a file name in its SR/);
  await fails(r.vdis.destroy('v'), 'EINVAL', /not a file name/);
  assert.ok(existsSync(join(r.state, 'host.db')));
  const outside = join(r.state, 'secret.img');
  writeFileSync(outside, Buffer.alloc(4096));
  rmSync(join(r.images, v.record.location.replace('../host.db', `${v.record.uuid}.raw`)));
  symlinkSync(outside, join(r.images, `${v.record.uuid}.raw`));
  await r.db.transaction((tx) => tx.VDI.update(v.ref, { location: `${v.record.uuid}.raw` }));
  await fails(r.vdis.diskParams('v', 'rw'), 'EACCES', /outside its SR/);
  await fails(r.vdis.resize('v', '2M'), 'EACCES', /outside its SR/);
  assert.equal(statSync(outside).size, 4096);
  await r.db.close();
});

test('sr-scan introduces images it finds, marks vanished ones missing, and deletes nothing', async () => {
  const r = rig();
  const made = await r.vdis.create({ sr: 'default', name: 'made', size: '1M' });
  const found = '6f1c0a52-3c7e-4d5b-9a0e-2b7d8c9e1f00';
  writeFileSync(join(r.images, `${found}.raw`), Buffer.alloc(2 ** 20));
  writeFileSync(join(r.images, '.hidden'), '');
  writeFileSync(join(r.state, 'elsewhere'), '');
  symlinkSync(join(r.state, 'elsewhere'), join(r.images, '7a2d1b63-4d8f-4e6c-8b1f-3c8e9d0f2a11.raw'));
  mkdirSync(join(r.images, '8b3e2c74-5e9a-4f7d-9c2a-4d9f0e1a3b22.vhd'));
  const sr = await r.storage.resolve('default');
  const first = await r.storage.scan(sr, new Set());
  assert.deepEqual(first.introduced, [found]);
  assert.deepEqual(first.missing, []);
  assert.deepEqual(first.skipped.map((s) => [s.file, s.why]), [['7a2d1b63-4d8f-4e6c-8b1f-3c8e9d0f2a11.raw', 'a symbolic link'],
    ['8b3e2c74-5e9a-4f7d-9c2a-4d9f0e1a3b22.vhd', 'not a regular file']]);
  const byHand = (await r.vdis.list()).find((v) => v.record.uuid === found)!;
  assert.equal(byHand.record.name_label, `${found}.raw`);
  assert.equal(byHand.record.virtual_size, 2 ** 20);
  assert.equal(byHand.record.sm_config['format'], 'raw');
  // A second scan changes nothing.
  const again = await r.storage.scan(sr, new Set());
  assert.deepEqual([again.introduced, again.missing, again.found], [[], [], []]);

  // The made image vanishes: its record stays, marked missing, and a disk of it is refused.
  const madeFile = join(r.images, made.record.location);
  rmSync(madeFile);
  const gone = await r.storage.scan(sr, new Set());
  assert.deepEqual(gone.missing, [made.record.uuid]);
  assert.equal((await r.vdis.list()).find((v) => v.record.uuid === made.record.uuid)!.record.missing, true);
  await fails(r.vdis.diskParams('made', 'rw'), 'ENOENT', /is missing/);
  writeFileSync(madeFile, Buffer.alloc(2 ** 20));
  assert.deepEqual((await r.storage.scan(sr, new Set())).found, [made.record.uuid]);

  // Destroying a VDI that scan found forgets it but keeps the image: xenode did not make it.
  const res = await r.vdis.destroy(found);
  assert.equal(res.kept, join(r.images, `${found}.raw`));
  assert.ok(existsSync(join(r.images, `${found}.raw`)));
  assert.ok(existsSync(join(r.images, '.hidden')));
  assert.ok(existsSync(join(r.state, 'elsewhere')));
  await r.db.close();
});

test('sr-scan introduces only files named <uuid>.<ext> of a known format, never a host file put in the SR', async () => {
  const r = rig();
  const made = await r.vdis.create({ sr: 'default', name: 'made', size: '1M', format: 'vhd' });
  const foreign = ['authorized_keys', 'by-hand.img', 'disk.raw', 'NOTES', `${made.record.uuid}.txt`, '9c4f3d85-6fab-4a8e-8d3b-5eaf1f2b4c33.qed'];
  for (const f of foreign) writeFileSync(join(r.images, f), 'ssh-ed25519 AAAA admin@host\n');
  // A copy of a VDI's image under that VDI's uuid (in another name): it cannot be a second record.
  writeFileSync(join(r.images, `${made.record.uuid}.raw`), Buffer.alloc(512));
  const sr = await r.storage.resolve('default');
  const report = await r.storage.scan(sr, new Set());
  assert.deepEqual(report.introduced, []);
  assert.deepEqual(report.skipped.map((s) => s.file).sort(), [...foreign, `${made.record.uuid}.raw`].sort());
  for (const s of report.skipped) {
    assert.match(s.why, s.file === `${made.record.uuid}.raw` ? /^VDI \S+ exists already$/ : /^not an image's name \(<uuid>\.<ext> of a known format\)$/, s.file);
  }
  assert.deepEqual((await r.vdis.list()).map((v) => v.record.uuid), [made.record.uuid]);
  // A record made before this rule, whose image is not named so, is still its file's.
  const old = join(r.images, 'legacy.img');
  writeFileSync(old, Buffer.alloc(4096));
  const legacy = await r.db.transaction((tx) => tx.VDI.get(tx.VDI.create({ name_label: 'legacy', SR: sr, location: 'legacy.img', sm_config: { format: 'raw' } })).uuid);
  const again = await r.storage.scan(sr, new Set());
  assert.deepEqual([again.introduced, again.missing], [[], []]);
  // A hard link to another SR's image (or the VDI's own) under a new uuid: not a second VDI over one file.
  const linked = join(r.images, '7d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a.vhd');
  linkSync(join(r.images, made.record.location), linked);
  const third = await r.storage.scan(sr, new Set());
  assert.deepEqual([third.introduced, third.skipped.filter((s) => s.file === basename(linked))], [[], [{ file: basename(linked), why: 'has 2 hard links: another name of an image' }]]);
  assert.equal((await r.vdis.list()).find((v) => v.record.uuid === legacy)!.record.virtual_size, 4096);
  await r.db.close();
});

test('sr-scan while vdi-create, vdi-copy or vdi-import writes its image (before its record) skips it: the image becomes that VDI only', async () => {
  const r = rig();
  const src = await r.vdis.create({ sr: 'default', name: 'src', size: '1M' });
  writeFileSync(join(r.images, src.record.location), Buffer.alloc(1 << 20, 7));
  writeFileSync(join(r.state, 'outside.raw'), Buffer.alloc(1 << 20, 9));
  // A scan runs in each operation's last window: its image whole, its record not yet committed.
  const commit = r.db.transaction.bind(r.db);
  const images = () => readdirSync(r.images).filter((f) => !f.startsWith('.')).length;
  let scans: Promise<ScanReport> | undefined;
  let before = 0;
  r.db.transaction = (async (body, opts) => {
    if (scans === undefined && images() > before) {
      scans = r.vdis.scan('default');
      await scans;
    }
    return commit(body, opts);
  }) as typeof r.db.transaction;
  const made: VdiView[] = [];
  for (const op of [() => r.vdis.create({ sr: 'default', name: 'new', size: '1M' }), () => r.vdis.copy('src', { name: 'copy' }),
    () => r.vdis.import({ sr: 'default', file: join(r.state, 'outside.raw'), name: 'imported' })]) {
    scans = undefined;
    before = images();
    made.push(await op());
    const scan = await scans!;
    assert.deepEqual(scan.introduced, []);
    assert.deepEqual(scan.skipped, [{ file: made.at(-1)!.record.location, why: 'an operation in progress (a vdi-create, -copy or -import, a snapshot, coalesce or migration) is making it' }]);
  }
  r.db.transaction = commit;
  assert.deepEqual((await r.vdis.list()).map((v) => v.record.name_label).sort(), ['copy', 'imported', 'new', 'src']);
  for (const v of made) assert.ok(existsSync(join(r.images, v.record.location)), v.record.name_label);
  await r.db.close();
});

test('records survive a reopen of the database', async () => {
  const r = rig();
  await r.vdis.create({ sr: 'default', name: 'keep', size: '1M' });
  await r.db.close();
  const db = SqliteHostDb.open(join(r.state, 'host.db'));
  const vdis = new Vdis(new Storage(db, r.images), async () => []);
  assert.deepEqual((await vdis.list()).map((v) => v.record.name_label), ['keep']);
  assert.equal((await new Storage(db, r.images).list()).length, 1);
  await db.close();
});
