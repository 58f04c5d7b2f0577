import { type Ipv4 } from './addr.js';
import type { Clock } from './clock.js';
import type { Udp } from './udp.js';
export interface DnsOptions {
    timeoutMs: number;
    attempts: number;
}
export declare class DnsResolver {
    #private;
    private readonly udp;
    private readonly clock;
    private readonly random;
    servers: Ipv4[];
    readonly opts: DnsOptions;
    constructor(udp: Udp, clock: Clock, random: () => number, opts?: Partial<DnsOptions>);
    /** The IPv4 addresses of `name` (a dotted address resolves to itself). */
    resolve(name: string): Promise<string[]>;
}
export declare function encodeQuery(id: number, qname: string): Uint8Array;
/** Read a possibly compressed name at `off`; returns it and where the field ends, or undefined. */
export declare function readName(b: Uint8Array, off: number): {
    name: string;
    end: number;
} | undefined;
