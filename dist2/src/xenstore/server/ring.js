// xenstored's end of a domain's xenstore ring (xs_wire.h struct xenstore_domain_interface,
// docs/misc/xenstore-ring.txt); the index arithmetic both ends share is common/ring.ts.
import { XENSTORE_CONNECTED, XENSTORE_ERROR_NONE, XENSTORE_RECONNECT, XENSTORE_RING_SIZE, XENSTORE_SERVER_FEATURE_ERROR, XENSTORE_SERVER_FEATURE_RECONNECTION, } from '../../abi/xs_wire.js';
import { RingEnd, W_CONNECTION, W_ERROR, W_FEATURES, W_REQ_CONS, W_REQ_PROD, W_RSP_CONS, W_RSP_PROD, } from '../common/ring.js';
/** What the server end offers in server_features. */
export const SERVER_FEATURES = XENSTORE_SERVER_FEATURE_RECONNECTION | XENSTORE_SERVER_FEATURE_ERROR;
/** A server end stops reading requests while this many reply bytes wait for room (flow control). */
const SERVER_READ_HOLD_OFF = 4 * XENSTORE_RING_SIZE;
/**
 * xenstored's end of a domain's ring: request bytes go to the connection's `receive`, reply
 * bytes from `send` go into the rsp ring, held back while the guest has not made room.
 */
export class XenstoreRingServer extends RingEnd {
    #sink;
    #closed = false;
    constructor(ring, sink) {
        super(ring, true);
        this.#sink = sink;
        sink.onInputSpace = () => this.queuePass();
        // Advertised before any byte is consumed or produced, as the reconnection feature requires.
        Atomics.or(this.words, W_FEATURES, SERVER_FEATURES);
        this.listen();
        // The guest may have written (and signalled) before we were attached; look once the
        // daemon has finished wiring the connection to us.
        this.queuePass();
    }
    /** SendBytes: returns the reply bytes still waiting for room in the rsp ring. */
    send = (bytes) => {
        if (this.#closed || this.stopped)
            return 0;
        if (bytes.byteLength > 0)
            this.enqueue(bytes);
        return this.backlog.bytes;
    };
    /** xenstored dropped the peer: record why in `error` and stop using the ring for good. */
    close(reason) {
        if (this.#closed)
            return;
        this.#closed = true;
        if (reason !== XENSTORE_ERROR_NONE && !this.stopped) {
            this.writeWord(W_ERROR, reason);
            this.port.notify();
        }
        this.stopped = true;
        this.backlog.clear();
        this.unlisten();
        this.port.close();
    }
    service() {
        if (this.#closed)
            return;
        // A guest may ask for a reset at any time, including after the ring broke.
        if (this.readWord(W_CONNECTION) === XENSTORE_RECONNECT) {
            this.#reconnect();
            return;
        }
        if (this.stopped)
            return;
        const held = this.backlog.bytes;
        this.pump();
        if (this.backlog.bytes < held)
            this.#sink.outputPending?.(this.backlog.bytes);
    }
    wantInput() {
        return this.backlog.bytes < SERVER_READ_HOLD_OFF && this.#sink.wantsInput !== false;
    }
    deliver(bytes) {
        this.#sink.receive(bytes);
    }
    broken(code) {
        // xenstore-ring.txt "connection error feature": report, then stop talking and drop the
        // connection's packets, requests, watches and transactions; a reconnect may revive it.
        this.writeWord(W_ERROR, code);
        this.stopped = true;
        this.backlog.clear();
        this.#sink.reset();
        this.port.notify();
    }
    #reconnect() {
        this.#sink.reset();
        for (const w of [W_REQ_CONS, W_REQ_PROD, W_RSP_CONS, W_RSP_PROD])
            this.writeWord(w, 0);
        this.writeWord(W_ERROR, XENSTORE_ERROR_NONE);
        this.resync();
        this.stopped = false;
        // Last: the guest ignores every other field until it sees this.
        this.writeWord(W_CONNECTION, XENSTORE_CONNECTED);
        this.port.notify();
    }
}
/** The ServeRing of transport.ts: attach xenstored's connection `sink` to a domain's ring. */
export function serveRing(ring, sink) {
    return new XenstoreRingServer(ring, sink);
}
//# sourceMappingURL=ring.js.map