// A network's default_locking_mode as vif plugs read it: once per bridge from the host database,
// read again after any network record's change (and only then), a failed read not kept, and
// the bridges kept bounded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HostDb } from '../../../src/toolstack/db/hostdb.js';
import { SqliteHostDb } from '../../../src/toolstack/db/sqlite.js';
import { MAX_CACHED_BRIDGES, NetworkLockingCache } from '../../../src/toolstack/network-locking.js';

/** The database, and how many reads reached it. */
function counted(db: SqliteHostDb): { db: HostDb; reads: () => number } {
  let reads = 0;
  const read: HostDb['read'] = (body) => {
    reads++;
    return db.read(body);
  };
  return { db: Object.assign(Object.create(db) as HostDb, { read, watch: db.watch.bind(db), transaction: db.transaction.bind(db) }), reads: () => reads };
}

test('one read per bridge until a network changes; the change is seen at the next plug', async (t) => {
  const raw = SqliteHostDb.open(':memory:');
  t.after(() => raw.close());
  const net = await raw.transaction((tx) => tx.network.create({ name_label: 'lab', bridge: 'labbr0' }));
  const { db, reads } = counted(raw);
  const cache = new NetworkLockingCache(db);
  t.after(() => cache.close());
  assert.equal(await cache.get('labbr0'), undefined, 'unlocked: the MAC check');
  assert.equal(await cache.get('labbr0'), undefined);
  assert.equal(await cache.get('nobr'), undefined, 'no network on that bridge');
  assert.equal(reads(), 2, 'once per bridge');
  // Another class's change keeps what was read.
  await raw.transaction((tx) => tx.SR.create({ name_label: 'local', type: 'file' }));
  await cache.get('labbr0');
  assert.equal(reads(), 2);
  await raw.transaction((tx) => tx.network.update(net, { default_locking_mode: 'disabled' }));
  assert.equal(await cache.get('labbr0'), 'disabled', 'read again after the change');
  assert.equal(reads(), 3);
  // A network made on a bridge asked for before.
  await raw.transaction((tx) => tx.network.create({ name_label: 'late', bridge: 'nobr', default_locking_mode: 'disabled' }));
  assert.equal(await cache.get('nobr'), 'disabled');
});

test('a read that fails is not kept; the bridges kept are bounded', async (t) => {
  const raw = SqliteHostDb.open(':memory:');
  t.after(() => raw.close());
  let fail = true;
  let reads = 0;
  const db = Object.assign(Object.create(raw) as HostDb, {
    watch: raw.watch.bind(raw),
    read: ((body) => {
      reads++;
      return fail ? Promise.reject(new Error('database busy')) : raw.read(body);
    }) as HostDb['read'],
  });
  const cache = new NetworkLockingCache(db);
  t.after(() => cache.close());
  await assert.rejects(cache.get('xenbr0'), /busy/);
  fail = false;
  assert.equal(await cache.get('xenbr0'), undefined, 'asked again');
  assert.equal(reads, 2);
  for (let i = 0; i < MAX_CACHED_BRIDGES * 2; i++) await cache.get(`br${i}`);
  reads = 0;
  await cache.get(`br${MAX_CACHED_BRIDGES * 2 - 1}`);
  assert.equal(reads, 0, 'the last bridge is kept');
  await cache.get('br0');
  assert.equal(reads, 1, 'the first bridges were let go');
});
