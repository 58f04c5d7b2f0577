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
export type Tx = {
    readonly [C in ClassName]: Table<C>;
};
export interface HostDb {
    /**
     * Run `body` in one transaction and commit it, or roll everything back if it throws. The body
     * is synchronous and may be run more than once (an optimistic back-end reruns it on a
     * conflict): it must not have other side effects.
     */
    transaction<T>(body: (tx: Tx) => T): Promise<T>;
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
export declare class HandleInvalid extends XenError {
    readonly cls: ClassName;
    readonly ref: string;
    name: string;
    constructor(cls: ClassName, ref: string);
}
/** A uuid that names no record of its class (XAPI's UUID_INVALID). */
export declare class UuidInvalid extends XenError {
    readonly cls: ClassName;
    readonly uuid: string;
    name: string;
    constructor(cls: ClassName, uuid: string);
}
/** The database was written by a newer xenode, whose schema this one does not know. */
export declare class SchemaTooNew extends XenError {
    readonly path: string;
    readonly found: number;
    readonly known: number;
    name: string;
    constructor(path: string, found: number, known: number);
}
/** A write the database refused: a duplicate uuid or ref, a changed uuid. */
export declare class ConstraintViolation extends XenError {
    name: string;
    constructor(detail: string);
}
