import { type Ipv4 } from './addr.js';
export interface StaticConfig {
    readonly address: Ipv4;
    readonly netmask: Ipv4;
    readonly gateway: Ipv4 | undefined;
    readonly dns: readonly Ipv4[];
}
export interface StaticConfigInput {
    /** "A.B.C.D", "A.B.C.D/NN" or "client:server:gw:netmask:host:dev:autoconf". */
    ip: string;
    netmask?: string;
    gateway?: string;
    dns?: readonly string[];
}
export declare function parseStaticConfig(c: StaticConfigInput): StaticConfig;
