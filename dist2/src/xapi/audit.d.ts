import { type LogFileOptions } from '../toolstack/logfile.js';
import type { XValue } from './types.js';
export interface AuditEntry {
    /** The user (the login name), or the name a failed login gave. */
    readonly user: string;
    /** Where the call came from: a TCP peer's address, or "unix". */
    readonly source: string;
    /** The session's uuid ('' for a login that failed). */
    readonly session: string;
    readonly call: string;
    readonly args: readonly string[];
    /** "ok", or XAPI's error code. */
    readonly result: string;
}
export interface AuditSink {
    record(e: AuditEntry): void;
}
/** A parameter as the log shows it: strings and numbers cut short, structures by their keys. */
export declare function auditArg(v: XValue): string;
export declare class AuditLog implements AuditSink {
    #private;
    constructor(path: string, limits?: Omit<LogFileOptions, 'droppedLine'>);
    record(e: AuditEntry): void;
    flushed(): Promise<void>;
    close(): Promise<void>;
}
