// The SQLite host database's schema, as ordered migrations: migration i takes a database at
// version i to version i+1, in the transaction that records the new version in schema_version.
// A migration, once released, never changes (a database made by it may be anywhere); a change
// of schema is a new migration at the end. Each class is a table of (ref, uuid, name_label,
// body): the record is JSON in body, the columns are what records are found by.
import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { ROLE_NAMES } from './records.js';

export type Migration = (db: Database.Database) => void;

/** The table that holds a class's records. */
export function classTable(cls: string): string {
  return `"obj_${cls}"`;
}

/** The classes of schema version 1, spelled out: later versions add theirs in their own migration. */
const V1_CLASSES = [
  'pool', 'host', 'host_metrics', 'VM', 'VM_metrics', 'VM_guest_metrics', 'VBD', 'VDI', 'SR', 'PBD', 'VIF', 'network', 'PIF',
  'console', 'session', 'task', 'message', 'user', 'role',
];

const ROLE_DESCRIPTIONS: Readonly<Record<(typeof ROLE_NAMES)[number], string>> = {
  'pool-admin': 'The Pool Administrator role has full access to all features and settings',
  'pool-operator': 'The Pool Operator role manages host- and pool-wide resources',
  'vm-power-admin': 'The VM Power Administrator role has full access to VM and template management',
  'vm-admin': 'The VM Administrator role can manage VMs and templates',
  'vm-operator': 'The VM Operator role can use VMs and interact with VM consoles',
  'read-only': 'The Read-Only role can log in with basic read-only access',
};

function v1(db: Database.Database): void {
  for (const cls of V1_CLASSES) {
    const t = classTable(cls);
    db.exec(`CREATE TABLE ${t} (ref TEXT PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, name_label TEXT, body TEXT NOT NULL)`);
    db.exec(`CREATE INDEX "obj_${cls}_name_label" ON ${t} (name_label)`);
  }
  db.exec('CREATE TABLE changes (generation INTEGER PRIMARY KEY AUTOINCREMENT, class TEXT NOT NULL, ref TEXT NOT NULL, ' +
    'operation TEXT NOT NULL, snapshot TEXT NOT NULL, time TEXT NOT NULL)');
  // XAPI's roles, each a superset of the next: subroles name the role below.
  const insert = db.prepare(`INSERT INTO ${classTable('role')} (ref, uuid, name_label, body) VALUES (?, ?, ?, ?)`);
  const refs = ROLE_NAMES.map(() => `OpaqueRef:${randomUUID()}`);
  ROLE_NAMES.forEach((name, i) => {
    const uuid = randomUUID();
    const body = { uuid, name_label: name, name_description: ROLE_DESCRIPTIONS[name], subroles: i + 1 < refs.length ? [refs[i + 1]] : [] };
    insert.run(refs[i], uuid, name, JSON.stringify(body));
  });
}

/** The references records are found by (Table.where): indexed, so that VM.VBDs and the like do not scan. */
const V2_INDEXED: readonly [string, string][] = [
  ['VBD', 'VM'], ['VBD', 'VDI'], ['VIF', 'VM'], ['VIF', 'network'], ['console', 'VM'], ['VDI', 'SR'], ['PBD', 'SR'], ['PBD', 'host'],
  ['VM', 'resident_on'], ['PIF', 'host'], ['PIF', 'network'], ['network', 'bridge'],
];

function v2(db: Database.Database): void {
  for (const [cls, field] of V2_INDEXED) {
    db.exec(`CREATE INDEX "obj_${cls}_${field}" ON ${classTable(cls)} (json_extract(body, '$.${field}'))`);
  }
}

/** VM.snapshots and VDI.snapshots (every record whose snapshot_of is this one), served on every read of a VM or VDI. */
function v3(db: Database.Database): void {
  for (const cls of ['VM', 'VDI']) db.exec(`CREATE INDEX "obj_${cls}_snapshot_of" ON ${classTable(cls)} (json_extract(body, '$.snapshot_of'))`);
}

/** network.default_locking_mode, XAPI's default (unlocked) for the networks made before it. */
function v4(db: Database.Database): void {
  db.exec(`UPDATE ${classTable('network')} SET body = json_set(body, '$.default_locking_mode', 'unlocked') WHERE json_extract(body, '$.default_locking_mode') IS NULL`);
}

/** Every migration, in order: the schema's version is their count. */
export const MIGRATIONS: readonly Migration[] = [v1, v2, v3, v4];

/** The version a database is at (0: new), read without changing anything. */
export function schemaVersion(db: Database.Database): number {
  const t = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
  if (!t) return 0;
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  return row?.version ?? 0;
}

/** Bring a database up to the last of `migrations`, one transaction per step. */
export function migrate(db: Database.Database, migrations: readonly Migration[], from: number): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const { n } = db.prepare('SELECT count(*) AS n FROM schema_version').get() as { n: number };
  if (n === 0) db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
  for (let v = from; v < migrations.length; v++) {
    db.transaction(() => {
      migrations[v]!(db);
      db.prepare('UPDATE schema_version SET version = ?').run(v + 1);
    })();
  }
}
