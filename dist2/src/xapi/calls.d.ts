import type { HostEvent, Toolstack, XapiRole } from '../toolstack/contract.js';
import type { HostDb } from '../toolstack/db/hostdb.js';
import { type EventLog } from './events.js';
import { type DbClass, type PoolIdentity, type XRecord } from './model.js';
import type { Session, SessionTable } from './sessions.js';
import type { TaskTable } from './tasks.js';
import type { XType, XValue } from './types.js';
/** Where this host receives migrations (host.migrate_receive hands it out), if it does. */
export interface MigrationEndpoint {
    /** ADDRESS:PORT, as the migrate row's target. */
    readonly address: string;
    readonly token: string;
}
/** What calls use of the service (service.ts). */
export interface CallHost {
    /** This host's migration listener (`--listen`), if any. */
    migration(): MigrationEndpoint | undefined;
    readonly ts: Toolstack;
    readonly db: HostDb;
    readonly identity: PoolIdentity;
    readonly sessions: SessionTable;
    readonly events: EventLog;
    readonly tasks: TaskTable;
    untilDomain(domid: number, types: readonly HostEvent['type'][], timeoutMs: number, act: () => Promise<unknown>): Promise<void>;
    /** A database record as served (HANDLE_INVALID if there is none), from a cache the database's changes clear. */
    served(cls: DbClass, ref: string): Promise<XRecord>;
    /** Every record of a class as served, cached likewise. */
    servedAll(cls: DbClass): Promise<ReadonlyMap<string, XRecord>>;
    /** Classic events (event.register/next/unregister) of a session. */
    classicEvents(session: string): ClassicEvents;
}
/** A session's classic event registration: the classes it wants, and the last event it has seen. */
export interface ClassicEvents {
    classes: Set<string>;
    cursor: number;
}
export interface CallContext {
    readonly svc: CallHost;
    readonly session: Session;
    /** An Async.* call's task progress (0..1); nothing for a plain call. */
    progress: (fraction: number) => void;
}
export interface Call {
    readonly params: readonly {
        readonly name: string;
        readonly type: XType;
    }[];
    readonly role: XapiRole;
    /** Served as Async.NAME too, returning a task. */
    readonly async?: boolean;
    /** It changes something: the audit log has it. */
    readonly writes?: boolean;
    run(ctx: CallContext, args: XValue[]): Promise<XValue | undefined> | XValue | undefined;
}
/** The xl.cfg text of a VM.create record: name_label, PV_kernel and memory_static_max are needed. */
export declare function configOfRecord(rec: Readonly<Record<string, XValue>>): string;
/** How long a clean shutdown or reboot may take before VM_SHUTDOWN_TIMEOUT (XAPI waits 1200 s). */
export declare const CLEAN_SHUTDOWN_MS = 60000;
export declare const CALLS: Readonly<Record<string, Call>>;
