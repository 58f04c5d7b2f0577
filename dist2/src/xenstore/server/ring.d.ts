import { type DomainRing, RingEnd } from '../common/ring.js';
import type { CloseReason, ConnectionSink, ServerTransport } from './transport.js';
/** What the server end offers in server_features. */
export declare const SERVER_FEATURES: number;
/**
 * xenstored's end of a domain's ring: request bytes go to the connection's `receive`, reply
 * bytes from `send` go into the rsp ring, held back while the guest has not made room.
 */
export declare class XenstoreRingServer extends RingEnd implements ServerTransport {
    #private;
    constructor(ring: DomainRing, sink: ConnectionSink);
    /** SendBytes: returns the reply bytes still waiting for room in the rsp ring. */
    readonly send: (bytes: Uint8Array) => number;
    /** xenstored dropped the peer: record why in `error` and stop using the ring for good. */
    close(reason: CloseReason): void;
    protected service(): void;
    protected wantInput(): boolean;
    protected deliver(bytes: Uint8Array): void;
    protected broken(code: number): void;
}
/** The ServeRing of transport.ts: attach xenstored's connection `sink` to a domain's ring. */
export declare function serveRing(ring: DomainRing, sink: ConnectionSink): ServerTransport;
