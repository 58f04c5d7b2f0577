/** What an entry points at; the bridge's port. */
export interface FdbOwner {
    /** Entries this port has learned now. */
    learned: number;
}
export interface FdbLimits {
    /** Seconds without a frame before an entry is forgotten (Linux's ageing_time: 300). */
    readonly agingMs: number;
    readonly maxEntries: number;
    readonly maxPerPort: number;
}
export declare const FDB_DEFAULTS: FdbLimits;
export interface FdbRow<P> {
    readonly vid: number;
    readonly mac: number;
    readonly port: P;
    readonly ageMs: number;
}
export declare class Fdb<P extends FdbOwner> {
    #private;
    readonly limits: FdbLimits;
    readonly now: () => number;
    /** Addresses not learned because a bound was reached. */
    full: number;
    constructor(limits: FdbLimits, now: () => number);
    get size(): number;
    /** The port a frame to `mac` goes to, or undefined to flood. */
    lookup(vid: number, mac: number): P | undefined;
    /** A frame from `mac` came in on `port`. */
    learn(vid: number, mac: number, port: P): void;
    /** Forget everything learned on a port (it left the bridge). */
    forget(port: P): void;
    rows(): FdbRow<P>[];
}
