// The host database on one host: SQLite (better-sqlite3) in the state dir, in WAL mode with
// synchronous=FULL, so a transaction whose commit returned survives a kill -9 of the host and a
// power cut. Statements run on dom0's thread; they are short (a record is one row).
import Database from 'better-sqlite3';
import { closeSync, openSync } from 'node:fs';
import { XenError } from '../../errors.js';
import { BACKSTOP_FRAMES, Checkpointer } from './checkpointer.js';
import {
  ConstraintViolation, HandleInvalid, SchemaTooNew, UuidInvalid, type Change, type ChangeOperation, type ChangesSince, type HostDb, type Table, type TransactionOptions, type Tx,
} from './hostdb.js';
import { CLASS_NAMES, completeRecord, nameLabelOf, newRef, type ClassName, type Classes, type NewRecord, type Ref } from './records.js';
import { MIGRATIONS, classTable, migrate, schemaVersion, type Migration } from './schema.js';

/** Changes the feed keeps; a client further behind is told it lost events. */
const CHANGES_KEPT = 100_000;
const DEFAULT_CHANGES_LIMIT = 10_000;

/** A field name as the code spells it: the only text that reaches a JSON path. */
const FIELD_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface OpenOptions {
  /** The schema's migrations (tests give their own). */
  readonly migrations?: readonly Migration[];
}

interface Statements {
  get: Database.Statement;
  all: Database.Statement;
  refs: Database.Statement;
  byUuid: Database.Statement;
  byName: Database.Statement;
  /** Records whose field has a value, per field: the path is part of the statement, so an index on it (schema.ts) serves it. */
  byField: Map<string, Database.Statement>;
  insert: Database.Statement;
  update: Database.Statement;
  remove: Database.Statement;
}

interface ChangeRow {
  generation: number;
  class: ClassName;
  ref: string;
  operation: ChangeOperation;
  snapshot: string;
  time: string;
}

export class SqliteHostDb implements HostDb {
  readonly #db: Database.Database;
  readonly #stmts = new Map<ClassName, Statements>();
  readonly #watchers = new Set<(changes: readonly Change[]) => void>();
  readonly #logChange: Database.Statement;
  readonly #prune: Database.Statement;
  /** Changes of the transaction under way. */
  #pending: Change[] | null = null;
  #readOnly = false;
  readonly #tx: Tx;
  /** better-sqlite3's transaction wrapper, made once: making one per transaction costs more than a small read. */
  readonly #inTransaction: Database.Transaction<(f: () => unknown) => unknown>;
  /** Checkpoints the log on a thread of its own (checkpointer.ts); none for a database in memory. */
  readonly #checkpointer: Checkpointer | null;

  private constructor(db: Database.Database, readonly path: string) {
    this.#db = db;
    this.#checkpointer = path === ':memory:' ? null : new Checkpointer(path);
    this.#logChange = db.prepare('INSERT INTO changes (class, ref, operation, snapshot, time) VALUES (?, ?, ?, ?, ?)');
    this.#prune = db.prepare('DELETE FROM changes WHERE generation <= ?');
    this.#tx = Object.fromEntries(CLASS_NAMES.map((c) => [c, this.#table(c)])) as unknown as Tx;
    this.#inTransaction = db.transaction((f: () => unknown) => f());
  }

