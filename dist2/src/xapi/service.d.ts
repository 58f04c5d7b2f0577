import type { HostEvent, Toolstack } from '../toolstack/contract.js';
import { type XapiRole } from '../toolstack/contract.js';
import type { HostDb } from '../toolstack/db/hostdb.js';
import { type AuditSink } from './audit.js';
import { type CallHost, type ClassicEvents, type MigrationEndpoint } from './calls.js';
import { EventLog, type EventLimits } from './events.js';
import { type DbClass, type PoolIdentity, type XRecord } from './model.js';
import { LoginThrottle, SessionTable, type LoginLimits, type SessionLimits, type SessionStore } from './sessions.js';
import { RrdSampler, type RrdUpdates } from './rrd.js';
import { TaskTable } from './tasks.js';
import { type XValue } from './types.js';
import type { User } from './users.js';
/** Who is calling: a TCP peer's address, or the local Unix socket (whose root needs no password). */
export interface Peer {
    readonly source: string;
    readonly local: boolean;
}
export interface Authenticator {
    /** The user if the password is theirs. */
    authenticate(name: string, password: string): Promise<User | undefined>;
    /** Set by the service: a user was replaced (new role or password), so their sessions end. */
    onReplaced: (name: string) => void;
}
export interface XapiServiceOptions {
    readonly sessions?: Partial<SessionLimits>;
    /** Where sessions outlive the process (the host database); in memory only when absent. */
    readonly sessionStore?: SessionStore;
    readonly logins?: Partial<LoginLimits>;
    readonly events?: Partial<EventLimits>;
    /** Where state-changing calls and logins are recorded (the state dir's audit.log); nowhere when absent. */
    readonly audit?: AuditSink;
    /** This host's migration listener, once it listens (host.migrate_receive hands it out). */
    readonly migration?: () => MigrationEndpoint | undefined;
}
/** Whether `role` may make a call that needs `need` (roles are ordered, most powerful first). */
export declare function roleAllows(role: XapiRole, need: XapiRole): boolean;
export declare class XapiService implements CallHost {
    #private;
    readonly ts: Toolstack;
    readonly db: HostDb;
    private readonly users;
    /** The pool's and the host's refs, read from the database at start. */
    identity: PoolIdentity;
    /** Statistics for /rrd_updates, sampled from start() on. */
    readonly rrd: RrdSampler;
    readonly sessions: SessionTable;
    readonly throttle: LoginThrottle;
    readonly events: EventLog;
    readonly tasks: TaskTable;
    constructor(ts: Toolstack, db: HostDb, users: Authenticator, opts?: XapiServiceOptions);
    /**
     * Take up the stored sessions, and follow the host database's changes, so that event.from
     * sees every record change (a VM's included: the toolstack writes it at each change of its domain).
     */
    start(): Promise<this>;
    served(cls: DbClass, ref: string): Promise<XRecord>;
    servedAll(cls: DbClass): Promise<ReadonlyMap<string, XRecord>>;
    migration(): MigrationEndpoint | undefined;
    /** A session's classic event registration (event.register/next), made on first use; it ends with the session. */
    classicEvents(session: string): ClassicEvents;
    /** /rrd_updates: the session (query session_id) must be live; `start` is required, AVERAGE the only cf. */
    rrdUpdates(query: URLSearchParams): RrdUpdates;
    close(): void;
    /** Every call served, Async.* forms included (system.listMethods). */
    listMethods(): string[];
    call(method: string, params: readonly unknown[], peer: Peer): Promise<XValue>;
    /**
     * Run `act`, then wait until the host reports one of `types` for `domid` (or a domain it
     * restarted from it); VM_SHUTDOWN_TIMEOUT after `timeoutMs`.
     */
    untilDomain(domid: number, types: readonly HostEvent['type'][], timeoutMs: number, act: () => Promise<unknown>): Promise<void>;
}
