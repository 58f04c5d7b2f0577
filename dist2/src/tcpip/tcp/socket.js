// A connection as a Node Duplex byte stream: writes wait while the send buffer is full, reads
// open the receive window as the application consumes, end() sends FIN (half-close stays open
// for reading), destroy() without end() resets. Errors are the stack's typed errors.
import { Duplex } from 'node:stream';
import { formatIpv4 } from '../addr.js';
export class TcpSocket extends Duplex {
    #conn;
    #pending;
    #wantRead = false;
    #ended = false;
    constructor(conn) {
        super({ allowHalfOpen: true, readableHighWaterMark: 64 * 1024, writableHighWaterMark: 64 * 1024 });
        this.#conn = conn;
        conn.events = {
            onEstablished: () => this.emit('connect'),
            onReadable: () => this.#pump(),
            onWritable: () => this.#flush(),
            onClosed: (err) => this.#onClosed(err),
        };
    }
    get remoteAddress() {
        return formatIpv4(this.#conn.remoteAddr);
    }
    get remotePort() {
        return this.#conn.remotePort;
    }
    get localPort() {
        return this.#conn.localPort;
    }
    get state() {
        return this.#conn.state;
    }
    /** Nagle off (true) or on (false, the default). */
    setNoDelay(noDelay = true) {
        this.#conn.noDelay = noDelay;
        if (noDelay)
            this.#conn.output();
        return this;
    }
    setKeepAlive(enable, idleMs, intervalMs, count) {
        this.#conn.setKeepAlive(enable, idleMs, intervalMs, count);
        return this;
    }
    /** Abort with RST. */
    reset() {
        this.#conn.reset();
        this.destroy();
    }
    _write(chunk, _enc, cb) {
        this.#pending = { chunk, cb };
        this.#flush();
    }
    #flush() {
        const p = this.#pending;
        if (!p)
            return;
        const n = this.#conn.write(p.chunk);
        if (n === p.chunk.length) {
            this.#pending = undefined;
            p.cb();
        }
        else
            p.chunk = p.chunk.subarray(n);
    }
    _final(cb) {
        this.#conn.close();
        cb();
    }
    _read() {
        this.#wantRead = true;
        this.#pump();
    }
    #pump() {
        while (this.#wantRead) {
            const b = this.#conn.read();
            if (!b)
                break;
            if (!this.push(b))
                this.#wantRead = false;
        }
        if (this.#conn.finReceived && this.#conn.rcvQueue.length === 0 && !this.#ended) {
            this.#ended = true;
            this.push(null);
        }
    }
    #onClosed(err) {
        this.#pump();
        if (err)
            this.destroy(err);
        else if (!this.#ended) {
            this.#ended = true;
            this.push(null);
        }
        const p = this.#pending;
        if (p) {
            this.#pending = undefined;
            p.cb(err ?? new Error('connection closed'));
        }
    }
    _destroy(err, cb) {
        // Destroyed before our FIN was queued (an abort, not an orderly close): reset the peer.
        const s = this.#conn.state;
        if (s === 'ESTABLISHED' || s === 'CLOSE-WAIT' || s === 'SYN-SENT' || s === 'SYN-RECEIVED')
            this.#conn.reset();
        cb(err);
    }
}
//# sourceMappingURL=socket.js.map