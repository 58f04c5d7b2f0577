import { TcpipError } from './errors.js';
export declare const TYPE: {
    readonly A: 1;
    readonly NS: 2;
    readonly CNAME: 5;
    readonly SOA: 6;
    readonly MX: 15;
    readonly TXT: 16;
};
export type RrType = keyof typeof TYPE;
export interface Rr {
    /** Owner name, lower case, no trailing dot. */
    readonly name: string;
    readonly type: number;
    readonly ttl: number;
    /** RDATA: an address, a host name, MX preference + host, or TXT text. */
    readonly data: {
        readonly a?: Uint8Array;
        readonly host?: string;
        readonly pref?: number;
        readonly text?: Uint8Array;
    };
}
export interface Zone {
    readonly origin: string;
    readonly ttl: number;
    readonly soa: Rr;
    /** Records per owner name. */
    readonly nodes: ReadonlyMap<string, readonly Rr[]>;
}
/** The zone's text is wrong: says where. */
export declare class ZoneError extends TcpipError {
    name: string;
    constructor(message: string);
}
/** A DNS name: letters, digits, '-' and '_' labels of 1..63, at most 253 characters; lower case. */
export declare function checkName(name: string): string;
/** `name` is `origin` or below it. */
export declare function within(name: string, origin: string): boolean;
/** Parse `zone=`, `ttl=` and `records=` out of a command line. */
export declare function parseZone(cmdline: string): Zone;
