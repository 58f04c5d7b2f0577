import type { Tx } from '../toolstack/db/hostdb.js';
import { type Classes, type Ref, type VMRecord } from '../toolstack/db/records.js';
import type { XValue } from './types.js';
export type XRecord = Record<string, XValue>;
export type PowerState = VMRecord['power_state'];
/** The classes served from the host database, under XAPI's names. */
export declare const DB_CLASSES: readonly ["pool", "host", "host_metrics", "VM", "VM_metrics", "VM_guest_metrics", "VBD", "VDI", "SR", "PBD", "VIF", "network", "PIF", "console", "message"];
export type DbClass = (typeof DB_CLASSES)[number];
/** Tasks live in memory (tasks.ts), as XAPI's do. */
export type ServedClass = DbClass | 'task';
export declare const SERVED_CLASSES: readonly ServedClass[];
export declare function isDbClass(c: string): c is DbClass;
/** Every field served of a class, in XAPI's names (docs/XENAPI.md lists them). */
export declare function servedFields(cls: ServedClass): string[];
export declare function isServedField(cls: ServedClass, field: string): boolean;
/** What a VM in a power state may do (XAPI's allowed_operations); a halted VM with a domain (shut down, kept) may only be destroyed. */
export declare function vmAllowed(r: VMRecord): string[];
/** A record of a database class with its derived fields; `tx` reads the relations. */
export declare function serveRecord<C extends DbClass>(tx: Tx, cls: C, ref: Ref<C>, rec: Classes[C]): XRecord;
/** The pool's and the host's refs (the host database's, so they persist). */
export interface PoolIdentity {
    readonly poolRef: string;
    readonly hostRef: string;
    readonly hostUuid: string;
}
export declare function poolIdentity(tx: Tx): PoolIdentity;
