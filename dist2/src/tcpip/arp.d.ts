import type { NetFrameInfo } from '../abi/netif.js';
import { type Ipv4 } from './addr.js';
import type { Clock } from './clock.js';
import { type Ethernet } from './ethernet.js';
export interface ArpOptions {
    /** Cache entries kept at most; the oldest goes first. */
    maxEntries: number;
    /** How long an answer stays good. */
    entryTtlMs: number;
    /** Requests sent before giving up on an address, and the time between them. */
    retries: number;
    retryMs: number;
    /** Addresses being resolved at once, and frames queued for each. */
    maxPending: number;
    maxQueuedPerAddress: number;
}
export declare const ARP_DEFAULTS: ArpOptions;
export declare class Arp {
    #private;
    private readonly eth;
    private readonly clock;
    private readonly localAddress;
    readonly opts: ArpOptions;
    /** Called when an address did not answer; upper layers fail what waits on it. */
    onUnreachable: (ip: Ipv4) => void;
    dropped: number;
    constructor(eth: Ethernet, clock: Clock, localAddress: () => Ipv4, opts?: Partial<ArpOptions>);
    get size(): number;
    get pendingCount(): number;
    lookup(ip: Ipv4): Uint8Array | undefined;
    /** Send an Ethernet frame to the next hop `ip`, resolving its MAC first if need be. */
    send(ip: Ipv4, frame: Uint8Array, ethertype: number, info?: NetFrameInfo): void;
    /** Announce our address (a gratuitous ARP request: sender and target are both us). */
    announce(): void;
    /** Forget everything (the address changed, or the interface went away). */
    flush(): void;
    input(frame: Uint8Array, o: number): void;
}
