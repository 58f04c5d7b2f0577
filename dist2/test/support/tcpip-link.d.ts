import { type NetFrameInfo } from '../../src/abi/netif.js';
import type { Net, NetOffloads, NetStats } from '../../src/drivers/net/front/net.js';
import type { Clock, Timer } from '../../src/tcpip/clock.js';
import type { ReassemblyOptions } from '../../src/tcpip/reassembly.js';
import { type TcpipStack } from '../../src/tcpip/stack.js';
import type { TcpConfig } from '../../src/tcpip/tcp/settings.js';
/** A clock that moves only when told: timers fire in deadline order, ties in arming order. */
export declare class ManualClock implements Clock {
    #private;
    now(): number;
    setTimer(ms: number, fn: () => void): Timer;
    get pending(): number;
    /** The next live deadline, or undefined. */
    next(): number | undefined;
    /** Fire everything due at or before `to`, then set the clock to `to`. */
    advanceTo(to: number): void;
}
export interface LinkOptions {
    seed?: number;
    /** Probability that a frame is lost, duplicated; ms of base delay and of extra random delay (reordering). */
    loss?: number;
    duplicate?: number;
    delayMs?: number;
    jitterMs?: number;
    mtu?: number;
    offloads?: Partial<NetOffloads>;
}
type Handler = (frame: Uint8Array, info: NetFrameInfo) => void;
/** One end of the link, a Net as netfront gives a guest. */
export declare class LinkEnd implements Net {
    readonly link: Link;
    readonly mac: string;
    readonly mtu: number;
    readonly devid = 0;
    readonly offloads: NetOffloads;
    handlers: Set<Handler>;
    peer: LinkEnd;
    rx: number;
    tx: number;
    /** Every frame this end sends, as the link sees it (before loss). */
    onTransmit: ((frame: Uint8Array, info: NetFrameInfo) => void) | undefined;
    constructor(link: Link, mac: string, mtu: number, offloads: NetOffloads);
    write(frames: Uint8Array | readonly Uint8Array[], info?: NetFrameInfo): Promise<void>;
    listen(handler: Handler): () => void;
    /** Hand a frame to whoever listens on this end (a hostile peer's frame). */
    deliver(frame: Uint8Array, info?: NetFrameInfo): void;
    stats(): NetStats;
    disconnect(): Promise<void>;
}
/** Two Net ends joined back to back through a lossy, deterministic wire. */
export declare class Link {
    readonly clock: ManualClock;
    readonly a: LinkEnd;
    readonly b: LinkEnd;
    readonly random: () => number;
    opts: Required<Omit<LinkOptions, 'offloads' | 'seed' | 'mtu'>>;
    /** Frames carried and dropped so far. */
    carried: number;
    dropped: number;
    /** When false, frames in flight are delivered but new ones vanish (a cable pulled). */
    up: boolean;
    constructor(clock: ManualClock, o?: LinkOptions);
    carry(to: LinkEnd, frame: Uint8Array, info: NetFrameInfo): void;
}
/** Let promise callbacks and stream events run (they use microtasks and nextTick). */
export declare function settle(): Promise<void>;
/**
 * Run the virtual clock until `done()` holds or `maxMs` of virtual time pass (bounded in steps
 * too); returns whether `done()` held.
 */
export declare function runUntil(clock: ManualClock, done: () => boolean, maxMs?: number, maxSteps?: number): Promise<boolean>;
/** Run until `p` settles; returns its value or throws its error (or a timeout of the rig). */
export declare function runPromise<T>(clock: ManualClock, p: Promise<T>, maxMs?: number): Promise<T>;
/** Two stacks on one link: a at 10.0.0.1, b at 10.0.0.2 (a /24), seeded. */
export declare function stackPair(o?: LinkOptions & {
    tcp?: Partial<TcpConfig>;
    /** TCP settings of b only (a server with its own limits). */
    tcpB?: Partial<TcpConfig>;
    reassembly?: Partial<ReassemblyOptions>;
}): {
    clock: ManualClock;
    link: Link;
    a: TcpipStack;
    b: TcpipStack;
};
/** Read everything from a stream into one buffer as it arrives. */
export declare function collect(s: NodeJS.ReadableStream): {
    bytes: () => Buffer;
    ended: () => boolean;
};
export interface RawTcp {
    src: string;
    dst: string;
    srcPort: number;
    dstPort: number;
    seq: number;
    ack?: number;
    flags: number;
    window?: number;
    /** Raw option bytes (a multiple of 4 long, or not: the data offset rounds down). */
    options?: Uint8Array;
    payload?: Uint8Array;
}
/** A hand-made Ethernet + IPv4 + TCP frame with correct checksums (a peer we do not trust). */
export declare function tcpFrame(t: RawTcp, dstMac?: string, srcMac?: string): Uint8Array;
/** Write a 20-byte IPv4 header (no fragmentation unless `frag` is given) with its checksum. */
export declare function ipHeader(f: Uint8Array, o: number, total: number, proto: number, src: number, dst: number, id?: number, frag?: number): void;
/** An Ethernet + IPv4 frame around `payload` (a fragment when `frag` is given: offset/8 | MF). */
export declare function ipv4Frame(src: string, dst: string, proto: number, payload: Uint8Array, id?: number, frag?: number, dstMac?: string): Uint8Array;
export {};
