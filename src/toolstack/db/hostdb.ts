// The host database's interface: XAPI's records by class, read and written in transactions,
// and the change feed event.from is built on. SQLite implements it on one host (sqlite.ts); a
// pool will implement it on etcd: the transaction body is synchronous over a consistent view
// (an etcd back-end runs it over its watched cache and commits with compares on the revisions
// it read, rerunning it on a conflict), and every call that reaches the store is async.
// Nothing here speaks SQL.
import { XenError } from '../../errors.js';
import type { ClassName, Classes, NewRecord, Ref } from './records.js';

/** XAPI's event operations. */
export type ChangeOperation = 'add' | 'mod' | 'del';

/** One change of the feed: generations increase by one per change, across every class. */
export interface Change<C extends ClassName = ClassName> {
  readonly generation: number;
  readonly class: C;
  readonly ref: Ref<C>;
  readonly operation: ChangeOperation;
  /** The record after the change (before it, for a del). */
  readonly snapshot: Classes[C];
  /** ISO 8601, UTC. */
  readonly time: string;
}

export interface ChangesSince {
  readonly changes: Change[];
  /** The generation to ask from next time (the last one returned, or the one asked for). */
  readonly generation: number;
  /** The feed no longer has every change after the generation asked for (XAPI's EVENTS_LOST). */
  readonly lost: boolean;
}

/** The records of one class, inside a transaction. */
export interface Table<C extends ClassName> {
  /** The record; HandleInvalid if there is none. */
  get(ref: Ref<C>): Classes[C];
  find(ref: Ref<C>): Classes[C] | undefined;
  getAll(): Ref<C>[];
  getAllRecords(): Map<Ref<C>, Classes[C]>;
  /** UuidInvalid if there is none. */
  getByUuid(uuid: string): Ref<C>;
  /** Every record with that name_label (XAPI's get_by_name_label: names are not unique). */
  getByNameLabel(name: string): Ref<C>[];
  /** Every record whose top-level `field` equals `value`. */
  where<K extends keyof Classes[C] & string>(field: K, value: string | number): Ref<C>[];
  /** Create a record (fields left out take the class's defaults; a fresh uuid unless given); its ref. */
  create(fields: NewRecord<C>, ref?: Ref<C>): Ref<C>;
  /** Change some fields; the uuid cannot change. */
  update(ref: Ref<C>, fields: Partial<Classes[C]>): Classes[C];
  destroy(ref: Ref<C>): void;
}

/** A transaction's view: one table per class, under XAPI's class names. */
export type Tx = { readonly [C in ClassName]: Table<C> };

export interface TransactionOptions {
  /**
   * false: the commit need not survive a crash of the machine (it survives the host process's):
   * for what the host rebuilds at start anyway (a running domain's power state, a transient VM,
   * vms.ts), so that booting a domain costs no disk flush. Later durable commits make it durable
   * too. Default true.
   */
  readonly durable?: boolean;
}

export interface HostDb {
  /**
   * Run `body` in one transaction and commit it, or roll everything back if it throws. The body
   * is synchronous and may be run more than once (an optimistic back-end reruns it on a
   * conflict): it must not have other side effects.
   */
  transaction<T>(body: (tx: Tx) => T, opts?: TransactionOptions): Promise<T>;
  /** A read-only transaction. */
  read<T>(body: (tx: Tx) => T): Promise<T>;
  /** The latest generation (0 for a new database). */
  generation(): Promise<number>;
  /** The changes after `generation`, oldest first, at most `limit`. */
  changesSince(generation: number, limit?: number): Promise<ChangesSince>;
  /** Called after every commit with its changes; returns the unsubscribe. */
  watch(listener: (changes: readonly Change[]) => void): () => void;
  close(): Promise<void>;
}

/** A ref that names no record of its class (XAPI's HANDLE_INVALID). */
export class HandleInvalid extends XenError {
  override name = 'HandleInvalid';
  constructor(readonly cls: ClassName, readonly ref: string) {
    super('ENOENT', `HANDLE_INVALID: no ${cls} ${ref}`);
  }
}

/** A uuid that names no record of its class (XAPI's UUID_INVALID). */
export class UuidInvalid extends XenError {
  override name = 'UuidInvalid';
  constructor(readonly cls: ClassName, readonly uuid: string) {
    super('ENOENT', `UUID_INVALID: no ${cls} with uuid ${uuid}`);
  }
}

/** The database was written by a newer xenode, whose schema this one does not know. */
export class SchemaTooNew extends XenError {
  override name = 'SchemaTooNew';
  constructor(readonly path: string, readonly found: number, readonly known: number) {
    super('EINVAL', `the host database ${path} has schema version ${found}, and this xenode knows versions up to ${known}: ` +
      'run a newer xenode, or move the file aside to start afresh');
  }
}

/** A write the database refused: a duplicate uuid or ref, a changed uuid. */
export class ConstraintViolation extends XenError {
  override name = 'ConstraintViolation';
  constructor(detail: string) {
    super('EEXIST', detail);
  }
}
