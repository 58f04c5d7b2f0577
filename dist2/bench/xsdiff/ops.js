// Seeded random xenstore requests for the differential fuzz. Paths come from a small set so
// that the two connections keep colliding (conflicting transactions, watches that fire, removals
// under open transactions); a few requests are malformed on purpose. Requests that crash
// cxenstored 4.17 are never generated (docs/XENSTORE.md, "cxenstored crashes").
import { Buffer } from 'node:buffer';
import { XS_DIRECTORY, XS_DIRECTORY_PART, XS_GET_DOMAIN_PATH, XS_GET_PERMS, XS_MKDIR, XS_READ, XS_RM, XS_SET_PERMS, XS_ERROR, XS_TRANSACTION_END, XS_TRANSACTION_START, XS_TYPE_COUNT, XS_UNWATCH, XS_WATCH, XS_WATCH_EVENT, XS_WRITE, } from '../../src/abi/xs_wire.js';
import { rng } from './rng.js';
export const FUZZ_ROOT = '/d';
const PATHS = ['/d', '/d/a', '/d/b', '/d/a/x', '/d/a/y', '/d/b/x', '/d/a/x/z', '/d/c', '/d/c/q/r'];
/** Paths xenstored must refuse (EINVAL), and odd but valid ones. */
const ODD_PATHS = ['/d//a', '/d/a/', '', 'd', '/d/a b', '/d/\u00e9', '/d/' + 'n'.repeat(40), '@d'];
const VALUES = ['', '1', 'v', 'hello', 'x'.repeat(100), 'a\u0000b'];
const TOKENS = ['t1', 't2', '', 'tok\u0001'];
const PERMS = ['r5', 'n0\0r5', 'n5', 'n0', 'r0', 'b0', 'w0', 'n0\0r0', 'r0\0w0', 'x0', 'n', '', 'n0\0', 'b0\0b0\0n0'];
/** Parts each followed by NUL (the usual request layout); `raw` for the WRITE value. */
function parts(xs, raw) {
    const s = xs.map((x) => `${x}\0`).join('') + (raw ?? '');
    return Buffer.from(s, 'latin1');
}
export class OpGenerator {
    #r;
    /** Open transactions per connection, by the fuzz's numbering. */
    open = [[], []];
    /** "path\0token" of each connection's watches. */
    #watches = [new Set(), new Set()];
    #nextTx = 1;
    constructor(seed) {
        this.#r = rng(seed);
    }
    /** Whether connection `conn` has a watch (events may be on their way to it). */
    watching(conn) {
        return this.#watches[conn].size > 0;
    }
    /** What xenode answered `op` (ok: not an error): the transactions and watches that exist. */
    settled(op, ok) {
        if (!ok)
            return;
        if (op.starts !== undefined)
            this.open[op.conn].push(op.starts);
        if (op.type === XS_WATCH || op.type === XS_UNWATCH) {
            const [path, token] = op.payload.toString('latin1').split('\0');
            const key = `${path}\0${token}`;
            if (op.type === XS_WATCH)
                this.#watches[op.conn].add(key);
            else
                this.#watches[op.conn].delete(key);
        }
    }
    /** The connection was closed: its transactions and watches are gone. */
    reset(conn) {
        this.open[conn] = [];
        this.#watches[conn].clear();
    }
    #pick(xs) {
        return xs[Math.floor(this.#r() * xs.length)];
    }
    #chance(p) {
        return this.#r() < p;
    }
    #path() {
        return this.#chance(0.04) ? this.#pick(ODD_PATHS) : this.#pick(PATHS);
    }
    next() {
        const conn = this.#chance(0.5) ? 0 : 1;
        const open = this.open[conn];
        const tx = open.length > 0 && this.#chance(0.6) ? this.#pick(open) : this.#chance(0.01) ? 999 : 0;
        const k = this.#r();
        if (k < 0.05 && open.length < 3) {
            return { conn, type: XS_TRANSACTION_START, payload: parts(['']), tx: this.#chance(0.05) ? tx : 0, starts: this.#nextTx++ };
        }
        if (k < 0.1 && open.length > 0) {
            const id = this.#pick(open);
            const arg = this.#chance(0.7) ? 'T' : this.#chance(0.9) ? 'F' : 'X';
            // xenstored ends the transaction whatever the outcome, except for a malformed argument.
            if (arg !== 'X')
                open.splice(open.indexOf(id), 1);
            return { conn, type: XS_TRANSACTION_END, payload: parts([arg]), tx: id };
        }
        if (k < 0.25)
            return { conn, type: XS_WRITE, payload: parts([this.#path()], this.#pick(VALUES)), tx };
        if (k < 0.4)
            return { conn, type: XS_READ, payload: parts([this.#path()]), tx };
        if (k < 0.48)
            return { conn, type: XS_MKDIR, payload: parts([this.#path()]), tx };
        if (k < 0.58)
            return { conn, type: XS_RM, payload: parts([this.#path()]), tx };
        if (k < 0.66)
            return { conn, type: XS_DIRECTORY, payload: parts([this.#path()]), tx };
        if (k < 0.68)
            return { conn, type: XS_DIRECTORY_PART, payload: parts([this.#path(), this.#pick(['0', '2', '100'])]), tx };
        if (k < 0.73)
            return { conn, type: XS_GET_PERMS, payload: parts([this.#path()]), tx };
        if (k < 0.78) {
            const p = this.#pick(PERMS);
            // Never an unknown special path: cxenstored 4.17 crashes on those (docs/XENSTORE.md).
            let path = this.#path();
            if (path.startsWith('@'))
                path = '@introduceDomain';
            return { conn, type: XS_SET_PERMS, payload: p === '' ? parts([path]) : parts([path, p]), tx };
        }
        if (k < 0.86) {
            const path = this.#path();
            return { conn, type: XS_WATCH, payload: parts([path, this.#pick(TOKENS)]), tx: 0 };
        }
        if (k < 0.92) {
            // Mostly a watch the connection has, so watches come and go rather than pile up.
            const mine = [...this.#watches[conn]];
            const [path, token] = mine.length > 0 && this.#chance(0.8) ? this.#pick(mine).split('\0') : [this.#path(), this.#pick(TOKENS)];
            return { conn, type: XS_UNWATCH, payload: parts([path, token]), tx: 0 };
        }
        if (k < 0.93)
            return { conn, type: XS_GET_DOMAIN_PATH, payload: parts([this.#pick(['0', '1', 'x', ''])]), tx: 0 };
        return this.#malformed(conn, tx);
    }
    /**
     * Requests whose payload breaks the layout. Never a malformed one-argument request (READ,
     * RM, DIRECTORY... without their NUL, with a second argument, or empty): cxenstored answers
     * those with a stale errno or crashes (docs/XENSTORE.md).
     */
    #malformed(conn, tx) {
        const path = this.#pick(PATHS);
        switch (Math.floor(this.#r() * 5)) {
            case 4: return { conn, type: XS_READ, payload: Buffer.alloc(0), tx, oversize: true };
            case 0: return { conn, type: XS_WRITE, payload: Buffer.from(path, 'latin1'), tx };
            case 1: return { conn, type: XS_WATCH, payload: Buffer.from(`${path}\0`, 'latin1'), tx: 0 };
            case 2: return { conn, type: XS_WATCH, payload: Buffer.from(`${path}\0t\0extra\0`, 'latin1'), tx: 0 };
            // Types that are no request: the reply-only ones, the hole at 20, past the end.
            default: return { conn, type: this.#pick([XS_WATCH_EVENT, XS_ERROR, 20, XS_TYPE_COUNT, 0xffff]), payload: parts([path]), tx };
        }
    }
}
//# sourceMappingURL=ops.js.map