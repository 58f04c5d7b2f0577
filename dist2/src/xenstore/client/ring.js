// A guest's end of its xenstore ring (xs_wire.h struct xenstore_domain_interface,
// docs/misc/xenstore-ring.txt); the index arithmetic both ends share is common/ring.ts.
import { XENSTORE_CONNECTED, XENSTORE_ERROR_NONE, XENSTORE_RECONNECT, XENSTORE_SERVER_FEATURE_ERROR, XENSTORE_SERVER_FEATURE_RECONNECTION, } from '../../abi/xs_wire.js';
import { XenError } from '../../errors.js';
import { RingEnd, W_CONNECTION, W_ERROR, W_FEATURES, ringErrorName } from '../common/ring.js';
/**
 * A guest's end of its xenstore ring, as a client transport: requests into `req`, replies and
 * watch events out of `rsp`.
 */
export class XenstoreRingClient extends RingEnd {
    #onData;
    #onClose;
    #early = [];
    #closed = false;
    #reconnecting;
    constructor(ring) {
        super(ring, false);
        this.listen();
        // Someone else may have started a reset (xenstore-ring.txt): wait for it like our own.
        if (this.readWord(W_CONNECTION) === XENSTORE_RECONNECT)
            this.#awaitReconnect();
        else
            this.queuePass();
    }
    get serverFeatures() {
        return this.readWord(W_FEATURES);
    }
    start(onData, onClose) {
        this.#onData = onData;
        this.#onClose = onClose;
        for (const b of this.#early.splice(0))
            onData(b);
    }
    send(bytes) {
        if (this.#closed)
            throw new XenError('ENOTCONN', 'xenstore ring is closed');
        if (this.#reconnecting)
            throw new XenError('EAGAIN', 'xenstore ring is being reconnected');
        this.enqueue(bytes);
    }
    close() {
        this.#shutdown(new XenError('ENOTCONN', 'xenstore ring closed by this end'));
    }
    /**
     * Ask xenstored to reset the ring (ring reconnection feature): every request, watch and
     * transaction of this connection is dropped and both queues start empty.
     */
    reconnect() {
        if (this.#closed)
            return Promise.reject(new XenError('ENOTCONN', 'xenstore ring is closed'));
        if ((this.serverFeatures & XENSTORE_SERVER_FEATURE_RECONNECTION) === 0) {
            return Promise.reject(new XenError('EOPNOTSUPP', 'xenstored does not offer ring reconnection'));
        }
        this.writeWord(W_CONNECTION, XENSTORE_RECONNECT);
        const done = this.#awaitReconnect();
        this.port.notify();
        return done;
    }
    #awaitReconnect() {
        this.stopped = true;
        return new Promise((resolve) => {
            this.#reconnecting = { resolve };
        });
    }
    service() {
        if (this.#closed)
            return;
        if (this.#reconnecting) {
            if (this.readWord(W_CONNECTION) !== XENSTORE_CONNECTED)
                return;
            const { resolve } = this.#reconnecting;
            this.#reconnecting = undefined;
            this.resync();
            this.stopped = false;
            resolve();
        }
        const err = this.readWord(W_ERROR);
        if (err !== XENSTORE_ERROR_NONE && (this.serverFeatures & XENSTORE_SERVER_FEATURE_ERROR) !== 0) {
            this.#shutdown(new XenError('EIO', `xenstored stopped the ring: ${ringErrorName(err)}`));
            return;
        }
        this.pump();
    }
    deliver(bytes) {
        if (this.#onData)
            this.#onData(bytes);
        else
            this.#early.push(bytes);
    }
    broken(code, why) {
        // Only the server may write `error`; the guest just stops using a ring it cannot trust.
        this.#shutdown(new XenError('EIO', `xenstore ring is corrupt (${ringErrorName(code)}): ${why}`));
    }
    #shutdown(err) {
        if (this.#closed)
            return;
        this.#closed = true;
        this.stopped = true;
        this.backlog.clear();
        this.unlisten();
        this.#early = [];
        this.#onClose?.(err);
    }
}
//# sourceMappingURL=ring.js.map