// A netfront written by hand: it puts on the tx, rx and ctrl rings exactly what its user says,
// well-formed or hostile, and collects what netback answers. netback's tests drive it as a
// hostile frontend; bench/net.ts drives it as the fastest possible frontend (netfront's own
// queueing left out), so the figures are netback's and the switch's.
import { NETIF_CTRL_SLOT_SIZE, NETIF_RX_SLOT_SIZE, NETIF_TX_SLOT_SIZE, NETRXF_extra_info, NETRXF_more_data, NETTXF_extra_info, NETTXF_more_data, XEN_NETIF_EXTRA_FLAG_MORE, decodeNetifCtrlResponse, decodeNetifExtraInfo, decodeNetifRxResponse, decodeNetifTxResponse, encodeNetifCtrlRequest, encodeNetifExtraInfo, encodeNetifRxRequest, encodeNetifTxRequest, } from '../../src/abi/netif.js';
import { FrontRing } from '../../src/abi/ring.js';
import { PAGE_SIZE } from '../../src/abi/xen.js';
import { XenbusState } from '../../src/abi/xenbus.js';
import { grantRing } from '../../src/drivers/ringpages.js';
import { backendPath, frontendPath, switchState } from '../../src/drivers/xenbus.js';
/**
 * Create a vif's backend and frontend nodes as libxl does (backend `nodes` added or
 * overriding) and wait for the backend domain's daemon to report hotplug-status.
 */
