// One client connection of xenstored, whatever carries it: cuts the byte stream into
// xsd_sockmsg packets (common/frames.ts), owns the connection's transactions and watches, and
// frames replies and watch events. Its requests are handled when the scheduler gives it a turn;
// it holds at most INPUT_HOLD bytes of unprocessed input (the transport stops reading beyond
// that), and while more than OUTPUT_THROTTLE bytes of its output are unread its requests wait.
// A peer that sends an over-long packet, or lets unread output (watch events) grow past the
// connection's or the daemon's bound, is dropped; nothing it does reaches other connections.
import { Buffer } from 'node:buffer';
import { XENSTORE_ERROR_COMM, XENSTORE_ERROR_NONE, XENSTORE_ERROR_PROTO, XENSTORE_PAYLOAD_MAX, XS_ERROR, XS_WATCH_EVENT, XSD_ERRORS, XSD_SOCKMSG_SIZE, } from '../../abi/xs_wire.js';
import { XsFrameReader } from '../common/frames.js';
/** Unprocessed input a connection holds before its transport stops reading. */
export const INPUT_HOLD = 16 * 1024;
/** Unread output beyond which a connection's requests wait until the peer reads. */
export const OUTPUT_THROTTLE = 64 * 1024;
function header(type, reqId, txId, len) {
    const b = Buffer.allocUnsafe(XSD_SOCKMSG_SIZE + len);
    b.writeUInt32LE(type, 0);
    b.writeUInt32LE(reqId, 4);
    b.writeUInt32LE(txId, 8);
    b.writeUInt32LE(len, 12);
    return b;
}
const ERROR_PAYLOADS = new Map(XSD_ERRORS.map((e) => [e, Buffer.from(`${e}\0`, 'latin1')]));
export class Connection {
    owner;
    seq;
    domain;
    privileged;
    transport;
    onDrop;
    home;
    transactions = new Map();
    #nextTxId = 1;
    /** The transport was told to stop reading (input over INPUT_HOLD). */
    #inputHeld = false;
    /** Output handed to the transport and not yet taken by the peer, as last reported. */
    #unread = 0;
    /** Requests wait while an earlier one of this connection completes asynchronously. */
    #stalled = false;
    #closed = false;
    #frames = new XsFrameReader((h, payload, packet) => this.#packet(h, payload, packet), (len) => this.drop(XENSTORE_ERROR_PROTO, `packet payload of ${len} bytes exceeds ${XENSTORE_PAYLOAD_MAX}`));
    // Output the transport has not delivered yet: message end offsets in the byte stream.
    #sentBytes = 0;
    #ends = [];
    constructor(owner, seq, domain, privileged, transport, onDrop) {
        this.owner = owner;
        this.seq = seq;
        this.domain = domain;
        this.privileged = privileged;
        this.transport = transport;
        this.onDrop = onDrop;
        this.home = domain.path;
    }
    /** Set by the transport: called when the connection takes input again after holding it. */
    onInputSpace;
    get domid() {
        return this.domain.domid;
    }
    get target() {
        return this.domain.target;
    }
    get closed() {
        return this.#closed;
    }
    /** Replies and events handed to the transport and not yet delivered (as of the last send). */
    get outstanding() {
        return this.#ends.length;
    }
    receive(bytes) {
        if (this.#closed)
            return;
        this.#frames.append(bytes);
        this.owner.wake(this);
        if (!this.wantsInput)
            this.#inputHeld = true;
    }
    /** False while the connection holds more unprocessed input than INPUT_HOLD: stop reading. */
    get wantsInput() {
        return this.#frames.buffered <= INPUT_HOLD;
    }
    /** A complete request waits and may be handled now. */
    get runnable() {
        return !this.#closed && !this.#stalled && this.#unread <= OUTPUT_THROTTLE && this.#frames.ready;
    }
    /** Handle up to `max` requests (the scheduler's turn); returns how many were handled. */
    serve(max) {
        // One packet at a time: a reply may leave too much unread, or a request stall the rest.
        let n = 0;
        while (n < max && this.runnable)
            n += this.#frames.pull(1);
        if (this.#inputHeld && this.wantsInput) {
            this.#inputHeld = false;
            this.onInputSpace?.();
        }
        return n;
    }
    #packet(h, payload, packet) {
        if (this.owner.tracing)
            this.owner.trace(this, 'IN', packet);
        this.owner.dispatch(this, h.type, h.reqId, h.txId, payload);
    }
    /** Hold further requests until resume() (a request completing asynchronously). */
    stall() {
        this.#frames.hold();
    }
    resume() {
        this.#stalled = false;
        this.#frames.release();
        this.owner.wake(this);
    }
    nextTransactionId() {
        // Ids are per connection, never 0 (that means "no transaction"), never one in use.
        for (;;) {
            const id = this.#nextTxId;
            this.#nextTxId = (this.#nextTxId + 1) >>> 0;
            if (id !== 0 && !this.transactions.has(id))
                return id;
        }
    }
    reply(type, reqId, txId, payload) {
        const isString = typeof payload === 'string';
        const len = isString ? payload.length : payload.byteLength;
        if (len > XENSTORE_PAYLOAD_MAX) {
            this.replyError(reqId, txId, 'E2BIG');
            return;
        }
        const msg = header(type, reqId, txId, len);
        if (isString)
            msg.write(payload, XSD_SOCKMSG_SIZE, 'latin1');
        else
            msg.set(payload, XSD_SOCKMSG_SIZE);
        this.#send(msg);
    }
    replyError(reqId, txId, errno) {
        // Errors without a wire name go out as EINVAL, as cxenstored's send_error does.
        const payload = ERROR_PAYLOADS.get(errno) ?? ERROR_PAYLOADS.get('EINVAL');
        this.reply(XS_ERROR, reqId, txId, payload);
    }
    /** A WATCH_EVENT ("path\0token\0"); events that would not fit a packet are not sent. */
    sendEvent(path, token) {
        if (this.#closed)
            return;
        const len = path.length + token.length + 2;
        if (len > XENSTORE_PAYLOAD_MAX)
            return;
        const msg = header(XS_WATCH_EVENT, 0, 0, len);
        msg.write(path, XSD_SOCKMSG_SIZE, 'latin1');
        msg[XSD_SOCKMSG_SIZE + path.length] = 0;
        token.copy(msg, XSD_SOCKMSG_SIZE + path.length + 1);
        msg[msg.length - 1] = 0;
        this.#send(msg);
    }
    #send(msg) {
        if (this.#closed)
            return;
        if (this.owner.tracing)
            this.owner.trace(this, 'OUT', msg);
        let backlog;
        try {
            backlog = this.transport(msg) ?? 0;
        }
        catch (e) {
            // A transport that cannot take bytes has lost its peer.
            this.drop(XENSTORE_ERROR_COMM, `transport failed: ${e instanceof Error ? e.message : String(e)}`);
            return;
        }
        this.#sentBytes += msg.length;
        this.#noteUnread(backlog);
        if (this.#closed)
            return;
        if (backlog === 0) {
            if (this.#ends.length > 0)
                this.#ends = [];
            return;
        }
        const ends = this.#ends;
        ends.push(this.#sentBytes);
        const delivered = this.#sentBytes - backlog;
        let i = 0;
        while (i < ends.length && ends[i] <= delivered)
            i++;
        if (i > 0)
            ends.splice(0, i);
        if (!this.privileged && ends.length > this.owner.limits.outstanding) {
            this.drop(XENSTORE_ERROR_COMM, `${ends.length} replies/events (${backlog} bytes) left unread`);
        }
    }
    /** The transport reports how many bytes of output the peer has not taken yet. */
    outputPending(bytes) {
        if (this.#closed)
            return;
        const was = this.#unread;
        this.#noteUnread(bytes);
        if (was > OUTPUT_THROTTLE && bytes <= OUTPUT_THROTTLE)
            this.owner.wake(this);
    }
    #noteUnread(bytes) {
        const grew = bytes > this.#unread;
        const total = this.owner.addUnread(bytes - this.#unread);
        this.#unread = bytes;
        const { maxOutputBytes, maxTotalOutputBytes } = this.owner.limits;
        if (bytes > maxOutputBytes)
            this.drop(XENSTORE_ERROR_COMM, `${bytes} bytes of output left unread`);
        else if (grew && total > maxTotalOutputBytes)
            this.drop(XENSTORE_ERROR_COMM, `${bytes} bytes left unread while all connections hold ${total}`);
    }
    /** The peer reconnected its ring: start afresh, as a new connection would. */
    reset() {
        if (this.#closed)
            return;
        this.#frames.clear();
        this.#inputHeld = false;
        this.#ends = [];
        this.owner.forget(this);
    }
    /** The transport is gone. */
    close() {
        if (this.#closed)
            return;
        this.#closed = true;
        this.#frames.clear();
        this.owner.addUnread(-this.#unread);
        this.#unread = 0;
        this.owner.forget(this);
    }
    /** xenstored drops the peer (bad input, unread output, domain released). */
    drop(reason, why) {
        if (this.#closed)
            return;
        if (reason !== XENSTORE_ERROR_NONE)
            this.owner.log(`dropping connection of domain ${this.domid}: ${why}`);
        this.close();
        this.onDrop(reason);
    }
}
//# sourceMappingURL=connection.js.map