import type { Clock } from './clock.js';
export interface ReassemblyOptions {
    maxDatagrams: number;
    maxBytes: number;
    maxFragments: number;
    timeoutMs: number;
}
export declare const REASSEMBLY_DEFAULTS: ReassemblyOptions;
export interface ReassemblyCounters {
    completed: number;
    dropped: number;
}
export declare class Reassembly {
    #private;
    private readonly clock;
    readonly counters: ReassemblyCounters;
    readonly opts: ReassemblyOptions;
    constructor(clock: Clock, opts?: Partial<ReassemblyOptions>);
    get datagrams(): number;
    get bytes(): number;
    /**
     * Add one fragment (`offset` in bytes, `more` = MF). Returns the whole payload when this
     * fragment completes its datagram.
     */
    add(key: string, offset: number, more: boolean, data: Uint8Array): Uint8Array | undefined;
    clear(): void;
}
