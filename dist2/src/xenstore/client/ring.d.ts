import { XenError } from '../../errors.js';
import { type DomainRing, RingEnd } from '../common/ring.js';
import type { XsClientTransport } from './transport.js';
/**
 * A guest's end of its xenstore ring, as a client transport: requests into `req`, replies and
 * watch events out of `rsp`.
 */
export declare class XenstoreRingClient extends RingEnd implements XsClientTransport {
    #private;
    constructor(ring: DomainRing);
    get serverFeatures(): number;
    start(onData: (bytes: Uint8Array) => void, onClose: (err: XenError) => void): void;
    send(bytes: Uint8Array): void;
    close(): void;
    /**
     * Ask xenstored to reset the ring (ring reconnection feature): every request, watch and
     * transaction of this connection is dropped and both queues start empty.
     */
    reconnect(): Promise<void>;
    protected service(): void;
    protected deliver(bytes: Uint8Array): void;
    protected broken(code: number, why: string): void;
}
