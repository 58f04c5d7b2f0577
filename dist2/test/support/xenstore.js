// Test helpers for xenstored: raw xsd_sockmsg peers (in-process and over a Unix socket) and a
// daemon on a socket in a fresh temp dir.
import { Buffer } from 'node:buffer';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XSD_SOCKMSG_SIZE, XS_ERROR, XS_WATCH_EVENT, readSockmsg, writeSockmsg } from '../../src/abi/xs_wire.js';
import { Xenstored } from '../../src/xenstore/server/daemon.js';
/** Payloads are written with '\0' in strings; they are latin1 bytes on the wire. */
export function packet(type, payload, txId = 0, reqId = 0) {
    const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : Buffer.from(payload);
    const h = Buffer.alloc(XSD_SOCKMSG_SIZE);
    writeSockmsg(h, { type, reqId, txId, len: body.length });
    return Buffer.concat([h, body]);
}
/** Splits a byte stream into messages. */
export class Framer {
    #buf = Buffer.alloc(0);
    msgs = [];
    push(bytes) {
        this.#buf = Buffer.concat([this.#buf, bytes]);
        while (this.#buf.length >= XSD_SOCKMSG_SIZE) {
            const { type, reqId, txId, len } = readSockmsg(this.#buf);
            const end = XSD_SOCKMSG_SIZE + len;
            if (this.#buf.length < end)
                break;
            this.msgs.push({ type, reqId, txId, payload: Buffer.from(this.#buf.subarray(XSD_SOCKMSG_SIZE, end)) });
            this.#buf = this.#buf.subarray(end);
        }
    }
}
/** A reply as "TYPE payload" text for compact assertions: errors read "ERROR ENOENT\0". */
export function show(m) {
    return `${m.type === XS_ERROR ? 'ERROR' : m.type} ${m.payload.toString('latin1')}`;
}
/**
 * A connection driven in-process. xenstored answers synchronously, so `req` returns the reply
 * at once; watch events collect in `events`.
 */
export class Peer {
    conn;
    framer = new Framer();
    events = [];
    dropped;
    #reqId = 1;
    constructor(xs, domid, opts = {}) {
        this.conn = xs.connect(domid, (b) => this.framer.push(b), { ...opts, onClose: (r) => { this.dropped = r; } });
    }
    /** Send a request; returns every non-event message it produced (normally the one reply). */
    send(type, payload, txId = 0) {
        this.conn.receive(packet(type, payload, txId, this.#reqId++));
        return this.drain();
    }
    drain() {
        const out = [];
        for (const m of this.framer.msgs.splice(0)) {
            if (m.type === XS_WATCH_EVENT)
                this.events.push(m.payload.toString('latin1'));
            else
                out.push(m);
        }
        return out;
    }
    /** The one reply to a request, as show() text. */
    req(type, payload, txId = 0) {
        const r = this.send(type, payload, txId);
        if (r.length !== 1)
            throw new Error(`expected one reply, got ${r.length}`);
        return show(r[0]);
    }
    takeEvents() {
        this.drain();
        return this.events.splice(0);
    }
}
/** A Xenstored listening on a socket in a fresh temp dir. */
export async function startDaemon(opts = {}) {
    const dir = await mkdtemp(join(tmpdir(), 'xenode-xs-'));
    const xs = new Xenstored(opts);
    const path = join(dir, 'socket');
    await xs.listen(path);
    return {
        xs,
        path,
        stop: async () => {
            await xs.close();
            await rm(dir, { recursive: true, force: true });
        },
    };
}
/** A raw client on the daemon's socket. */
export class SocketPeer {
    sock;
    framer = new Framer();
    closed = false;
    #waiters = [];
    constructor(sock) {
        this.sock = sock;
        sock.on('data', (d) => {
            this.framer.push(d);
            this.#wake();
        });
        sock.on('error', () => undefined);
        sock.on('close', () => {
            this.closed = true;
            this.#wake();
        });
    }
    static open(path) {
        return new Promise((resolve, reject) => {
            const s = connect(path, () => resolve(new SocketPeer(s)));
            s.once('error', reject);
        });
    }
    #wake() {
        for (const w of this.#waiters.splice(0))
            w();
    }
    write(bytes) {
        if (!this.sock.destroyed)
            this.sock.write(bytes);
    }
    /** Wait until `n` messages are buffered or the socket closes; returns them. */
    async recv(n = 1) {
        while (this.framer.msgs.length < n && !this.closed) {
            await new Promise((r) => this.#waiters.push(r));
        }
        return this.framer.msgs.splice(0, n);
    }
    async req(type, payload, txId = 0) {
        this.write(packet(type, payload, txId, 0x51));
        const [m] = await this.recv(1);
        if (m === undefined)
            throw new Error('connection closed');
        return m;
    }
    /** Resolves when the daemon has closed the connection. */
    async waitClosed() {
        while (!this.closed)
            await new Promise((r) => this.#waiters.push(r));
    }
    close() {
        this.sock.destroy();
    }
}
/** Two ends of an in-thread event channel; events arrive on a later turn, as real ones do. */
export function portPair() {
    const handlers = [new Set(), new Set()];
    const end = (me) => ({
        notify: () => setImmediate(() => { for (const h of handlers[1 - me])
            h(); }),
        onEvent: (h) => {
            handlers[me].add(h);
            return () => handlers[me].delete(h);
        },
        close: () => handlers[me].clear(),
    });
    return [end(0), end(1)];
}
//# sourceMappingURL=xenstore.js.map