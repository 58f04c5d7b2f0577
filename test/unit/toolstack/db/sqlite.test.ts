// The SQLite host database: records by class with XAPI's refs, the change feed, migrations and
// the refusal of a newer schema, and durability across kill -9 during writes.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { BACKSTOP_FRAMES, CHECKPOINT_EVERY } from '../../../../src/toolstack/db/checkpointer.js';
import { HandleInvalid, SchemaTooNew, UuidInvalid, type Change } from '../../../../src/toolstack/db/hostdb.js';
import { NULL_REF, ROLE_NAMES, isRef } from '../../../../src/toolstack/db/records.js';
import { MIGRATIONS, classTable } from '../../../../src/toolstack/db/schema.js';
import { SqliteHostDb } from '../../../../src/toolstack/db/sqlite.js';
import { killDuringWrites } from '../../../support/kill-child.js';

const dir = mkdtempSync(join(tmpdir(), 'xenode-hostdb-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
// SQLite's WAL file format: a header, then per frame a header and a page (the default 4 KiB).
const WAL_HEADER = 32;
const WAL_FRAME_HEADER = 24;
const PAGE = 4096;
const fresh = () => join(dir, `db${n++}.db`);

test('records: create, get, find by uuid and name_label, update, destroy', async () => {
  const db = SqliteHostDb.open(fresh());
  try {
    const sr = await db.transaction((tx) => tx.SR.create({ name_label: 'local', type: 'file' }));
    assert.ok(isRef(sr), sr);
    const { a, b } = await db.transaction((tx) => ({
      a: tx.VDI.create({ name_label: 'root', SR: sr, virtual_size: 8 * 2 ** 30 }),
      b: tx.VDI.create({ name_label: 'root', SR: sr, virtual_size: 1 }),
    }));
    await db.read((tx) => {
      const r = tx.VDI.get(a);
      assert.equal(r.name_label, 'root');
      assert.equal(r.virtual_size, 8 * 2 ** 30);
      // Defaults from XAPI's datamodel for what was left out.
      assert.equal(r.snapshot_of, NULL_REF);
      assert.equal(r.type, 'user');
      assert.deepEqual(r.sm_config, {});
      assert.equal(tx.VDI.getByUuid(r.uuid), a);
      assert.deepEqual(tx.VDI.getByNameLabel('root').sort(), [a, b].sort());
      assert.deepEqual(tx.VDI.getByNameLabel('nothing'), []);
      assert.deepEqual(tx.VDI.getAll(), [a, b]);
      assert.deepEqual(tx.VDI.where('SR', sr), [a, b]);
      assert.deepEqual(tx.VDI.where('virtual_size', 1), [b]);
      assert.equal(tx.VDI.getAllRecords().get(b)?.virtual_size, 1);
      assert.throws(() => tx.VDI.get(sr as string), HandleInvalid);
      assert.throws(() => tx.SR.getByUuid(r.uuid), UuidInvalid);
      assert.throws(() => tx.VDI.where('x) OR 1=1 --' as 'SR', 'a'), /not a field name/);
    });
    const u = await db.transaction((tx) => tx.VDI.update(a, { name_label: 'boot' }));
    assert.equal(u.name_label, 'boot');
    await db.read((tx) => assert.deepEqual(tx.VDI.getByNameLabel('boot'), [a]));
    await assert.rejects(db.transaction((tx) => tx.VDI.update(a, { uuid: '00000000-0000-0000-0000-000000000000' })), /cannot change/);
    await assert.rejects(db.transaction((tx) => tx.VDI.create({ uuid: u.uuid })), /exists already/);
    await db.transaction((tx) => tx.VDI.destroy(b));
    await db.read((tx) => assert.equal(tx.VDI.find(b), undefined));
    await assert.rejects(db.transaction((tx) => tx.VDI.destroy(b)), HandleInvalid);
    // Writes in a read are refused; a table outside its transaction is refused.
    await assert.rejects(db.read((tx) => tx.VDI.destroy(a)), /read-only/);
    let leaked: unknown;
    await db.read((tx) => (leaked = tx.VDI));
    assert.throws(() => (leaked as { getAll(): unknown }).getAll(), /outside its transaction/);
  } finally {
    await db.close();
  }
});

test('a transaction that throws leaves nothing behind and reports no change', async () => {
  const db = SqliteHostDb.open(fresh());
  try {
    const seen: Change[] = [];
    db.watch((c) => seen.push(...c));
    const before = await db.generation();
    await assert.rejects(db.transaction((tx) => {
      tx.network.create({ name_label: 'lost' });
      throw new Error('changed my mind');
    }), /changed my mind/);
    await db.read((tx) => assert.deepEqual(tx.network.getByNameLabel('lost'), []));
    assert.equal(await db.generation(), before);
    assert.deepEqual(seen, []);
  } finally {
    await db.close();
  }
});

test('a commit that need not be durable is committed, seen by the feed and kept on reopen; durability comes back for the next', async () => {
  const path = fresh();
  const db = SqliteHostDb.open(path);
  const seen: Change[] = [];
  db.watch((c) => seen.push(...c));
  const sr = await db.transaction((tx) => tx.SR.create({ name_label: 'transient', type: 'file' }), { durable: false });
  await assert.rejects(db.transaction(() => {
    throw new Error('rolled back');
  }, { durable: false }), /rolled back/);
  assert.equal(seen.length, 1);
  assert.equal(db.synchronous(), 'FULL', 'the next commit flushes again');
  await db.transaction((tx) => tx.SR.create({ name_label: 'durable', type: 'file' }));
  await db.close();
  const again = SqliteHostDb.open(path);
  await again.read((tx) => assert.equal(tx.SR.get(sr).name_label, 'transient'));
  assert.equal((await again.read((tx) => tx.SR.getAll())).length, 2);
  await again.close();
});

test('the change feed: one generation per change, in order, with class, ref, operation and snapshot', async () => {
  const db = SqliteHostDb.open(fresh());
  try {
    const start = await db.generation();
    const seen: Change[] = [];
    const unwatch = db.watch((c) => seen.push(...c));
    const vm = await db.transaction((tx) => tx.VM.create({ name_label: 'a' }));
    await db.transaction((tx) => tx.VM.update(vm, { power_state: 'Running' }));
    await db.transaction((tx) => tx.VM.destroy(vm));
    unwatch();
    await db.transaction((tx) => tx.VM.create({ name_label: 'unseen' }));
    assert.deepEqual(seen.map((c) => [c.generation - start, c.class, c.ref, c.operation]), [[1, 'VM', vm, 'add'], [2, 'VM', vm, 'mod'], [3, 'VM', vm, 'del']]);
    assert.equal((seen[1]!.snapshot as { power_state: string }).power_state, 'Running');
    const since = await db.changesSince(start + 1);
    assert.deepEqual(since.changes.map((c) => c.operation), ['mod', 'del', 'add']);
    assert.equal(since.generation, start + 4);
    assert.equal(since.lost, false);
    const none = await db.changesSince(start + 4);
    assert.deepEqual(none, { changes: [], generation: start + 4, lost: false });
    const limited = await db.changesSince(start, 2);
    assert.equal(limited.changes.length, 2);
    assert.equal(limited.generation, start + 2);
  } finally {
    await db.close();
  }
});

test('a new database has schema version 1 and XAPI\'s six roles; reopening keeps everything', async () => {
  const path = fresh();
  let db = SqliteHostDb.open(path);
  assert.equal(db.schemaVersion(), MIGRATIONS.length);
  const roles = await db.read((tx) => [...tx.role.getAllRecords().values()].map((r) => r.name_label));
  assert.deepEqual(roles, [...ROLE_NAMES]);
  const user = await db.transaction((tx) => tx.user.create({ short_name: 'alice', role: 'vm-admin', password_hash: 'scrypt$x' }));
  await db.close();
  db = SqliteHostDb.open(path);
  try {
    await db.read((tx) => {
      assert.equal(tx.user.get(user).role, 'vm-admin');
      assert.deepEqual(tx.user.where('short_name', 'alice'), [user]);
      assert.equal(tx.role.getAll().length, ROLE_NAMES.length);
    });
  } finally {
    await db.close();
  }
  // WAL mode and synchronous=FULL, as the file itself says.
  const raw = new Database(path);
  try {
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  } finally {
    raw.close();
  }
});

test('the log is checkpointed on a thread of its own, far before dom0\'s own checkpoint would; close leaves no log and loses nothing', async () => {
  const path = fresh();
  const db = SqliteHostDb.open(path);
  const before = statSync(path).size;
  const commits = 2 * CHECKPOINT_EVERY;
  for (let i = 0; i < commits; i++) await db.transaction((tx) => tx.VM.create({ name_label: `ckpt-${i}` }), { durable: false });
  // dom0 checkpoints at BACKSTOP_FRAMES: these commits are a small part of that.
  const frames = (statSync(`${path}-wal`).size - WAL_HEADER) / (PAGE + WAL_FRAME_HEADER);
  assert.ok(frames < BACKSTOP_FRAMES / 2, `${frames} frames in the log`);
  // Only a checkpoint writes the database file in WAL mode: wait for the thread's.
  for (const start = Date.now(); statSync(path).size === before; await new Promise((r) => setTimeout(r, 20))) {
    assert.ok(Date.now() - start < 60_000, 'no checkpoint in 60 s');
  }
  await db.close();
  assert.equal(existsSync(`${path}-wal`), false, 'the last connection closed removes the log');
  const again = SqliteHostDb.open(path);
  try {
    assert.equal((await again.read((tx) => tx.VM.getAll())).length, commits);
  } finally {
    await again.close();
  }
});

test('migrations run in order, once each, and a newer database is refused with a clear error', async () => {
  const path = fresh();
  const ran: number[] = [];
  const m1 = (db: Database.Database) => {
    MIGRATIONS[0]!(db);
    ran.push(1);
  };
  const m2 = () => ran.push(2);
  const m3 = () => ran.push(3);
  await SqliteHostDb.open(path, { migrations: [m1] }).close();
  assert.deepEqual(ran, [1]);
  const db = SqliteHostDb.open(path, { migrations: [m1, m2, m3] });
  assert.equal(db.schemaVersion(), 3);
  await db.close();
  assert.deepEqual(ran, [1, 2, 3]);
  // A migration that fails leaves the database at the version before it.
  const broken = () => {
    throw new Error('step 4 broke');
  };
  assert.throws(() => SqliteHostDb.open(path, { migrations: [m1, m2, m3, broken] }), /step 4 broke/);
  const again = SqliteHostDb.open(path, { migrations: [m1, m2, m3] });
  assert.equal(again.schemaVersion(), 3);
  await again.close();
  assert.throws(() => SqliteHostDb.open(path, { migrations: [m1, m2] }), (e: unknown) => {
    assert.ok(e instanceof SchemaTooNew);
    assert.equal(e.found, 3);
    assert.equal(e.known, 2);
    assert.match(e.message, /has schema version 3, and this xenode knows versions up to 2/);
    return true;
  });
});

test('migration 4 gives the networks made before it XAPI\'s default_locking_mode, unlocked', async () => {
  const path = fresh();
  const old = SqliteHostDb.open(path, { migrations: MIGRATIONS.slice(0, 3) });
  const ref = await old.transaction((tx) => tx.network.create({ name_label: 'net', bridge: 'xenbr0' }));
  await old.close();
  // As a version-3 database wrote it: no such field.
  const raw = new Database(path);
  raw.prepare(`UPDATE ${classTable('network')} SET body = json_remove(body, '$.default_locking_mode')`).run();
  raw.close();
  const db = SqliteHostDb.open(path);
  try {
    assert.equal(db.schemaVersion(), 4);
    assert.equal(await db.read((tx) => tx.network.get(ref).default_locking_mode), 'unlocked');
  } finally {
    await db.close();
  }
});

const TRIALS = 20;

const WRITER = join(import.meta.dirname, '../../../support/hostdb-writer.js');

test(`durability: ${TRIALS} kill -9 trials during writes; the database opens sound with every acknowledged write`, async () => {
  const path = fresh();
  for (let trial = 0; trial < TRIALS; trial++) {
    const prefix = `t${trial}`;
    const acked = await killDuringWrites(WRITER, path, prefix, 1 + ((trial * 7) % 40));
    const db = SqliteHostDb.open(path);
    try {
      assert.deepEqual(db.integrityCheck(), [], `trial ${trial}`);
      await db.read((tx) => {
        for (let i = 0; i < acked; i++) {
          const refs = tx.VDI.getByNameLabel(`${prefix}-${i}`);
          assert.equal(refs.length, 1, `trial ${trial}: acknowledged write ${i} of ${acked} is missing`);
          assert.equal(tx.VDI.get(refs[0]!).virtual_size, i);
        }
        const [counter] = tx.VM.getByNameLabel(`${prefix}-counter`);
        assert.ok(counter, `trial ${trial}: the counter VM is missing`);
        assert.ok(tx.VM.get(counter).user_version >= acked - 1, `trial ${trial}: the counter went back`);
        assert.deepEqual(tx.task.getByNameLabel(`${prefix}-scratch`), [], `trial ${trial}: a half-done transaction is visible`);
      });
    } finally {
      await db.close();
    }
  }
});
