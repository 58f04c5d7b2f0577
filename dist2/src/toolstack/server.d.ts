import { type Toolstack } from './contract.js';
export interface ControlLimits {
    /** Connections served at once; more are refused with EAGAIN. */
    readonly maxConnections: number;
    /** Requests of one connection running at once; its further requests wait unread. */
    readonly maxInFlight: number;
    /** Requests of one connection started in one turn of the event loop: others get theirs in between. */
    readonly perTurn: number;
    /** A connection with this much unread output gets no more of its requests read... */
    readonly outputHigh: number;
    /** ...until it has read down to this. */
    readonly outputLow: number;
    /** A console or event stream with this much unread output is dropped (it cannot be paused). */
    readonly streamUnread: number;
    /**
     * What all connections together hold: unread output and requests received but not taken
     * (a partial line, say). Past it the connection holding the most is dropped.
     */
    readonly totalHeld: number;
}
export declare const CONTROL_LIMITS: ControlLimits;
export declare class ControlServer {
    #private;
    private readonly server;
    readonly path: string;
    private readonly api;
    readonly limits: ControlLimits;
    private constructor();
    static listen(path: string, api: Toolstack, limits?: Partial<ControlLimits>): Promise<ControlServer>;
    /** Connections served, and the bytes written to them that they have not read yet. */
    stats(): {
        connections: number;
        unreadBytes: number;
        inputBytes: number;
    };
    /** Stop listening and hang up on every client once what was written to it is out. */
    close(): Promise<void>;
}
