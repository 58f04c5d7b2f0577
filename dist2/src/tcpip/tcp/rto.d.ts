export interface RtoOptions {
    minRtoMs: number;
    maxRtoMs: number;
    initialRtoMs: number;
}
export declare const RTO_DEFAULTS: RtoOptions;
export declare class Rto {
    #private;
    private readonly opts;
    srtt: number;
    rttvar: number;
    rto: number;
    constructor(opts: RtoOptions);
    sample(r: number): void;
    backoff(): void;
}
