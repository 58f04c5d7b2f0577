import { type XapiRole } from '../toolstack/contract.js';
import type { HostDb } from '../toolstack/db/hostdb.js';
export interface Session {
    readonly ref: string;
    readonly uuid: string;
    readonly user: string;
    readonly role: XapiRole;
    /** Where the login came from: an address, or 'unix' for the local socket. */
    readonly source: string;
    readonly originator: string;
    readonly created: Date;
    lastActive: number;
    /** lastActive as the store last had it. */
    stored: number;
}
/** Where sessions outlive the process: told of each change, read once at start. */
export interface SessionStore {
    load(): Promise<Session[]>;
    /** A session began, or was used a while after its last save. */
    save(s: Session): void;
    remove(ref: string): void;
}
export interface SessionLimits {
    /** A session idle this long ends. */
    readonly idleMs: number;
    /** Sessions at once; the least recently used goes past it. */
    readonly maxSessions: number;
}
export declare const SESSION_LIMITS: SessionLimits;
export declare class SessionTable {
    #private;
    readonly limits: SessionLimits;
    private readonly now;
    private readonly store?;
    constructor(limits?: SessionLimits, now?: () => number, store?: SessionStore | undefined);
    /** The sessions the store kept (those still within their idle limit), oldest use first. */
    restore(): Promise<void>;
    create(user: string, role: XapiRole, source: string, originator: string): Session;
    /** The live session of `ref` (now used), or SESSION_INVALID. */
    use(ref: unknown): Session;
    revoke(ref: string): boolean;
    /** End every session of a user. */
    revokeUser(user: string): void;
    has(ref: string): boolean;
    get size(): number;
    all(): Session[];
}
export interface LoginLimits {
    /** Failed logins from one source within the window before its logins are refused... */
    readonly failures: number;
    /** ...until the window since its first failure is over. */
    readonly windowMs: number;
    /** Sources tracked at once; past it the oldest entry is forgotten. */
    readonly maxSources: number;
}
export declare const LOGIN_LIMITS: LoginLimits;
/** Failed logins per source: a guesser gets `failures` tries per window, then waits. */
export declare class LoginThrottle {
    #private;
    readonly limits: LoginLimits;
    private readonly now;
    constructor(limits?: LoginLimits, now?: () => number);
    /** SESSION_AUTHENTICATION_FAILED if `source` has failed too often lately. */
    check(source: string, user: string): void;
    failed(source: string): void;
    succeeded(source: string): void;
}
/**
 * Sessions as the host database's session records: auth_user_name, originator, last_active;
 * root's local sessions are is_local_superuser. The role is the user's at load time.
 */
export declare class HostDbSessions implements SessionStore {
    private readonly db;
    private readonly onError;
    /** Called with a write the database refused (the session goes on in memory). */
    constructor(db: HostDb, onError: (e: Error) => void);
    load(): Promise<Session[]>;
    save(s: Session): void;
    remove(ref: string): void;
}
