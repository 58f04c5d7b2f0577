import { NATIVE_VID } from './bridgespec.js';
import { Fdb } from './fdb.js';
import { ETH_HLEN, ETH_P_8021Q, VLAN_HLEN, isGroupMac, isLinkLocalGroup, macAt } from './mac.js';
import { COMPLETED, completeOffloads, needsCompletion } from './offload.js';
/** Frames larger than this (a 64 KiB GSO super-frame plus its headers) are malformed. */
export const MAX_FRAME = 65_535 + ETH_HLEN + VLAN_HLEN;
/** A frame as it crosses the bridge: its bytes in whichever forms were needed, and its VLAN. */
export class Transit {
    vid;
    frame;
    hasTag;
    info;
    #untagged;
    #tagged;
    /** The completed frames (see offload.ts) of each form, for ports without the offloads: null if it cannot be. */
    #completed = [undefined, undefined];
    constructor(vid, frame, hasTag, info) {
        this.vid = vid;
        this.frame = frame;
        this.hasTag = hasTag;
        this.info = info;
        if (hasTag)
            this.#tagged = frame;
        else
            this.#untagged = frame;
    }
    untagged() {
        return (this.#untagged ??= stripTag(this.frame));
    }
    tagged() {
        return (this.#tagged ??= insertTag(this.frame, this.vid));
    }
    /** The frame as a port of that native VLAN sees it on its wire. */
    form(native) {
        return this.vid === native ? this.untagged() : this.tagged();
    }
    completed(native) {
        const i = this.vid === native ? 0 : 1;
        const done = this.#completed[i];
        return done !== undefined ? done : (this.#completed[i] = completeOffloads(this.form(native), this.info));
    }
}
export function stripTag(frame) {
    const out = new Uint8Array(frame.length - VLAN_HLEN);
    out.set(frame.subarray(0, 12));
    out.set(frame.subarray(12 + VLAN_HLEN), 12);
    return out;
}
export function insertTag(frame, vid) {
    const out = new Uint8Array(frame.length + VLAN_HLEN);
    out.set(frame.subarray(0, 12));
    out[12] = ETH_P_8021Q >> 8;
    out[13] = ETH_P_8021Q & 0xff;
    out[14] = vid >> 8;
    out[15] = vid & 0xff;
    out.set(frame.subarray(12), 12 + VLAN_HLEN);
    return out;
}
export class BridgePort {
    bridge;
    device;
    mode;
    onUnplug;
    counters = { framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0, dropsIn: 0, dropsOut: 0 };
    /** Captures of this port: frames in as the device sent them, frames out as it took them. */
    taps = new Set();
    learned = 0;
    #plugged = true;
    constructor(bridge, device, mode, onUnplug) {
        this.bridge = bridge;
        this.device = device;
        this.mode = mode;
        this.onUnplug = onUnplug;
    }
    get name() {
        return this.device.name;
    }
    get plugged() {
        return this.#plugged;
    }
    input(frame, info) {
        if (!this.#plugged)
            return;
        this.counters.framesIn++;
        this.counters.bytesIn += frame.length;
        for (const tap of this.taps)
            tap.frame(frame, info);
        this.bridge.ingress(this, frame, info);
    }
    /** Does this port carry VLAN `vid`, and how? */
    carries(vid) {
        return vid === this.mode.native || this.mode.trunks === 'all' || this.mode.trunks.has(vid);
    }
    /** A frame of the bridge out to the device, in the form this port's mode gives it. */
    output(t) {
        if (!needsCompletion(t.info, this.device.features))
            return this.#deliver(t.form(this.mode.native), t.info);
        const frames = t.completed(this.mode.native);
        if (!frames) {
            this.counters.dropsOut++;
            return;
        }
        for (const f of frames)
            this.#deliver(f, COMPLETED);
    }
    #deliver(frame, info) {
        if (this.device.deliver(frame, info)) {
            this.counters.framesOut++;
            this.counters.bytesOut += frame.length;
            for (const tap of this.taps)
                tap.frame(frame, info);
        }
        else {
            this.counters.dropsOut++;
        }
    }
    unplug() {
        if (!this.#plugged)
            return;
        this.#plugged = false;
        this.bridge.remove(this);
        this.onUnplug(this);
        for (const tap of [...this.taps])
            tap.gone();
    }
}
export class Bridge {
    name;
    counters = { forwarded: 0, flooded: 0, dropSpoof: 0, dropVlan: 0, dropMalformed: 0, dropLinkLocal: 0 };
    fdb;
    /** Ports per VLAN they carry (listed VLANs only); made when the first port joins a VLAN. */
    #members = new Map();
    /** Ports that carry every VLAN (VXLAN links). */
    #trunkAll = new Set();
    #ports = new Set();
    /** Captures of the bridge: every frame it accepts, tagged with its VLAN unless on the untagged segment. */
    taps = new Set();
    constructor(name, limits, now) {
        this.name = name;
        this.fdb = new Fdb(limits, now);
    }
    get ports() {
        return this.#ports;
    }
    /** The VLANs some port carries (besides those of trunk-all ports). */
    vlans() {
        return [...this.#members.keys()].sort((a, b) => a - b);
    }
    add(device, mode, onUnplug) {
        const port = new BridgePort(this, device, mode, onUnplug);
        this.#ports.add(port);
        if (mode.trunks === 'all') {
            this.#trunkAll.add(port);
            this.#join(mode.native, port);
        }
        else {
            for (const vid of [mode.native, ...mode.trunks])
                this.#join(vid, port);
        }
        return port;
    }
    remove(port) {
        if (!this.#ports.delete(port))
            return;
        this.#trunkAll.delete(port);
        for (const [vid, set] of this.#members) {
            if (set.delete(port) && set.size === 0)
                this.#members.delete(vid);
        }
        this.fdb.forget(port);
    }
    #join(vid, port) {
        let set = this.#members.get(vid);
        if (!set)
            this.#members.set(vid, (set = new Set()));
        set.add(port);
    }
    /** A frame from a port's device: check it, learn its source, forward or flood it within its VLAN. */
    ingress(from, frame, info) {
        if (frame.length < ETH_HLEN || frame.length > MAX_FRAME)
            return this.#drop(from, 'dropMalformed');
        let vid = from.mode.native;
        let hasTag = false;
        if (frame[12] === ETH_P_8021Q >> 8 && frame[13] === (ETH_P_8021Q & 0xff)) {
            if (frame.length < ETH_HLEN + VLAN_HLEN)
                return this.#drop(from, 'dropMalformed');
            const tagged = ((frame[14] << 8) | frame[15]) & 0xfff;
            if (tagged === 0xfff)
                return this.#drop(from, 'dropMalformed');
            if (tagged !== NATIVE_VID) {
                if (!from.carries(tagged))
                    return this.#drop(from, 'dropVlan');
                vid = tagged;
                hasTag = true;
            }
            else {
                // A priority tag (VID 0) only: the frame is in the port's untagged VLAN.
                frame = stripTag(frame);
            }
        }
        // Invalid sources (group or zero) are dropped, as Linux's br_handle_frame does.
        const src = macAt(frame, 6);
        if (isGroupMac(frame, 6) || src === 0)
            return this.#drop(from, 'dropMalformed');
        if (from.mode.mac !== null && src !== from.mode.mac)
            return this.#drop(from, 'dropSpoof');
        if (isLinkLocalGroup(frame))
            return this.#drop(from, 'dropLinkLocal');
        this.fdb.learn(vid, src, from);
        const t = new Transit(vid, frame, hasTag, info);
        for (const tap of this.taps)
            tap.frame(t.form(NATIVE_VID), info);
        if (!isGroupMac(frame, 0)) {
            const to = this.fdb.lookup(vid, macAt(frame, 0));
            if (to) {
                // Known to be behind the port it came from: nothing to do (no hairpin, as Linux's default).
                if (to !== from) {
                    this.counters.forwarded++;
                    to.output(t);
                }
                return;
            }
        }
        this.counters.flooded++;
        const members = this.#members.get(vid);
        if (members)
            for (const p of members)
                if (p !== from)
                    p.output(t);
        for (const p of this.#trunkAll)
            if (p !== from && !members?.has(p))
                p.output(t);
    }
    #drop(from, why) {
        from.counters.dropsIn++;
        this.counters[why]++;
    }
    fdbRows() {
        return this.fdb.rows();
    }
}
//# sourceMappingURL=bridge.js.map