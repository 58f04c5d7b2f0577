// The control socket's protocol: newline-delimited JSON. A client sends requests
// {"id":N,"op":"list","args":{...}} and gets one reply per request, in any order:
// {"id":N,"ok":true,"result":...} or {"id":N,"ok":false,"error":{"name","message","errno"?}}.
// Two operations turn the connection into a stream once their ok reply is out: "console"
// (raw bytes both ways, as a pty would carry them) and "events" (one HostEvent per line).
import { XEN_ERRNO, XenError } from '../errors.js';
/** Requests are small; anything longer is garbage or hostile. */
export const MAX_REQUEST_BYTES = 1 << 20;
/** Replies can be large (list -l of a thousand domains), but not unbounded. */
export const MAX_REPLY_BYTES = 256 << 20;
export function encodeError(e) {
    if (e instanceof XenError)
        return { name: e.name, message: e.message, errno: e.errno, detail: e.detail };
    if (e instanceof Error)
        return { name: e.name, message: e.message };
    return { name: 'Error', message: String(e) };
}
/** The error as the server threw it: a XenError stays one, so callers can test its errno. */
export function decodeError(w) {
    if (w.errno !== undefined && Object.hasOwn(XEN_ERRNO, w.errno))
        return new XenError(w.errno, w.detail ?? w.message);
    const e = new Error(String(w.message));
    e.name = String(w.name);
    return e;
}
/** Parse a request line; a malformed one is EINVAL (with the id, if one could be read). */
export function parseRequest(line) {
    let v;
    try {
        v = JSON.parse(line);
    }
    catch {
        throw new XenError('EINVAL', 'malformed request: not JSON');
    }
    const r = v;
    if (typeof r !== 'object' || r === null || !Number.isSafeInteger(r.id) || typeof r.op !== 'string') {
        throw new XenError('EINVAL', 'malformed request: want {"id": integer, "op": string, "args": object}');
    }
    return { id: r.id, op: r.op, args: r.args };
}
export function encodeLine(message) {
    return `${JSON.stringify(message)}\n`;
}
/**
 * Splits a byte stream into lines, refusing a line longer than `limit`. Bytes are copied into
 * one growing buffer and each is searched once, so a line sent a byte at a time costs what it
 * costs in one piece (a client cannot make the host's work grow with the square of its line).
 */
export class LineBuffer {
    limit;
    #buf = EMPTY;
    /** The bytes held are #buf[#start, #end); none of #buf[#start, #scanned) is a newline. */
    #start = 0;
    #end = 0;
    #scanned = 0;
    constructor(limit) {
        this.limit = limit;
    }
    /** Bytes held: the partial line and any lines not taken yet. */
    get length() {
        return this.#end - this.#start;
    }
    push(chunk) {
        const live = this.#end - this.#start;
        if (this.#end + chunk.length > this.#buf.length) {
            let cap = Math.max(this.#buf.length, MIN_CAPACITY);
            while (live + chunk.length > cap / 2)
                cap *= 2;
            // Move the live bytes to the front, into a larger buffer when half of this one would not do.
            const to = cap === this.#buf.length ? this.#buf : Buffer.allocUnsafe(cap);
            this.#buf.copy(to, 0, this.#start, this.#end);
            this.#buf = to;
            this.#scanned -= this.#start;
            this.#start = 0;
            this.#end = live;
        }
        chunk.copy(this.#buf, this.#end);
        this.#end += chunk.length;
    }
    /** The next complete line without its newline, or undefined; E2BIG if a line runs past the limit. */
    next() {
        const nl = this.#buf.subarray(0, this.#end).indexOf(0x0a, Math.max(this.#start, this.#scanned));
        if (nl < 0) {
            this.#scanned = this.#end;
            if (this.length > this.limit)
                throw tooLong(this.limit);
            return undefined;
        }
        if (nl - this.#start > this.limit)
            throw tooLong(this.limit);
        const line = this.#buf.toString('utf8', this.#start, nl);
        this.#start = nl + 1;
        this.#scanned = this.#start;
        if (this.#start === this.#end)
            this.#reset();
        return line;
    }
    /** Everything after the last line taken (where a stream starts); empties the buffer. */
    takeRest() {
        const rest = Buffer.from(this.#buf.subarray(this.#start, this.#end));
        this.#reset();
        return rest;
    }
    #reset() {
        this.#start = this.#end = this.#scanned = 0;
        // An idle connection keeps no large buffer from one long line.
        if (this.#buf.length > KEEP_CAPACITY)
            this.#buf = EMPTY;
    }
}
const EMPTY = Buffer.alloc(0);
const MIN_CAPACITY = 16 << 10;
const KEEP_CAPACITY = 64 << 10;
function tooLong(limit) {
    return new XenError('E2BIG', `a line of more than ${limit} bytes`);
}
//# sourceMappingURL=wire.js.map