  /** Open (creating) the database at `path` (':memory:' for one that lives as long as the process). */
  static open(path: string, opts: OpenOptions = {}): SqliteHostDb {
    if (path !== ':memory:') closeSync(openSync(path, 'a', 0o600));
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      db.pragma(`wal_autocheckpoint = ${BACKSTOP_FRAMES}`);
      const migrations = opts.migrations ?? MIGRATIONS;
      const found = schemaVersion(db);
      if (found > migrations.length) throw new SchemaTooNew(path, found, migrations.length);
      migrate(db, migrations, found);
      return new SqliteHostDb(db, path);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  transaction<T>(body: (tx: Tx) => T, opts: TransactionOptions = {}): Promise<T> {
    if (opts.durable !== false) return settle(() => this.#run(body, false));
    // WAL without synchronous=FULL: the commit is in the log, not yet flushed to the disk; the
    // next durable commit flushes the log, this one with it.
    return settle(() => {
      this.#db.pragma('synchronous = NORMAL');
      try {
        return this.#run(body, false);
      } finally {
        this.#db.pragma('synchronous = FULL');
      }
    });
  }

  read<T>(body: (tx: Tx) => T): Promise<T> {
    return settle(() => this.#run(body, true));
  }

  async generation(): Promise<number> {
    return this.#generation();
  }

  async changesSince(generation: number, limit = DEFAULT_CHANGES_LIMIT): Promise<ChangesSince> {
    if (!Number.isSafeInteger(generation) || generation < 0) throw new XenError('EINVAL', `generation ${generation} is not a count`);
    const rows = this.#db.prepare('SELECT * FROM changes WHERE generation > ? ORDER BY generation LIMIT ?').all(generation, limit) as ChangeRow[];
    const latest = this.#generation();
    const first = rows[0]?.generation;
    const lost = generation < latest && (first === undefined || first > generation + 1);
    const changes = rows.map(toChange);
    return { changes, generation: changes.at(-1)?.generation ?? generation, lost };
  }

  watch(listener: (changes: readonly Change[]) => void): () => void {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  /** SQLite's own check of the file (PRAGMA integrity_check): empty when it is sound. */
  integrityCheck(): string[] {
    const rows = this.#db.pragma('integrity_check') as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).filter((s) => s !== 'ok');
  }

  /** How commits reach the disk now (PRAGMA synchronous): FULL but inside a transaction that need not be durable. */
  synchronous(): 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA' {
    return (['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const)[this.#db.pragma('synchronous', { simple: true }) as number]!;
  }

  /** The schema version of the open database. */
  schemaVersion(): number {
    return schemaVersion(this.#db);
  }

  async close(): Promise<void> {
    await this.#checkpointer?.close();
    if (this.#db.open) this.#db.close();
  }

  #generation(): number {
    const row = this.#db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").get() as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  #run<T>(body: (tx: Tx) => T, readOnly: boolean): T {
    if (this.#pending) throw new XenError('EDEADLK', 'a host database transaction was started inside another');
    const changes: Change[] = [];
    this.#pending = changes;
    this.#readOnly = readOnly;
    let result: T;
    try {
      const inner = () => {
        const r = body(this.#tx);
        const last = changes.at(-1)?.generation;
        if (last !== undefined && last > CHANGES_KEPT) this.#prune.run(last - CHANGES_KEPT);
        return r;
      };
      result = (readOnly ? this.#inTransaction.deferred(inner) : this.#inTransaction.immediate(inner)) as T;
    } finally {
      this.#pending = null;
      this.#readOnly = false;
    }
    if (!changes.length) return result;
    this.#checkpointer?.committed();
    for (const w of [...this.#watchers]) w(changes);
    return result;
  }

  #changed<C extends ClassName>(cls: C, ref: Ref<C>, operation: ChangeOperation, snapshot: Classes[C]): void {
    const time = new Date().toISOString();
    const { lastInsertRowid } = this.#logChange.run(cls, ref, operation, JSON.stringify(snapshot), time);
    this.#pending!.push({ generation: Number(lastInsertRowid), class: cls, ref, operation, snapshot, time });
  }

  #writable(): void {
    if (!this.#pending) throw new XenError('EINVAL', 'a host database table was used outside its transaction');
    if (this.#readOnly) throw new XenError('EROFS', 'a write in a read-only host database transaction');
  }

  #statements(cls: ClassName): Statements {
    let s = this.#stmts.get(cls);
    if (!s) {
      const t = classTable(cls);
      const db = this.#db;
      s = {
        get: db.prepare(`SELECT body FROM ${t} WHERE ref = ?`).pluck(),
        all: db.prepare(`SELECT ref, body FROM ${t} ORDER BY rowid`),
        refs: db.prepare(`SELECT ref FROM ${t} ORDER BY rowid`).pluck(),
        byUuid: db.prepare(`SELECT ref FROM ${t} WHERE uuid = ?`).pluck(),
        byName: db.prepare(`SELECT ref FROM ${t} WHERE name_label = ? ORDER BY ref`).pluck(),
        byField: new Map(),
        insert: db.prepare(`INSERT INTO ${t} (ref, uuid, name_label, body) VALUES (?, ?, ?, ?)`),
        update: db.prepare(`UPDATE ${t} SET name_label = ?, body = ? WHERE ref = ?`),
        remove: db.prepare(`DELETE FROM ${t} WHERE ref = ?`),
      };
      this.#stmts.set(cls, s);
    }
    return s;
  }

  #table<C extends ClassName>(cls: C): Table<C> {
    type R = Classes[C];
    const s = () => this.#statements(cls);
    const inTx = () => {
      if (!this.#pending) throw new XenError('EINVAL', 'a host database table was used outside its transaction');
    };
    const find = (ref: Ref<C>): R | undefined => {
      inTx();
      const body = s().get.get(ref) as string | undefined;
      return body === undefined ? undefined : (JSON.parse(body) as R);
    };
    const get = (ref: Ref<C>): R => {
      const r = find(ref);
      if (!r) throw new HandleInvalid(cls, ref);
      return r;
    };
    return {
      get,
      find,
      getAll: () => {
        inTx();
        return s().refs.all() as string[];
      },
      getAllRecords: () => {
        inTx();
        return new Map((s().all.all() as { ref: string; body: string }[]).map((r) => [r.ref, JSON.parse(r.body) as R]));
      },
      getByUuid: (uuid) => {
        inTx();
        const ref = s().byUuid.get(uuid) as string | undefined;
        if (ref === undefined) throw new UuidInvalid(cls, uuid);
        return ref;
      },
      getByNameLabel: (name) => {
        inTx();
        return s().byName.all(name) as string[];
      },
      where: (field, value) => {
        inTx();
        if (!FIELD_RE.test(field)) throw new XenError('EINVAL', `'${field}' is not a field name`);
        const stmts = s();
        let q = stmts.byField.get(field);
        if (!q) stmts.byField.set(field, (q = this.#db.prepare(`SELECT ref FROM ${classTable(cls)} WHERE json_extract(body, '$.${field}') = ? ORDER BY rowid`).pluck()));
        return q.all(value) as string[];
      },
      create: (fields: NewRecord<C>, ref: Ref<C> = newRef<C>()) => {
        this.#writable();
        const record = completeRecord(cls, fields);
        if (s().byUuid.get(record.uuid) !== undefined) throw new ConstraintViolation(`a ${cls} with uuid ${record.uuid} exists already`);
        if (s().get.get(ref) !== undefined) throw new ConstraintViolation(`a ${cls} ${ref} exists already`);
        s().insert.run(ref, record.uuid, nameLabelOf(record), JSON.stringify(record));
        this.#changed(cls, ref, 'add', record);
        return ref;
      },
      update: (ref, fields) => {
        this.#writable();
        const old = get(ref);
        if (fields.uuid !== undefined && fields.uuid !== old.uuid) throw new ConstraintViolation(`the uuid of ${cls} ${ref} cannot change`);
        const record = { ...old, ...fields } as R;
        s().update.run(nameLabelOf(record), JSON.stringify(record), ref);
        this.#changed(cls, ref, 'mod', record);
        return record;
      },
      destroy: (ref) => {
        this.#writable();
        const old = get(ref);
        s().remove.run(ref);
        this.#changed(cls, ref, 'del', old);
      },
    };
  }
}

function toChange(r: ChangeRow): Change {
  return { generation: r.generation, class: r.class, ref: r.ref, operation: r.operation, snapshot: JSON.parse(r.snapshot) as never, time: r.time };
}

function settle<T>(f: () => T): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(e);
  }
}
