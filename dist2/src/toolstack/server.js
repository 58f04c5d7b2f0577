// The host daemon's control socket: serves the command API to local clients over the protocol
// of wire.ts. The socket is 0600 in a 0700 state dir: only the host's user gets in. A command
// runs to completion even if its client goes away (its reply is dropped), so a client that
// disconnects mid-command never leaves a half-done change behind.
//
// Every client is bounded, so that one that floods requests or never reads its replies costs
// itself and not the host or other clients (docs/SECURITY.md, "Control socket"): a few requests
// in flight at a time, its requests left unread while its replies pile up, a cap on what all
// clients together leave unread (the largest is dropped past it), and on how many connect.
import { chmod, lstat, unlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { XenError } from '../errors.js';
import { decodeRequest } from './contract.js';
import { MAX_REQUEST_BYTES, LineBuffer, encodeError, encodeLine, parseRequest } from './wire.js';
export const CONTROL_LIMITS = {
    maxConnections: 1024,
    maxInFlight: 64,
    perTurn: 8,
    outputHigh: 1 << 20,
    outputLow: 256 << 10,
    streamUnread: 8 << 20,
    totalHeld: 64 << 20,
};
/** One client connection's state. */
class Conn {
    sock;
    /** rpc: request lines; upgrading: a stream op is being set up, input waits; stream: raw. */
    mode = 'rpc';
    stream = null;
    lines = new LineBuffer(MAX_REQUEST_BYTES);
    /** Requests running. */
    inFlight = 0;
    /** Bytes written to the socket and not yet taken by the client. */
    unread = 0;
    /** Bytes received and not yet taken as requests, as last counted. */
    input = 0;
    /** Above outputHigh, until below outputLow. */
    outputBlocked = false;
    /** The client has ended its side. */
    clientDone = false;
    /** Every complete line received has been taken. */
    linesTaken = true;
    drainScheduled = false;
    closed = false;
    constructor(sock) {
        this.sock = sock;
    }
}
/** A decoded request's operation, with the arguments typed for it. */
function call(api, req) {
    return api.call(req.op, req.args);
}
export class ControlServer {
    server;
    path;
    api;
    limits;
    #conns = new Set();
    /** Sum of every connection's unread bytes. */
    #unread = 0;
    /** Sum of every connection's input bytes. */
    #input = 0;
    constructor(server, path, api, limits) {
        this.server = server;
        this.path = path;
        this.api = api;
        this.limits = limits;
    }
    static async listen(path, api, limits = {}) {
        // The caller holds the state dir's lock, so a socket here is a dead host's.
        const st = await lstat(path).catch(() => undefined);
        if (st?.isSocket())
            await unlink(path);
        // Half-open: a client may send its requests, end its side, and still read the replies
        // (`socat - UNIX-CONNECT:control.sock < requests`).
        const server = createServer({ allowHalfOpen: true });
        const s = new ControlServer(server, path, api, { ...CONTROL_LIMITS, ...limits });
        server.on('connection', (sock) => s.#accept(sock));
        await new Promise((resolve, reject) => {
            server.once('error', reject);
            server.listen(path, () => {
                server.off('error', reject);
                resolve();
            });
        });
        await chmod(path, 0o600);
        return s;
    }
    /** Connections served, and the bytes written to them that they have not read yet. */
    stats() {
        return { connections: this.#conns.size, unreadBytes: this.#unread, inputBytes: this.#input };
    }
    #accept(sock) {
        sock.on('error', () => { });
        if (this.#conns.size >= this.limits.maxConnections) {
            const e = new XenError('EAGAIN', `the host serves at most ${this.limits.maxConnections} control connections at once: try again when others have closed`);
            // Closed outright once the line is out: a refused client must not keep a descriptor half open.
            sock.end(encodeLine({ id: 0, ok: false, error: encodeError(e) }), () => sock.destroy());
            return;
        }
        const c = new Conn(sock);
        this.#conns.add(c);
        sock.on('data', (chunk) => {
            if (c.mode === 'stream') {
                c.stream.input(chunk);
                return;
            }
            c.lines.push(chunk);
            this.#drain(c);
        });
        sock.on('end', () => {
            c.clientDone = true;
            // A stream ends with its client; requests still running get their replies first.
            if (c.mode === 'stream')
                sock.end();
            else
                this.#maybeEnd(c);
        });
        sock.on('close', () => {
            c.closed = true;
            this.#conns.delete(c);
            this.#unread -= c.unread;
            c.unread = 0;
            this.#input -= c.input;
            c.input = 0;
            c.stream?.close();
        });
    }
    /** Write to a client, counting what it has not read yet against its bounds and the total. */
    #send(c, data) {
        if (c.closed || c.sock.destroyed)
            return;
        const n = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
        c.unread += n;
        this.#unread += n;
        c.sock.write(data, () => {
            if (c.closed)
                return;
            c.unread -= n;
            this.#unread -= n;
            if (c.outputBlocked && c.unread <= this.limits.outputLow) {
                c.outputBlocked = false;
                this.#scheduleDrain(c);
            }
        });
        if (c.mode === 'stream' && c.unread > this.limits.streamUnread) {
            c.sock.destroy();
            return;
        }
        if (c.unread > this.limits.outputHigh)
            c.outputBlocked = true;
        this.#checkTotal();
        this.#flow(c);
    }
    #checkTotal() {
        if (this.#unread + this.#input <= this.limits.totalHeld)
            return;
        let largest;
        for (const c of this.#conns)
            if (!largest || c.unread + c.input > largest.unread + largest.input)
                largest = c;
        largest?.sock.destroy();
    }
    /** Read a client's requests only while it may start more, has none waiting, and reads its replies. */
    #flow(c) {
        if (c.closed)
            return;
        // Complete lines still waiting are enough input: what the client sends next stays in its socket.
        const hold = c.mode === 'upgrading' || (c.mode === 'rpc' && (!c.linesTaken || c.inFlight >= this.limits.maxInFlight || c.outputBlocked));
        if (hold && !c.sock.isPaused())
            c.sock.pause();
        else if (!hold && c.sock.isPaused())
            c.sock.resume();
    }
    /**
     * Go on with a client's requests in a later turn of the event loop, not in the microtask
     * of the reply that made room: a client whose requests complete at once must not keep the
     * loop from everyone else.
     */
    #scheduleDrain(c) {
        if (c.drainScheduled)
            return;
        c.drainScheduled = true;
        setImmediate(() => {
            c.drainScheduled = false;
            this.#drain(c);
            this.#flow(c);
            this.#maybeEnd(c);
        });
    }
    #reply(c, r) {
        this.#send(c, encodeLine(r));
    }
    /** Hang up once the client has ended its side and every reply is out. */
    #maybeEnd(c) {
        if (c.clientDone && c.inFlight === 0 && c.mode === 'rpc' && c.linesTaken)
            c.sock.end();
    }
    #drain(c) {
        try {
            for (let started = 0; c.mode === 'rpc' && !c.closed; started++) {
                if (c.inFlight >= this.limits.maxInFlight || c.outputBlocked) {
                    c.linesTaken = false;
                    break;
                }
                if (started === this.limits.perTurn) {
                    c.linesTaken = false;
                    this.#scheduleDrain(c);
                    break;
                }
                const line = c.lines.next();
                if (line === undefined) {
                    c.linesTaken = true;
                    break;
                }
                this.#handle(c, line);
            }
        }
        catch (e) {
            // A line past the limit: say why, and hang up.
            this.#reply(c, { id: 0, ok: false, error: encodeError(e) });
            c.sock.end();
        }
        if (!c.closed) {
            const input = c.mode === 'stream' ? 0 : c.lines.length;
            this.#input += input - c.input;
            c.input = input;
            this.#checkTotal();
        }
        this.#flow(c);
    }
    #handle(c, line) {
        let id = 0;
        let req;
        try {
            const w = parseRequest(line);
            id = w.id;
            req = decodeRequest(w.op, w.args);
        }
        catch (e) {
            this.#reply(c, { id, ok: false, error: encodeError(e) });
            return;
        }
        if (req.kind === 'call') {
            c.inFlight++;
            call(this.api, req).then((result) => this.#reply(c, { id, ok: true, result }), (e) => this.#reply(c, { id, ok: false, error: encodeError(e) })).finally(() => {
                c.inFlight--;
                this.#scheduleDrain(c);
            });
            return;
        }
        c.mode = 'upgrading';
        this.#upgrade(c, req).then((s) => {
            this.#reply(c, { id, ok: true, result: s.result });
            c.stream = s.stream;
            c.mode = 'stream';
            s.stream.start();
            const rest = c.lines.takeRest();
            this.#input -= c.input;
            c.input = 0;
            if (rest.length)
                s.stream.input(rest);
            this.#flow(c);
            if (c.clientDone)
                c.sock.end();
        }, (e) => {
            this.#reply(c, { id, ok: false, error: encodeError(e) });
            c.mode = 'rpc';
            this.#scheduleDrain(c);
        });
    }
    /** Set up a console or event stream for this connection. */
    async #upgrade(c, req) {
        // The stream starts after the ok reply: what comes before (a console's replayed log, an
        // event) waits for it.
        let held = [];
        let endHeld = false;
        const send = (data) => (held ? held.push(data) : this.#send(c, data));
        const end = () => (held ? (endHeld = true) : c.sock.end());
        const started = () => {
            const early = held ?? [];
            held = null;
            for (const data of early)
                this.#send(c, data);
            if (endHeld)
                c.sock.end();
        };
        if (req.op === 'events') {
            const sub = await this.api.events((e) => send(encodeLine(e)));
            return { result: {}, stream: { start: started, input: () => { }, close: () => sub.close() } };
        }
        const session = await this.api.console(req.args.domain, { onOutput: send, onEnd: end }, { replay: req.args.replay === true });
        return {
            result: { domid: session.domid, name: session.name },
            stream: { start: started, input: (data) => session.write(data), close: () => session.close() },
        };
    }
    /** Stop listening and hang up on every client once what was written to it is out. */
    async close() {
        const closed = new Promise((resolve) => this.server.close(() => resolve()));
        for (const c of this.#conns)
            c.sock.end(() => c.sock.destroy());
        await closed;
    }
}
//# sourceMappingURL=server.js.map