// A raw xenstore socket client for the differential fuzz: sends one packet at a time and keeps,
// in arrival order, every message the daemon sends on this connection (replies and watch
// events), so two daemons' streams can be compared message by message.
import { Buffer } from 'node:buffer';
import { connect } from 'node:net';
import { XSD_SOCKMSG_SIZE, XS_ERROR, XS_TYPE_NAMES, XS_WATCH_EVENT, writeSockmsg } from '../../src/abi/xs_wire.js';
import { XsFrameReader } from '../../src/xenstore/common/frames.js';
/** A packet with a raw payload (malformed ones included), as the fuzz builds them. */
export function rawPacket(type, txId, payload, reqId = 0) {
    const h = Buffer.alloc(XSD_SOCKMSG_SIZE);
    writeSockmsg(h, { type, reqId, txId, len: payload.length });
    return Buffer.concat([h, payload]);
}
/** One message as comparable text: "READ abc\0", "ERROR ENOENT\0", "WATCH_EVENT /d\0t\0". */
export function describe(m) {
    const name = m.type === XS_ERROR ? 'ERROR' : XS_TYPE_NAMES[m.type] || `type${m.type}`;
    return `${name} ${JSON.stringify(m.payload.toString('latin1')).slice(1, -1)}`;
}
export class WireClient {
    sock;
    /** Messages not yet taken, in arrival order. */
    inbox = [];
    closed = false;
    #wake;
    #reader = new XsFrameReader((h, payload) => {
        this.inbox.push({ type: h.type, txId: h.txId, payload: Buffer.from(payload) });
        this.#wake?.();
    });
    constructor(sock) {
        this.sock = sock;
        sock.on('data', (d) => this.#reader.push(d));
        sock.on('error', () => undefined);
        sock.on('close', () => {
            this.closed = true;
            this.#wake?.();
        });
    }
    static open(path) {
        return new Promise((resolve, reject) => {
            const s = connect(path, () => resolve(new WireClient(s)));
            s.once('error', reject);
        });
    }
    /**
     * Send one packet and return everything received up to and including its reply (events that
     * arrived first come first). Resolves with what came if the daemon closes the connection or
     * nothing answers within `timeoutMs` (a daemon that died or ignores the packet).
     */
    async request(packet, timeoutMs) {
        if (!this.closed)
            this.sock.write(packet);
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const at = this.inbox.findIndex((m) => m.type !== XS_WATCH_EVENT);
            if (at >= 0)
                return { msgs: this.inbox.splice(0, at + 1), replied: true };
            if (this.closed || Date.now() >= deadline)
                return { msgs: this.inbox.splice(0), replied: false };
            await new Promise((resolve) => {
                const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
                this.#wake = () => {
                    clearTimeout(t);
                    resolve();
                };
            });
            this.#wake = undefined;
        }
    }
    close() {
        this.sock.destroy();
    }
}
//# sourceMappingURL=wire.js.map