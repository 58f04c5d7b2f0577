export interface Target {
    readonly socket: string;
    /** False once the daemon has died. */
    alive(): boolean;
}
export interface Difference {
    seed: number;
    op: number;
    request: string;
    xenode: string[];
    cxenstored: string[];
    /** The requests before it (at most HISTORY) with xenode's messages, to reproduce it by hand. */
    before: string[];
}
export interface SeedResult {
    ops: number;
    /** How often each rule explained a difference. */
    explained: Record<string, number>;
    difference: Difference | undefined;
}
/** Run one seed of `count` requests against both daemons (already running, any state). */
export declare function runSeed(seed: number, count: number, xenode: Target, cxenstored: Target): Promise<SeedResult>;
export interface FuzzResult {
    ops: number;
    ms: number;
    explained: Record<string, number>;
    differences: Difference[];
}
/**
 * Seeds `first`..`first+seeds-1` of `ops` requests each against a fresh xenode xenstored and
 * cxenstored (restarted after a difference, which may have killed it or left its store apart).
 */
export declare function runFuzz(first: number, seeds: number, ops: number): Promise<FuzzResult>;
