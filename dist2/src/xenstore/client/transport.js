// Byte transports under the xenstore client library. The client speaks the xsd_sockmsg wire
// format over any of them: xenstored's Unix socket (dom0 tools), a guest's ring page (ring.ts),
// or an in-process connection to a Xenstored in the same thread (dom0 code in the host).
import { connect as netConnect } from 'node:net';
import { XENSTORE_ERROR_NONE } from '../../abi/xs_wire.js';
import { XenError } from '../../errors.js';
import { ringErrorName } from '../common/ring.js';
/** Connect to xenstored's Unix socket (XENSTORED_PATH for Xen's own tools). */
export function connectSocket(path) {
    return new Promise((resolve, reject) => {
        const sock = netConnect({ path });
        const refused = (e) => {
            reject(new XenError('ECONNREFUSED', `no xenstored at ${path} (${e.code ?? e.message})`));
        };
        sock.once('error', refused);
        sock.once('connect', () => {
            sock.off('error', refused);
            resolve(new SocketTransport(sock, path));
        });
    });
}
class SocketTransport {
    sock;
    path;
    #lastError;
    #corked = false;
    #onClose;
    #closedErr;
    constructor(sock, path) {
        this.sock = sock;
        this.path = path;
        // Keep errors (EPIPE, ECONNRESET) for the close report; 'close' always follows.
        sock.on('error', (e) => { this.#lastError = e; });
        sock.on('close', () => {
            const why = this.#lastError ? `: ${this.#lastError.message}` : '';
            this.#closedErr ??= new XenError('ENOTCONN', `connection to xenstored at ${this.path} closed${why}`);
            this.#onClose?.(this.#closedErr);
        });
        // Paused until start(), so nothing is lost before a handler exists.
        sock.pause();
    }
    start(onData, onClose) {
        this.#onClose = onClose;
        if (this.#closedErr) {
            onClose(this.#closedErr);
            return;
        }
        this.sock.on('data', onData);
        this.sock.resume();
    }
    send(bytes) {
        if (this.#closedErr || this.sock.destroyed) {
            throw new XenError('ENOTCONN', `connection to xenstored at ${this.path} is closed`);
        }
        // Pipelined requests issued in one turn leave in one writev.
        if (!this.#corked) {
            this.#corked = true;
            this.sock.cork();
            queueMicrotask(() => {
                this.#corked = false;
                this.sock.uncork();
            });
        }
        this.sock.write(bytes);
    }
    close() {
        this.#closedErr ??= new XenError('ENOTCONN', `connection to xenstored at ${this.path} closed by this end`);
        this.sock.destroy();
    }
}
/**
 * A connection to a Xenstored in this thread (dom0 code in the host process), as domain
 * `domid` (privileged for dom0 unless opts say otherwise).
 */
export function connectLocal(xenstored, domid = 0, opts = {}) {
    return new LocalTransport(xenstored, domid, opts);
}
class LocalTransport {
    domid;
    #conn;
    #onData;
    #onClose;
    #inbox = [];
    #flushQueued = false;
    #closedErr;
    #closeReported = false;
    constructor(xenstored, domid, opts) {
        this.domid = domid;
        this.#conn = xenstored.connect(domid, (bytes) => this.#fromDaemon(bytes), { ...opts, onClose: (r) => this.#dropped(r) });
    }
    start(onData, onClose) {
        this.#onData = onData;
        this.#onClose = onClose;
        this.#queueFlush();
    }
    send(bytes) {
        if (this.#closedErr)
            throw new XenError('ENOTCONN', `xenstore connection of domain ${this.domid} is closed`);
        this.#conn.receive(bytes);
    }
    close() {
        if (this.#closedErr)
            return;
        this.#conn.close();
        this.#end(new XenError('ENOTCONN', 'xenstore connection closed by this end'));
    }
    #fromDaemon(bytes) {
        // Delivered on a later microtask, never inside the daemon's call: a watch callback that
        // writes to xenstore must not re-enter xenstored while it is firing watches.
        this.#inbox.push(bytes);
        this.#queueFlush();
        return 0;
    }
    #queueFlush() {
        if (this.#flushQueued || !this.#onData)
            return;
        this.#flushQueued = true;
        queueMicrotask(() => {
            this.#flushQueued = false;
            const chunks = this.#inbox;
            this.#inbox = [];
            for (const c of chunks)
                this.#onData(c);
            if (this.#closedErr && this.#inbox.length === 0)
                this.#reportClose();
        });
    }
    #reportClose() {
        if (this.#closeReported || !this.#onClose)
            return;
        this.#closeReported = true;
        this.#onClose(this.#closedErr);
    }
    #dropped(reason) {
        const why = reason === XENSTORE_ERROR_NONE ? '' : ` (${ringErrorName(reason)})`;
        this.#end(new XenError('ENOTCONN', `xenstored dropped the connection of domain ${this.domid}${why}`));
    }
    #end(err) {
        if (this.#closedErr)
            return;
        this.#closedErr = err;
        // After whatever the daemon sent before closing.
        if (this.#inbox.length > 0 && this.#onData)
            this.#queueFlush();
        else
            this.#reportClose();
    }
}
//# sourceMappingURL=transport.js.map