import type { DomainInfo, Toolstack } from '../toolstack/contract.js';
/** xcp-rrdd's base step. */
export declare const STEP_S = 5;
/** The AVERAGE archives: rows of `steps` base steps each (5 s × 120 = 10 min, 1 min × 120 = 2 h, 1 h × 168 = a week). */
export declare const ARCHIVES: readonly [{
    readonly steps: 1;
    readonly rows: 120;
}, {
    readonly steps: 12;
    readonly rows: 120;
}, {
    readonly steps: 720;
    readonly rows: 168;
}];
/** Data sources kept at most (host and VMs); a source past it is not recorded. */
export declare const MAX_SOURCES: number;
export interface RrdUpdates {
    readonly meta: {
        start: number;
        step: number;
        end: number;
        rows: number;
        columns: number;
        legend: string[];
    };
    readonly data: {
        t: number;
        values: number[];
    }[];
}
export declare class RrdStore {
    #private;
    /** Record one sample of the host and its domains at time `t` (s, a multiple of STEP_S). */
    sample(t: number, hostUuid: string, host: {
        memoryTotalKiB: number;
        memoryFreeKiB: number;
        cpuAvg: number;
    }, domains: readonly DomainInfo[]): void;
    get sources(): number;
    /**
     * xcp-rrdd's rrd_updates: the rows after `start` (s) of the finest archive whose step is at
     * least `interval`, of the host's sources (with `host`) and every VM's, AVERAGE only.
     */
    updates(start: number, interval: number, host: boolean): RrdUpdates;
}
/** Samples a host every STEP_S seconds into an RrdStore, until stopped. */
export declare class RrdSampler {
    #private;
    private readonly ts;
    private readonly hostUuid;
    readonly store: RrdStore;
    constructor(ts: Toolstack, hostUuid: () => string);
    start(): this;
    /** Take one sample, at the current step. */
    sampleNow(): Promise<void>;
    stop(): void;
}
