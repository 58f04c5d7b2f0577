import type { TcpipStack } from '../../tcpip/index.js';
export declare const DNS_PORT = 53;
export interface DnsUpstream {
    readonly address: string;
    readonly port: number;
}
export interface DnsRelayLimits {
    /** Queries waiting for an answer at once; more are dropped (the guest retries). */
    readonly maxPending: number;
    readonly timeoutMs: number;
}
export declare const DNS_RELAY_DEFAULTS: DnsRelayLimits;
export interface DnsRelayCounters {
    queries: number;
    answers: number;
    dropped: number;
}
export declare class DnsRelay {
    #private;
    private readonly stack;
    readonly upstream: DnsUpstream;
    private readonly limits;
    readonly counters: DnsRelayCounters;
    constructor(stack: TcpipStack, upstream: DnsUpstream, limits?: DnsRelayLimits);
    get pending(): number;
    close(): void;
}
