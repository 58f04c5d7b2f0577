// xsd_sockmsg framing (xen/io/xs_wire.h): encode a request, cut a byte stream into packets.
// Shared by xenstored's connections, the client library and the benchmark's load generator.
import { Buffer } from 'node:buffer';
import { XENSTORE_PAYLOAD_MAX, XSD_SOCKMSG_LEN, XSD_SOCKMSG_REQ_ID, XSD_SOCKMSG_SIZE, XSD_SOCKMSG_TX_ID, XSD_SOCKMSG_TYPE, XS_TYPE_NAMES, writeSockmsg, } from '../../abi/xs_wire.js';
import { XenError } from '../../errors.js';
export function typeName(type) {
    const n = XS_TYPE_NAMES[type];
    return n ? `XS_${n}` : `type ${type}`;
}
/**
 * One request packet: the header, then each part followed by a NUL, except that with `rawLast`
 * the last part (a WRITE value) goes without one. E2BIG if the payload exceeds
 * XENSTORE_PAYLOAD_MAX, which xenstored would treat as a protocol violation and disconnect.
 */
export function encodeRequest(type, reqId, txId, parts, rawLast = false) {
    const bufs = parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p));
    let len = rawLast ? -1 : 0;
    for (const b of bufs)
        len += b.byteLength + 1;
    len = Math.max(len, 0);
    if (len > XENSTORE_PAYLOAD_MAX) {
        throw new XenError('E2BIG', `${typeName(type)} payload is ${len} bytes (limit ${XENSTORE_PAYLOAD_MAX})`);
    }
    const out = Buffer.allocUnsafe(XSD_SOCKMSG_SIZE + len);
    writeSockmsg(out, { type, reqId, txId, len });
    let at = XSD_SOCKMSG_SIZE;
    bufs.forEach((b, i) => {
        out.set(b, at);
        at += b.byteLength;
        if (!(rawLast && i === bufs.length - 1))
            out[at++] = 0;
    });
    return out;
}
/**
 * Cuts an xsd_sockmsg byte stream (any chunking) into packets: the one framer of xenode's
 * xenstore, used by xenstored's connections for requests and by the client for replies and
 * watch events.
 */
export class XsFrameReader {
    onPacket;
    onOversize;
    /** Bytes of an incomplete packet (or of packets held back by hold()), copied out of the chunk. */
    #rest;
    #held = false;
    /** Bumped by clear(), so a cut in progress stops when its consumer resets the stream. */
    #epoch = 0;
    /**
     * `onPacket` gets each packet's header, its payload and the whole packet, as views into the
     * chunk; nothing here writes to it afterwards. `onOversize` is called for a header whose
     * payload exceeds XENSTORE_PAYLOAD_MAX: the stream cannot be trusted after that, so the rest
     * is discarded. By default (a client reading xenstored's replies) it throws EIO out of push().
     */
    constructor(onPacket, onOversize = oversize) {
        this.onPacket = onPacket;
        this.onOversize = onOversize;
    }
    /** Feed bytes; calls onPacket for every complete packet, unless held. */
    push(chunk) {
        this.#cut(this.#take(chunk), Infinity);
    }
    /**
     * Store bytes without cutting them: the consumer takes packets with pull() when it has time
     * (xenstored serves its connections in turns).
     */
    append(chunk) {
        this.#rest = this.#take(chunk);
    }
    /** Bytes stored and not yet cut. */
    get buffered() {
        return this.#rest?.length ?? 0;
    }
    /** Whether a whole packet (or a header too long to be one) is stored. */
    get ready() {
        const d = this.#rest;
        if (this.#held || d === undefined || d.length < XSD_SOCKMSG_SIZE)
            return false;
        const len = d.readUInt32LE(XSD_SOCKMSG_LEN);
        return len > XENSTORE_PAYLOAD_MAX || d.length >= XSD_SOCKMSG_SIZE + len;
    }
    /** Cut and deliver up to `max` stored packets; returns how many were delivered. */
    pull(max) {
        const data = this.#rest;
        this.#rest = undefined;
        return data === undefined ? 0 : this.#cut(data, max);
    }
    /** Stop after the packet being delivered: the consumer completes it asynchronously. */
    hold() {
        this.#held = true;
    }
    /** The held packet completed: pull() goes on with the packets stored meanwhile. */
    release() {
        this.#held = false;
    }
    /** Drop buffered bytes and stop the cut in progress (the stream was reset or closed). */
    clear() {
        this.#rest = undefined;
        this.#epoch++;
    }
    /** The stored bytes followed by `chunk`. */
    #take(chunk) {
        const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        const rest = this.#rest;
        this.#rest = undefined;
        return rest === undefined ? data : Buffer.concat([rest, data]);
    }
    #cut(data, max) {
        const epoch = this.#epoch;
        let at = 0;
        let n = 0;
        while (!this.#held && n < max && data.length - at >= XSD_SOCKMSG_SIZE) {
            const len = data.readUInt32LE(at + XSD_SOCKMSG_LEN);
            if (len > XENSTORE_PAYLOAD_MAX) {
                this.clear();
                this.onOversize(len);
                return n;
            }
            const end = at + XSD_SOCKMSG_SIZE + len;
            if (end > data.length)
                break;
            // Read with Buffer's accessors, not readSockmsg's DataView: this is xenstored's hot path.
            const h = {
                type: data.readUInt32LE(at + XSD_SOCKMSG_TYPE),
                reqId: data.readUInt32LE(at + XSD_SOCKMSG_REQ_ID),
                txId: data.readUInt32LE(at + XSD_SOCKMSG_TX_ID),
                len,
            };
            const packet = data.subarray(at, end);
            at = end;
            n++;
            this.onPacket(h, packet.subarray(XSD_SOCKMSG_SIZE), packet);
            if (epoch !== this.#epoch)
                return n;
        }
        if (at < data.length) {
            const tail = data.subarray(at);
            // Whole packets left for a later pull stay a view; an incomplete tail is copied so the
            // transport's chunk can be freed.
            this.#rest = this.#rest !== undefined ? Buffer.concat([tail, this.#rest]) : n >= max || this.#held ? tail : Buffer.from(tail);
        }
        return n;
    }
}
function oversize(len) {
    throw new XenError('EIO', `xenstored sent a ${len}-byte payload (limit ${XENSTORE_PAYLOAD_MAX})`);
}
//# sourceMappingURL=frames.js.map