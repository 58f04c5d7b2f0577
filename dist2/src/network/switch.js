// dom0's virtual switch: its bridges, made on first use by name (xenbr0 is xl's default), and
// every port by its device's name (vifDOMID.DEVID), unique on the host as Linux's interface
// names are. Nothing here runs while no frame moves: no timers, and a VLAN or a bridge costs
// only the ports on it.
import { XenError } from '../errors.js';
import { Bridge } from './bridge.js';
import { VLAN_MAX, checkBridgeName, parseBridgeSpec } from './bridgespec.js';
import { Capture, openPcapFile } from './capture.js';
import { FDB_DEFAULTS } from './fdb.js';
import { parseMac } from './mac.js';
import { VNI_MAX, VXLAN_DEFAULT_VNI, VXLAN_PORT, Vtep, VxlanLink } from './vxlan.js';
export const DEFAULT_BRIDGE = 'xenbr0';
export const SWITCH_DEFAULTS = { maxBridges: 4096, maxPorts: 65_536, maxCaptures: 16, maxVteps: 16 };
/** Shared by every port without trunks: a thousand access ports need no thousand empty sets. */
const NO_TRUNKS = new Set();
const PORT_NAME_RE = /^[A-Za-z0-9_.:-]{1,32}$/;
export class Switch {
    #bridges = new Map();
    #ports = new Map();
    #limits;
    #maxBridges;
    #maxPorts;
    #now;
    #maxCaptures;
    #maxVteps;
    #captures = 0;
    /** Local endpoint → its VTEP (an ephemeral port is keyed by the port it got). */
    #vteps = new Map();
    #linkSeq = 0;
    #fileCaptures = new Map();
    constructor(opts = {}) {
        this.#limits = { ...FDB_DEFAULTS, ...opts.fdb };
        this.#maxBridges = opts.maxBridges ?? SWITCH_DEFAULTS.maxBridges;
        this.#maxPorts = opts.maxPorts ?? SWITCH_DEFAULTS.maxPorts;
        this.#now = opts.now ?? (() => performance.now());
        this.#maxCaptures = opts.maxCaptures ?? SWITCH_DEFAULTS.maxCaptures;
        this.#maxVteps = opts.maxVteps ?? SWITCH_DEFAULTS.maxVteps;
    }
    /** Plug a device in as its vif spec says (bridge=, mac=); the bridge is made if it is new. */
    plug(device, opts) {
        const spec = parseBridgeSpec(opts.bridge);
        const mac = opts.mac === undefined || opts.macSpoof ? null : parseMac(opts.mac);
        return this.#plug(spec.bridge, device, { native: spec.tag, trunks: spec.trunks.length ? new Set(spec.trunks) : NO_TRUNKS, mac });
    }
    /** Plug in a port of the switch's own (a VXLAN link, a gateway): it may send from any MAC. */
    plugInternal(bridge, device, opts = {}, onUnplug) {
        return this.#plug(checkBridgeName(bridge), device, { native: opts.native ?? 0, trunks: opts.trunks ?? NO_TRUNKS, mac: null }, onUnplug);
    }
    /** The VTEP (UDP socket) on a local endpoint, bound now if there is none; port 0 binds an ephemeral port. */
    vtep(local = { address: '127.0.0.1', port: VXLAN_PORT }) {
        const k = `${local.address}|${local.port}`;
        const had = local.port === 0 ? undefined : this.#vteps.get(k);
        if (had)
            return had;
        if (this.#vteps.size >= this.#maxVteps)
            return Promise.reject(new XenError('ENOSPC', `the switch has ${this.#maxVteps} VXLAN sockets already`));
        const bound = Vtep.bind(local);
        this.#vteps.set(k, bound);
        bound.then((v) => {
            if (local.port === 0) {
                this.#vteps.delete(k);
                this.#vteps.set(`${v.local.address}|${v.local.port}`, bound);
            }
        }, () => this.#vteps.delete(k));
        return bound;
    }
    /**
     * Link a bridge to the same-named bridge of another host through VXLAN: its untagged segment
     * is VNI `vni`, VLAN v is `vni + v`. The link is a port (vxlanN) until unlinked.
     */
    async link(bridge, remote, opts = {}) {
        checkBridgeName(bridge);
        const vni = opts.vni ?? VXLAN_DEFAULT_VNI;
        if (!(Number.isInteger(vni) && vni >= 0 && vni <= VNI_MAX - VLAN_MAX))
            throw new XenError('EINVAL', `VNI must be in 0..${VNI_MAX - VLAN_MAX} (VLANs take the ${VLAN_MAX} after it)`);
        const vtep = await this.vtep(opts.local);
        for (const l of vtep.links()) {
            if (l.bridge === bridge && l.remote.address === remote.address && l.remote.port === remote.port) {
                throw new XenError('EEXIST', `bridge ${bridge} is linked to ${remote.address}:${remote.port} already (${l.name})`);
            }
        }
        const link = new VxlanLink(`vxlan${this.#linkSeq++}`, vtep, remote, vni);
        vtep.add(link);
        try {
            link.port = this.plugInternal(bridge, link, { trunks: 'all' }, () => vtep.remove(link));
        }
        catch (e) {
            vtep.remove(link);
            throw e;
        }
        return link;
    }
    /** Every VXLAN link. */
    async links() {
        return (await Promise.allSettled(this.#vteps.values())).flatMap((r) => (r.status === 'fulfilled' ? r.value.links() : []));
    }
    #plug(name, device, mode, onUnplug) {
        if (!PORT_NAME_RE.test(device.name))
            throw new XenError('EINVAL', `invalid port name '${device.name}'`);
        if (this.#ports.has(device.name))
            throw new XenError('EEXIST', `a port named '${device.name}' is already plugged in (bridge ${this.#ports.get(device.name).bridge.name})`);
        if (this.#ports.size >= this.#maxPorts)
            throw new XenError('ENOSPC', `the switch has ${this.#maxPorts} ports already`);
        const port = this.bridge(name).add(device, mode, (p) => {
            if (this.#ports.get(p.name) === p)
                this.#ports.delete(p.name);
            onUnplug?.();
        });
        this.#ports.set(device.name, port);
        return port;
    }
    /** The bridge of that name, made now if there is none. */
    bridge(name) {
        let b = this.#bridges.get(name);
        if (!b) {
            checkBridgeName(name);
            if (this.#bridges.size >= this.#maxBridges)
                throw new XenError('ENOSPC', `the switch has ${this.#maxBridges} bridges already`);
            b = new Bridge(name, this.#limits, this.#now);
            this.#bridges.set(name, b);
        }
        return b;
    }
    findBridge(name) {
        return this.#bridges.get(name);
    }
    findPort(name) {
        return this.#ports.get(name);
    }
    bridges() {
        return [...this.#bridges.values()];
    }
    #tapsOf(target) {
        const taps = this.#ports.get(target)?.taps ?? this.#bridges.get(target)?.taps;
        if (!taps)
            throw new XenError('ENODEV', `no bridge or port named '${target}'`);
        if (this.#captures >= this.#maxCaptures)
            throw new XenError('EBUSY', `${this.#maxCaptures} captures are running already`);
        return taps;
    }
    /** Tap a capture into a port (by name) or a bridge; it comes out again when it ends. */
    capture(target, capture) {
        const taps = this.#tapsOf(target);
        this.#captures++;
        taps.add(capture);
        capture.attached(() => {
            if (taps.delete(capture))
                this.#captures--;
        });
    }
    /** Capture a bridge or port into a pcap file (an absolute path) until the capture ends; stopCapture(file) ends it. */
    async captureToFile(target, file, opts = {}) {
        this.#tapsOf(target);
        if (this.#fileCaptures.has(file))
            throw new XenError('EBUSY', `a capture is writing ${file} already`);
        const out = await openPcapFile(file);
        let cap;
        try {
            cap = new Capture(out.sink, opts);
            this.capture(target, cap);
        }
        catch (e) {
            await out.close();
            throw e;
        }
        this.#fileCaptures.set(file, cap);
        try {
            return await cap.done;
        }
        finally {
            this.#fileCaptures.delete(file);
            await out.close();
        }
    }
    /** End the capture writing `file`; false if there is none. */
    stopCapture(file) {
        const cap = this.#fileCaptures.get(file);
        cap?.stop();
        return cap !== undefined;
    }
    /** Unplug every port; captures end, VXLAN sockets close. */
    close() {
        for (const v of this.#vteps.values())
            void v.then((vtep) => vtep.close(), () => { });
        this.#vteps.clear();
        for (const p of [...this.#ports.values()])
            p.unplug();
        for (const b of this.#bridges.values())
            for (const tap of [...b.taps])
                tap.gone();
    }
}
//# sourceMappingURL=switch.js.map