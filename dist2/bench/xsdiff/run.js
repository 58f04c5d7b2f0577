// The differential fuzz: the same seeded requests on two connections to xenode's xenstored and
// to cxenstored, every message each connection receives (replies and watch events, in order)
// compared after the rules in rules.ts. A seed stops at its first unexplained difference, since
// the two stores may differ from there on.
import { Buffer } from 'node:buffer';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XENSTORE_PAYLOAD_MAX, XSD_SOCKMSG_LEN, XS_ERROR, XS_GET_DOMAIN_PATH, XS_MKDIR, XS_RM, XS_SET_PERMS, XS_TRANSACTION_END, XS_TRANSACTION_START, XS_WATCH, XS_WRITE, } from '../../src/abi/xs_wire.js';
import { FUZZ_ROOT, OpGenerator } from './ops.js';
import { Xenstored } from '../../src/xenstore/server/daemon.js';
import { startCxenstored } from './cxenstored.js';
import { explain } from './rules.js';
import { WireClient, describe, rawPacket } from './wire.js';
const HISTORY = 40;
// Long enough for a loaded machine; every request the fuzz sends is answered.
const REPLY_TIMEOUT_MS = 10_000;
/** Requests after which events may be queued: their connections are synced before the next. */
const FIRES = new Set([XS_WRITE, XS_MKDIR, XS_RM, XS_SET_PERMS, XS_TRANSACTION_END, XS_WATCH]);
/** A request that changes nothing and answers the same on both daemons. */
const SYNC = rawPacket(XS_GET_DOMAIN_PATH, 0, Buffer.from('0\0'));
/** The messages one request produced, as text, with "CLOSED"/"NO REPLY" when none came. */
function texts(msgs, replied, client) {
    const out = msgs.map(describe);
    if (!replied)
        out.push(client.closed ? 'CLOSED' : 'NO REPLY');
    return out;
}
function showOp(op) {
    return `conn${op.conn} tx${op.tx} ${describe({ type: op.type, txId: op.tx, payload: op.payload })}${op.oversize ? ' (len over the limit)' : ''}`;
}
class Side {
    target;
    clients = [];
    /** The daemon's transaction id for each of the fuzz's transaction numbers. */
    txIds = new Map();
    constructor(target) {
        this.target = target;
    }
    async open() {
        this.clients = [await WireClient.open(this.target.socket), await WireClient.open(this.target.socket)];
    }
    async reopen(conn) {
        this.clients[conn].close();
        this.clients[conn] = await WireClient.open(this.target.socket);
    }
    close() {
        for (const c of this.clients)
            c.close();
    }
    packet(op) {
        // A transaction number the fuzz never opened stays as it is: a bogus id on both sides.
        const p = rawPacket(op.type, op.tx === 0 ? 0 : this.txIds.get(op.tx) ?? op.tx, op.payload);
        if (op.oversize)
            p.writeUInt32LE(XENSTORE_PAYLOAD_MAX + 1, XSD_SOCKMSG_LEN);
        return p;
    }
}
/** Run one seed of `count` requests against both daemons (already running, any state). */
export async function runSeed(seed, count, xenode, cxenstored) {
    const sides = [new Side(xenode), new Side(cxenstored)];
    await Promise.all(sides.map((s) => s.open()));
    const explained = {};
    const gen = new OpGenerator(seed);
    const before = [];
    try {
        // Start from an empty fuzz subtree (and nothing at the relative path the fuzz may write).
        for (const s of sides) {
            for (const p of [FUZZ_ROOT, 'd'])
                await s.clients[0].request(rawPacket(XS_RM, 0, Buffer.from(`${p}\0`)), REPLY_TIMEOUT_MS);
        }
        for (let i = 0; i < count; i++) {
            const op = gen.next();
            // The requester's own events come before its reply, except a new watch's first event.
            const syncs = [0, 1].filter((n) => gen.watching(n) && FIRES.has(op.type) && (n !== op.conn || op.type === XS_WATCH));
            const [x, c] = await Promise.all(sides.map(async (s) => {
                const client = s.clients[op.conn];
                const { msgs, replied } = await client.request(s.packet(op), REPLY_TIMEOUT_MS);
                const reply = msgs[msgs.length - 1];
                if (op.starts !== undefined && replied && reply.type === XS_TRANSACTION_START) {
                    s.txIds.set(op.starts, Number.parseInt(reply.payload.toString('latin1'), 10));
                }
                const own = texts(msgs, replied, client);
                // The request's own reply stays last (the rules look at it there), after what the syncs brought.
                const out = own.slice(0, -1);
                // cxenstored drops a watch event identical to one still queued for the connection,
                // and writes half a message per loop turn: let every event the request caused arrive
                // (a reply queues behind them) before the next request, so that depends on nothing
                // but the request itself.
                for (const n of syncs) {
                    const sync = await s.clients[n].request(SYNC, REPLY_TIMEOUT_MS);
                    out.push(`(conn${n})`, ...texts(sync.msgs, sync.replied, s.clients[n]));
                }
                out.push(own[own.length - 1]);
                return { msgs: out, replied, ok: replied && reply.type !== XS_ERROR };
            }));
            const e = explain(op, x.msgs, c.msgs);
            const here = { seed, op: i, request: showOp(op), xenode: x.msgs, cxenstored: c.msgs, before: [...before] };
            if (!cxenstored.alive())
                return { ops: i + 1, explained, difference: { ...here, cxenstored: [...c.msgs, '(cxenstored died)'] } };
            if (JSON.stringify(e.x) !== JSON.stringify(e.c))
                return { ops: i + 1, explained, difference: here };
            before.push(`${i} ${showOp(op)} -> ${x.msgs.join(' | ')}`);
            if (before.length > HISTORY)
                before.shift();
            for (const r of e.used)
                explained[r] = (explained[r] ?? 0) + 1;
            gen.settled(op, x.ok);
            if (!x.replied) {
                gen.reset(op.conn);
                await Promise.all(sides.map((s) => s.reopen(op.conn)));
            }
        }
        return { ops: count, explained, difference: undefined };
    }
    finally {
        for (const s of sides)
            s.close();
    }
}
/**
 * Seeds `first`..`first+seeds-1` of `ops` requests each against a fresh xenode xenstored and
 * cxenstored (restarted after a difference, which may have killed it or left its store apart).
 */
export async function runFuzz(first, seeds, ops) {
    const dir = await mkdtemp(join(tmpdir(), 'xenode-xsdiff-'));
    // As on the cxenstored side (the shim), the hypervisor knows domain 0 only.
    const xs = new Xenstored({ domainExists: (domid) => domid === 0 });
    const socket = join(dir, 'socket');
    await xs.listen(socket);
    const xenode = { socket, alive: () => true };
    let cx = await startCxenstored();
    const t0 = performance.now();
    const result = { ops: 0, ms: 0, explained: {}, differences: [] };
    try {
        for (let s = first; s < first + seeds; s++) {
            const r = await runSeed(s, ops, xenode, cx);
            result.ops += r.ops;
            for (const [k, v] of Object.entries(r.explained))
                result.explained[k] = (result.explained[k] ?? 0) + v;
            if (r.difference !== undefined) {
                result.differences.push(r.difference);
                await cx.stop();
                cx = await startCxenstored();
            }
        }
    }
    finally {
        await cx.stop();
        await xs.close();
        await rm(dir, { recursive: true, force: true });
    }
    result.ms = Math.round(performance.now() - t0);
    return result;
}
//# sourceMappingURL=run.js.map