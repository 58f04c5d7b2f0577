export type VifType = 'vif' | 'ioemu';
/** Outgoing rate limit: credit of bytesPerInterval, replenished every intervalUsecs. */
export interface VifRate {
    readonly bytesPerInterval: number;
    readonly intervalUsecs: number;
}
export interface VifSpec {
    /** Lowercase aa:bb:cc:dd:ee:ff, unicast. */
    readonly mac?: string;
    readonly bridge?: string;
    /** Backend domain name or id. */
    readonly backend?: string;
    /** Backend interface name (the default is vifDOMID.DEVID). */
    readonly vifname?: string;
    readonly model?: string;
    readonly type?: VifType;
    /** One or more addresses, space-separated, each IPv4 or IPv6 with an optional /prefix. */
    readonly ip?: string;
    readonly rate?: VifRate;
    readonly mtu?: number;
    readonly script?: string;
    readonly gatewaydev?: string;
    /** Device id; the default is the spec's index in the vif list. */
    readonly devid?: number;
    /** Advisory: may the frontend trust the backend. */
    readonly trusted?: boolean;
}
/** A vif specification is malformed; reason says what is wrong. */
export declare class VifSpecError extends Error {
    readonly spec: string;
    readonly reason: string;
    name: string;
    constructor(spec: string, reason: string);
}
/** Xen's OUI, the prefix xl gives the MACs it generates. */
export declare const XEN_OUI: readonly [number, number, number];
/** A MAC as xl generates one: Xen's OUI, then 23 random bits (the top bit of byte 3 clear). */
export declare function randomVifMac(random?: Uint8Array): string;
/** Parses one vifspec. Throws VifSpecError (and nothing else) if it is malformed. */
export declare function parseVifSpec(spec: string): VifSpec;
