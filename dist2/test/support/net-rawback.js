// A network backend the test drives by hand, for netfront tests: it writes the device's
// xenstore nodes and its offer, maps the frontend's rings once the frontend is Initialised,
// and then answers (or misanswers) ring slots exactly as the test says, so netfront can be
// shown what a hostile or broken backend would send.
import { NETIF_RX_SLOT_SIZE, NETIF_TX_SLOT_SIZE, NETIF_XS, decodeNetifExtraInfo, decodeNetifRxRequest, decodeNetifTxRequest, encodeNetifExtraInfo, encodeNetifRxResponse, encodeNetifTxResponse, } from '../../src/abi/netif.js';
import { BackRing } from '../../src/abi/ring.js';
import { XenbusState } from '../../src/abi/xenbus.js';
import { NetFront } from '../../src/drivers/net/front/netfront.js';
import { mapRing } from '../../src/drivers/ringpages.js';
import { backendPath, frontendPath, switchState } from '../../src/drivers/xenbus.js';
import { DriverRig } from './driver-rig.js';
import { within } from './hypervisor.js';
export { within } from './hypervisor.js';
/** What Linux netback offers. */
export const NETBACK_OFFER = {
    [NETIF_XS.featureSg]: 1, [NETIF_XS.featureGsoTcpv4]: 1, [NETIF_XS.featureGsoTcpv6]: 1, [NETIF_XS.featureIpv6CsumOffload]: 1,
    [NETIF_XS.featureRxCopy]: 1, [NETIF_XS.featureSplitEventChannels]: 1, [NETIF_XS.multiQueueMaxQueues]: 4,
};
export class NetRig extends DriverRig {
    guest(ramFrames = 2048) {
        return super.guest(ramFrames, true);
    }
    /** The device's nodes and a backend in InitWait offering `offer`. */
    async backend(g, devid = 0, offer = NETBACK_OFFER, mac = '00:16:3e:00:00:01') {
        const fe = frontendPath(g.domid, 'vif', devid);
        const be = backendPath(0, 'vif', g.domid, devid);
        await this.xs0.transaction(async (t) => {
            await t.mkdir(be);
            await t.mkdir(fe);
            await t.setPerms(fe, [{ domid: g.domid, perm: 'n' }, { domid: 0, perm: 'r' }]);
            await t.setPerms(be, [{ domid: 0, perm: 'n' }, { domid: g.domid, perm: 'r' }]);
            for (const [k, v] of Object.entries({ backend: be, 'backend-id': 0, handle: devid, mac, state: XenbusState.Initialising }))
                await t.write(`${fe}/${k}`, String(v));
            for (const [k, v] of Object.entries({ frontend: fe, 'frontend-id': g.domid, handle: devid, mac, ...offer }))
                await t.write(`${be}/${k}`, String(v));
            await t.write(`${be}/state`, String(XenbusState.InitWait));
        });
        return new RawNetback(this, g, fe, be);
    }
    /** netfront connecting while `back` answers the handshake; both resolve together. */
    async connect(g, back, opts = {}, devid = 0) {
        const front = NetFront.connect(g.ctx, g.domid, devid, opts);
        await within(back.attach(), 'the frontend to write its rings');
        return within(front, 'netfront to connect');
    }
}
export class RawNetback {
    rig;
    g;
    fe;
    be;
    tx;
    rx;
    txPort;
    rxPort;
    queues = 1;
    #rings = [];
    constructor(rig, g, fe, be) {
        this.rig = rig;
        this.g = g;
        this.fe = fe;
        this.be = be;
    }
    get xs() {
        return this.rig.xs0;
    }
    /** Wait for the frontend's Initialised, map queue 0's rings, bind its channels, go Connected. */
    async attach() {
        const xs = this.xs;
        await xs.wait(`${this.fe}/state`, (v) => v === String(XenbusState.Initialised));
        const hc = this.rig.h.dom0;
        await hc.connect(this.g.domid);
        this.queues = Number((await xs.readOptional(`${this.fe}/${NETIF_XS.multiQueueNumQueues}`)) ?? 1);
        const q = this.queues > 1 ? `${this.fe}/queue-0` : this.fe;
        const num = async (k) => Number(await xs.read(`${q}/${k}`));
        const txMap = mapRing(hc, this.g.domid, [await num(NETIF_XS.txRingRef)]);
        const rxMap = mapRing(hc, this.g.domid, [await num(NETIF_XS.rxRingRef)]);
        this.#rings = [txMap, rxMap];
        this.tx = new BackRing(txMap.bytes, NETIF_TX_SLOT_SIZE);
        this.rx = new BackRing(rxMap.bytes, NETIF_RX_SLOT_SIZE);
        const ev = this.rig.dom0.evtchn;
        const split = await xs.readOptional(`${q}/${NETIF_XS.eventChannelTx}`);
        this.txPort = await ev.bindInterdomain(this.g.domid, await num(split === undefined ? NETIF_XS.eventChannel : NETIF_XS.eventChannelTx));
        this.rxPort = split === undefined ? this.txPort : await ev.bindInterdomain(this.g.domid, await num(NETIF_XS.eventChannelRx));
        await switchState(xs, this.be, XenbusState.Connected);
    }
    /** Let go of the rings and channels, as a backend that stops does. */
    detach() {
        for (const r of this.#rings.splice(0))
            r.unmap();
        this.txPort.close();
        if (this.rxPort !== this.txPort)
            this.rxPort.close();
    }
    /** Wait until the frontend has published `n` tx requests in all. */
    async txPublished(n) {
        await within((async () => {
            while (((this.tx.reqProd - this.tx.reqCons) >>> 0) < n)
                await new Promise((r) => setTimeout(r, 1));
        })(), `${n} tx requests`);
    }
    /** Consume the next tx slot as a request. */
    takeTx() {
        const slot = new Uint8Array(NETIF_TX_SLOT_SIZE);
        this.tx.copyRequest(this.tx.reqCons, slot);
        this.tx.reqCons++;
        return decodeNetifTxRequest(new DataView(slot.buffer), 0);
    }
    /** Consume the next tx slot as an extra-info. */
    takeTxExtra() {
        const off = this.tx.slotOffset(this.tx.reqCons);
        this.tx.reqCons++;
        return decodeNetifExtraInfo(this.tx.view, off);
    }
    /** The bytes a tx request points at. */
    txData(req) {
        const m = this.rig.h.dom0.grantMap(this.g.domid, req.gref, true);
        const out = m.page.slice(req.offset, req.offset + req.size);
        this.rig.h.dom0.grantUnmap(m.handle);
        return out;
    }
    respondTx(id, status) {
        encodeNetifTxResponse(this.tx.view, this.tx.slotOffset(this.tx.rspProdPvt), { id, status });
        this.tx.rspProdPvt++;
    }
    pushTx() {
        this.tx.pushResponses();
        this.txPort.notify();
    }
    /** The rx buffers posted and not yet taken. */
    rxPosted() {
        return (this.rx.reqProd - this.rx.reqCons) >>> 0;
    }
    takeRx() {
        const slot = new Uint8Array(NETIF_RX_SLOT_SIZE);
        this.rx.copyRequest(this.rx.reqCons, slot);
        this.rx.reqCons++;
        return decodeNetifRxRequest(new DataView(slot.buffer), 0);
    }
    /** Copy `data` into a posted buffer at `offset`. */
    fillRx(req, offset, data) {
        const m = this.rig.h.dom0.grantMap(this.g.domid, req.gref, false);
        m.page.set(data, offset);
        this.rig.h.dom0.grantUnmap(m.handle);
    }
    respondRx(rsp) {
        encodeNetifRxResponse(this.rx.view, this.rx.slotOffset(this.rx.rspProdPvt), rsp);
        this.rx.rspProdPvt++;
    }
    /** An extra-info in the next rx response slot (its posted buffer is consumed unused). */
    rxExtra(info) {
        this.takeRx();
        encodeNetifExtraInfo(this.rx.view, this.rx.slotOffset(this.rx.rspProdPvt), info);
        this.rx.rspProdPvt++;
    }
    pushRx() {
        this.rx.pushResponses();
        this.rxPort.notify();
    }
    /** One frame into single posted buffers, a slot per page, as netback's rx copy lays it out. */
    sendFrame(frame, flags = 0) {
        const slots = Math.max(1, Math.ceil(frame.length / 4096));
        for (let k = 0; k < slots; k++) {
            const req = this.takeRx();
            const part = frame.subarray(k * 4096, (k + 1) * 4096);
            this.fillRx(req, 0, part);
            this.respondRx({ id: req.id, offset: 0, flags: (k === 0 ? flags : 0) | (k < slots - 1 ? 4 : 0), status: part.length });
        }
    }
}
/** A frame of `len` bytes: broadcast destination, source 00:16:3e:00:00:01, a pattern after. */
export function testFrame(len, salt = 0) {
    const f = new Uint8Array(len);
    for (let i = 0; i < len; i++)
        f[i] = (i * 7 + salt) & 0xff;
    f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x16, 0x3e, 0x00, 0x00, 0x01, 0x88, 0xb5].slice(0, Math.min(14, len)));
    return f;
}
//# sourceMappingURL=net-rawback.js.map