import { Buffer } from 'node:buffer';
export declare const FUZZ_ROOT = "/d";
/** One request to send: the connection (0 or 1), the packet parts, and which transaction. */
export interface Op {
    conn: number;
    type: number;
    payload: Buffer;
    /** 0 for none, else the fuzz's number of a transaction opened earlier (or a bogus one). */
    tx: number;
    /** TRANSACTION_START: the fuzz's number for the new transaction, if it is granted. */
    starts?: number;
    /** A header claiming more payload than XENSTORE_PAYLOAD_MAX: both daemons close the connection. */
    oversize?: boolean;
}
export declare class OpGenerator {
    #private;
    /** Open transactions per connection, by the fuzz's numbering. */
    open: number[][];
    constructor(seed: number);
    /** Whether connection `conn` has a watch (events may be on their way to it). */
    watching(conn: number): boolean;
    /** What xenode answered `op` (ok: not an error): the transactions and watches that exist. */
    settled(op: Op, ok: boolean): void;
    /** The connection was closed: its transactions and watches are gone. */
    reset(conn: number): void;
    next(): Op;
}