export async function createVif(xs0, domid, devid, nodes = {}) {
    const be = await writeVifNodes(xs0, domid, devid, nodes);
    const status = await within(xs0.wait(`${be}/hotplug-status`, (v) => v !== undefined), 'hotplug-status');
    if (status !== 'connected')
        throw new Error(`vif ${domid}/${devid}: ${await xs0.readOptional(`${be}/hotplug-error`)}`);
}
/** createVif's xenstore transaction alone (libxl's part of a network-attach); returns the backend path. */
export async function writeVifNodes(xs0, domid, devid, nodes = {}) {
    const fe = frontendPath(domid, 'vif', devid);
    const be = backendPath(0, 'vif', domid, devid);
    const mac = `00:16:3e:00:${domid.toString(16).padStart(2, '0')}:${devid.toString(16).padStart(2, '0')}`;
    await xs0.transaction(async (t) => {
        await t.mkdir(be);
        await t.setPerms(be, [{ domid: 0, perm: 'n' }, { domid, perm: 'r' }]);
        await t.mkdir(fe);
        await t.setPerms(fe, [{ domid, perm: 'n' }, { domid: 0, perm: 'r' }]);
        const initialising = String(XenbusState.Initialising);
        const backend = { frontend: fe, 'frontend-id': String(domid), online: '1', handle: String(devid), mac, bridge: 'xenbr0', type: 'vif', state: initialising, ...nodes };
        for (const [k, v] of Object.entries(backend))
            await t.write(`${be}/${k}`, v);
        for (const [k, v] of Object.entries({ backend: be, 'backend-id': '0', handle: String(devid), mac, state: initialising }))
            await t.write(`${fe}/${k}`, v);
    });
    return be;
}
/** Fail instead of hanging. */
async function within(p, what, ms = 20_000) {
    let timer;
    try {
        return await Promise.race([p, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)))]);
    }
    finally {
        clearTimeout(timer);
    }
}
/** A frontend written by hand: it puts whatever the test says on the rings. */
export class RawNetFront {
    g;
    queues = [];
    txResponses = [];
    rxResponses = [];
    ctrlRing = null;
    ctrlPort = null;
    ctrlResponses = [];
    fe;
    be;
    /** Pages of guest RAM granted to dom0, by gref: tx data and rx buffers. */
    pages = new Map();
    /** Called after every round of collecting responses (a bench reposts and refills here). */
    onCollect = null;
    #waiters = [];
    #buf = new Uint8Array(16);
    #nextRxId = 0;
    /** rx request id -> gref of the buffer posted with it. */
    rxPosted = new Map();
    constructor(g, devid) {
        this.g = g;
        this.fe = frontendPath(g.domid, 'vif', devid);
        this.be = backendPath(0, 'vif', g.domid, devid);
    }
    /** Write the rings' keys and say ready; `xs0` (dom0's client) waits for the backend to connect. */
    static async connect(xs0, g, o = {}) {
        const f = new RawNetFront(g, o.devid ?? 0);
        const nq = o.queues ?? 1;
        const xs = g.ctx.xs;
        for (let q = 0; q < nq; q++) {
            const dir = nq === 1 ? f.fe : `${f.fe}/queue-${q}`;
            const txg = grantRing(g.hc, 0, 1);
            const rxg = grantRing(g.hc, 0, 1);
            const tx = FrontRing.create(txg.bytes, NETIF_TX_SLOT_SIZE);
            const rx = FrontRing.create(rxg.bytes, NETIF_RX_SLOT_SIZE);
            const txPort = await g.ctx.evtchn.allocUnbound(0);
            const rxPort = o.split ? await g.ctx.evtchn.allocUnbound(0) : txPort;
            const queue = { tx, rx, txPort, rxPort };
            f.queues.push(queue);
            txPort.onEvent(() => f.#collect());
            if (o.split)
                rxPort.onEvent(() => f.#collect());
            await xs.write(`${dir}/tx-ring-ref`, String(txg.refs[0]));
            await xs.write(`${dir}/rx-ring-ref`, String(rxg.refs[0]));
            if (o.split) {
                await xs.write(`${dir}/event-channel-tx`, String(txPort.port));
                await xs.write(`${dir}/event-channel-rx`, String(rxPort.port));
            }
            else {
                await xs.write(`${dir}/event-channel`, String(txPort.port));
            }
        }
        if (nq > 1)
            await xs.write(`${f.fe}/multi-queue-num-queues`, String(nq));
        if (o.ctrl) {
            const cg = grantRing(g.hc, 0, 1);
            f.ctrlRing = FrontRing.create(cg.bytes, NETIF_CTRL_SLOT_SIZE);
            f.ctrlPort = await g.ctx.evtchn.allocUnbound(0);
            f.ctrlPort.onEvent(() => f.#collect());
            await xs.write(`${f.fe}/ctrl-ring-ref`, String(cg.refs[0]));
            await xs.write(`${f.fe}/event-channel-ctrl`, String(f.ctrlPort.port));
            await xs.write(`${f.fe}/feature-ctrl-ring`, '1');
        }
        const keys = o.keys ?? { 'request-rx-copy': '1', 'feature-rx-notify': '1', 'feature-sg': '1', 'feature-gso-tcpv4': '1', 'feature-gso-tcpv6': '1' };
        for (const [k, v] of Object.entries(keys))
            await xs.write(`${f.fe}/${k}`, v);
        await switchState(xs, f.fe, o.ready ?? XenbusState.Connected);
        if (!o.noWait)
            await within(xs0.wait(`${f.be}/state`, (v) => v === String(XenbusState.Connected)), 'backend Connected');
        return f;
    }
    #collect() {
        const view = new DataView(this.#buf.buffer);
        for (const q of this.queues) {
            do {
                while (q.tx.rspCons !== q.tx.rspProd) {
                    q.tx.copyResponse(q.tx.rspCons, this.#buf);
                    q.tx.rspCons = q.tx.rspCons + 1;
                    this.txResponses.push(decodeNetifTxResponse(view, 0));
                }
            } while (q.tx.finalCheckForResponses());
            do {
                while (q.rx.rspCons !== q.rx.rspProd) {
                    q.rx.copyResponse(q.rx.rspCons, this.#buf);
                    q.rx.rspCons = q.rx.rspCons + 1;
                    this.rxResponses.push(decodeNetifRxResponse(view, 0));
                }
            } while (q.rx.finalCheckForResponses());
        }
        const c = this.ctrlRing;
        if (c) {
            do {
                while (c.rspCons !== c.rspProd) {
                    c.copyResponse(c.rspCons, this.#buf);
                    c.rspCons = c.rspCons + 1;
                    this.ctrlResponses.push(decodeNetifCtrlResponse(view, 0));
                }
            } while (c.finalCheckForResponses());
        }
        this.onCollect?.();
        for (const w of this.#waiters.splice(0))
            w();
    }
    /** Wait until `cond` holds after a round of responses. */
    async until(cond, what) {
        this.#collect();
        while (!cond())
            await within(new Promise((r) => this.#waiters.push(r)), what);
    }
    /** A page of guest RAM granted to dom0, holding `data` at `offset`. */
    page(data = new Uint8Array(0), offset = 0, readonly = true) {
        const [pfn] = this.g.hc.populatePhysmap(1);
        const page = this.g.hc.memory.frame(pfn);
        page.fill(0);
        page.set(data, offset);
        const ref = this.g.hc.grantAccess(0, pfn, readonly);
        this.pages.set(ref, page);
        return ref;
    }
    /** Put `slots` on queue `q`'s tx ring as given, push and notify. */
    sendSlots(slots, q = 0) {
        this.putSlots(slots, q);
        this.pushTx(q);
    }
    /** Put `slots` on queue `q`'s tx ring as given, unpublished until pushTx. */
    putSlots(slots, q = 0) {
        const r = this.queues[q].tx;
        for (const s of slots) {
            const off = r.slotOffset(r.reqProdPvt);
            if ('extra' in s)
                encodeNetifExtraInfo(r.view, off, s.extra);
            else
                encodeNetifTxRequest(r.view, off, s);
            r.reqProdPvt = r.reqProdPvt + 1;
        }
    }
    /** Publish queue `q`'s tx requests and notify netback if it asked. */
    pushTx(q = 0) {
        const r = this.queues[q].tx;
        if (r.pushRequestsAndCheckNotify())
            this.queues[q].txPort.notify();
    }
    /** The slots of `frame` as netfront lays it out: pieces of at most `chunk` bytes, each on its own page. */
    frameSlots(frame, opts = {}) {
        const chunk = opts.chunk ?? PAGE_SIZE;
        const slots = [];
        let id = opts.id ?? 0;
        const extras = opts.extras ?? [];
        for (let at = 0, i = 0; at < frame.length || i === 0; at += chunk, i++) {
            const piece = frame.subarray(at, Math.min(frame.length, at + chunk));
            const more = at + chunk < frame.length ? NETTXF_more_data : 0;
            const flags = i === 0 ? (opts.flags ?? 0) | more | (extras.length ? NETTXF_extra_info : 0) : more;
            slots.push({ gref: this.page(piece), offset: 0, flags, id: id++ & 0xffff, size: i === 0 ? frame.length : piece.length });
            if (i === 0)
                extras.forEach((e, k) => slots.push({ extra: { ...e, flags: k < extras.length - 1 ? XEN_NETIF_EXTRA_FLAG_MORE : 0 } }));
        }
        return slots;
    }
    send(frame, opts = {}, q = 0) {
        this.sendSlots(this.frameSlots(frame, opts), q);
    }
    /** Post `n` rx buffers on queue `q` (fresh writable pages, or the grefs given). */
    postRx(n, q = 0, grefs) {
        const r = this.queues[q].rx;
        for (let i = 0; i < n; i++) {
            const id = this.#nextRxId++ & 0xffff;
            const gref = grefs?.[i] ?? this.page(new Uint8Array(0), 0, false);
            this.rxPosted.set(id, gref);
            encodeNetifRxRequest(r.view, r.slotOffset(r.reqProdPvt), { id, gref });
            r.reqProdPvt = r.reqProdPvt + 1;
        }
        if (r.pushRequestsAndCheckNotify())
            this.queues[q].rxPort.notify();
    }
    /** The frames received so far (rx responses chained by more_data), with their first flags and extra-infos (GSO, HASH). */
    received() {
        const out = [];
        const rs = this.rxResponses;
        for (let i = 0; i < rs.length;) {
            const first = rs[i];
            const parts = [];
            let status = first.status;
            let gso;
            let hash;
            let r = first;
            for (;;) {
                if (r.status < 0)
                    status = r.status;
                else
                    parts.push(this.pages.get(this.rxPosted.get(r.id)).slice(r.offset, r.offset + r.status));
                i++;
                // The extra-infos were written as response slots: decode those 8 bytes each, chained by FLAG_MORE.
                for (let more = r === first && (first.flags & NETRXF_extra_info) !== 0; more && i < rs.length; i++) {
                    const x = rs[i];
                    const v = new DataView(new ArrayBuffer(8));
                    v.setUint16(0, x.id, true);
                    v.setUint16(2, x.offset, true);
                    v.setUint16(4, x.flags, true);
                    v.setInt16(6, x.status, true);
                    const extra = decodeNetifExtraInfo(v, 0);
                    if (extra.kind === 'gso')
                        gso = extra;
                    if (extra.kind === 'hash')
                        hash = extra;
                    more = (extra.flags & XEN_NETIF_EXTRA_FLAG_MORE) !== 0;
                }
                if (!(r.flags & NETRXF_more_data) || i >= rs.length)
                    break;
                r = rs[i];
            }
            const frame = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
            let at = 0;
            for (const p of parts) {
                frame.set(p, at);
                at += p.length;
            }
            out.push({ frame, flags: first.flags, status, ...(gso && { gso }), ...(hash && { hash }) });
        }
        return out;
    }
    ctrl(req) {
        const r = this.ctrlRing;
        encodeNetifCtrlRequest(r.view, r.slotOffset(r.reqProdPvt), req);
        r.reqProdPvt = r.reqProdPvt + 1;
        if (r.pushRequestsAndCheckNotify())
            this.ctrlPort.notify();
        const n = this.ctrlResponses.length + 1;
        return this.until(() => this.ctrlResponses.length >= n, 'a ctrl response').then(() => this.ctrlResponses[n - 1]);
    }
}
/** An Ethernet II frame of `len` bytes from `src` to `dst`, its payload a pattern of `salt`. */
export function frameOf(len, src, dst = 'ff:ff:ff:ff:ff:ff', salt = 0, type = 0x88b5) {
    const f = new Uint8Array(len);
    const mac = (s) => s.split(':').map((b) => Number.parseInt(b, 16));
    f.set(mac(dst), 0);
    f.set(mac(src), 6);
    f[12] = type >> 8;
    f[13] = type & 0xff;
    for (let i = 14; i < len; i++)
        f[i] = (i * 7 + salt) & 0xff;
    return f;
}
//# sourceMappingURL=net-rawfront.js.map