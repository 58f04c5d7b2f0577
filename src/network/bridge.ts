// A learning bridge with 802.1Q VLANs, as Linux's bridge with vlan_filtering (or an OVS bridge)
// does it for dom0. Inside the bridge a frame is its bytes plus the VLAN it is in; tags are
// added or removed only where a port's mode needs it (one copy, made once per frame and form).
// Ports carry one untagged VLAN (`native`: the bridge's untagged segment for NAME, TAG for
// NAME.TAG) and any number of tagged ones (trunks); a VXLAN link carries them all.
import type { NetFrameInfo } from '../abi/netif.js';
import { DOUBLE_ZERO, zeroDoubles } from '../double-fields.js';
import { NATIVE_VID } from './bridgespec.js';
import type { Tap } from './capture.js';
import { Fdb, type FdbLimits, type FdbOwner, type FdbRow } from './fdb.js';
import { ETH_HLEN, ETH_P_8021Q, VLAN_HLEN, isGroupMac, isLinkLocalGroup, macAt } from './mac.js';
import { COMPLETED, completeOffloads, needsCompletion } from './offload.js';
import { SourceLock } from './locking.js';
import type { FramePass, FrameSender, FrameTail, PortDevice, PortLocking, SwitchPort } from './port.js';

/** Frames larger than this (a 64 KiB GSO super-frame plus its headers) are malformed. */
export const MAX_FRAME = 65_535 + ETH_HLEN + VLAN_HLEN;

/** A port's counters, from the switch's side: `in` is what the device sent into the switch. */
export interface PortCounters {
  framesIn: number;
  bytesIn: number;
  framesOut: number;
  bytesOut: number;
  /** Frames from the device the switch refused (spoofed source, VLAN not carried, malformed). */
  dropsIn: number;
  /** Frames for the device it did not take (no room), or that could not be completed for it. */
  dropsOut: number;
}

export interface BridgeCounters {
  /** Frames sent to the one port their destination was learned on. */
  forwarded: number;
  /** Frames sent to every port of their VLAN (unknown unicast, broadcast, multicast). */
  flooded: number;
  dropSpoof: number;
  dropVlan: number;
  dropMalformed: number;
  /** 802.1D link-local groups (STP, LACP, 802.1X), which a bridge does not forward. */
  dropLinkLocal: number;
  /** Frames from a port whose locking mode refuses them (a source IP not allowed, a disabled vif). */
  dropLocked: number;
}

export type VlanMembership = 'all' | ReadonlySet<number>;

export interface PortMode {
  /** The VLAN of the port's untagged frames. */
  readonly native: number;
  /** The VLANs it carries tagged. */
  readonly trunks: VlanMembership;
  /** The one source MAC it may send from; null: any. */
  readonly mac: number | null;
}

/** A vif's source checks as configured: its MAC and whether it may spoof it when no locking mode says otherwise. */
export interface PortAccess {
  readonly mac: number | null;
  readonly macSpoof: boolean;
}

/** A frame as it crosses the bridge: its bytes in whichever forms were needed, and its VLAN. */
export class Transit {
  #untagged: Uint8Array | undefined;
  #tagged: Uint8Array | undefined;
  /** The completed frames (see offload.ts) of each form, for ports without the offloads: null if it cannot be. */
  #completed: [Uint8Array[] | null | undefined, Uint8Array[] | null | undefined] = [undefined, undefined];
  constructor(readonly vid: number, readonly frame: Uint8Array, readonly hasTag: boolean, readonly info: NetFrameInfo) {
    if (hasTag) this.#tagged = frame;
    else this.#untagged = frame;
  }

  untagged(): Uint8Array {
    return (this.#untagged ??= stripTag(this.frame));
  }

  tagged(): Uint8Array {
    return (this.#tagged ??= insertTag(this.frame, this.vid));
  }

  /** The frame as a port of that native VLAN sees it on its wire. */
  form(native: number): Uint8Array {
    return this.vid === native ? this.untagged() : this.tagged();
  }

  completed(native: number): Uint8Array[] | null {
    const i = this.vid === native ? 0 : 1;
    const done = this.#completed[i];
    return done !== undefined ? done : (this.#completed[i] = completeOffloads(this.form(native), this.info));
  }
}

export function stripTag(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(frame.length - VLAN_HLEN);
  out.set(frame.subarray(0, 12));
  out.set(frame.subarray(12 + VLAN_HLEN), 12);
  return out;
}

export function insertTag(frame: Uint8Array, vid: number): Uint8Array {
  const out = new Uint8Array(frame.length + VLAN_HLEN);
  out.set(frame.subarray(0, 12));
  out[12] = ETH_P_8021Q >> 8;
  out[13] = ETH_P_8021Q & 0xff;
  out[14] = vid >> 8;
  out[15] = vid & 0xff;
  out.set(frame.subarray(12), 12 + VLAN_HLEN);
  return out;
}

export class BridgePort implements SwitchPort, FdbOwner {
  /** Byte counts are double fields from the start (double-fields.ts): 2 GiB through a port changes no hidden class. */
  readonly counters: PortCounters = zeroDoubles({ framesIn: 0, bytesIn: DOUBLE_ZERO, framesOut: 0, bytesOut: DOUBLE_ZERO, dropsIn: 0, dropsOut: 0 }, 'bytesIn', 'bytesOut');
  /** Captures of this port: frames in as the device sent them, frames out as it took them. */
  readonly taps = new Set<Tap>();
  learned = 0;
  /** The locking mode's checks past the MAC (null: none). */
  lock: SourceLock | null = null;
  #plugged = true;
  readonly #access: PortAccess;

  constructor(readonly bridge: Bridge, readonly device: PortDevice, public mode: PortMode, readonly onUnplug: (p: BridgePort) => void, access?: PortAccess) {
    this.#access = access ?? { mac: mode.mac, macSpoof: mode.mac === null };
  }

  /** The locking mode (undefined: the MAC of the port's access alone, unless it may spoof). */
  setLocking(locking: PortLocking | undefined): void {
    const lock = locking ? SourceLock.of(locking) : null;
    const a = this.#access;
    const mac = locking ? (locking.mode === 'unlocked' ? null : a.mac) : a.macSpoof ? null : a.mac;
    this.lock = lock;
    if (mac !== this.mode.mac) this.mode = { ...this.mode, mac };
  }

  /** Disabled (locking mode): nothing goes in or out. */
  get disabled(): boolean {
    return this.lock !== null && this.lock.disabled;
  }

  get name(): string {
    return this.device.name;
  }

  get plugged(): boolean {
    return this.#plugged;
  }

  input(frame: Uint8Array, info: NetFrameInfo, tail?: FrameTail, pass?: FramePass, sender?: FrameSender): void {
    if (!this.#plugged) return;
    this.counters.framesIn++;
    this.counters.bytesIn += frame.length;
    if (this.taps.size !== 0) {
      if (tail && !tail.fill()) return this.bridge.dropTail(this);
      tail = undefined;
      for (const tap of this.taps) tap.frame(frame, info);
    }
    this.bridge.ingress(this, frame, info, tail, pass, sender);
  }

  /** Does this port carry VLAN `vid`, and how? */
  carries(vid: number): boolean {
    return vid === this.mode.native || this.mode.trunks === 'all' || this.mode.trunks.has(vid);
  }

  /** A frame of the bridge out to the device, in the form this port's mode gives it; `sender` only if it goes to this port alone. */
  output(t: Transit, sender?: FrameSender): void {
    if (this.disabled) {
      this.counters.dropsOut++;
      return;
    }
    if (!needsCompletion(t.info, this.device.features)) return this.#deliver(t.form(this.mode.native), t.info, undefined, sender);
    const frames = t.completed(this.mode.native);
    if (!frames) {
      this.counters.dropsOut++;
      return;
    }
    for (const f of frames) this.#deliver(f, COMPLETED, undefined, sender);
  }

  /** A frame already in this port's form and with the offloads its device takes (valid until `pass` ends, if given). */
  deliverAsIs(frame: Uint8Array, info: NetFrameInfo, pass?: FramePass, sender?: FrameSender): void {
    this.#deliver(frame, info, pass, sender);
  }

  /** deliverAsIs for a frame with its tail in the sender's grants: straight across if the device can, else filled first. */
  deliverTail(frame: Uint8Array, info: NetFrameInfo, tail: FrameTail, sender?: FrameSender): void {
    const d = this.device;
    if (this.disabled) {
      this.counters.dropsOut++;
      return;
    }
    if (!d.deliverTail || this.taps.size !== 0) {
      if (tail.fill()) this.#deliver(frame, info, undefined, sender);
      else this.counters.dropsOut++;
      return;
    }
    if (d.deliverTail(frame, info, tail, sender)) {
      this.counters.framesOut++;
      this.counters.bytesOut += frame.length;
    } else {
      this.counters.dropsOut++;
    }
  }

  #deliver(frame: Uint8Array, info: NetFrameInfo, pass?: FramePass, sender?: FrameSender): void {
    if (this.disabled) {
      this.counters.dropsOut++;
      return;
    }
    if (this.device.deliver(frame, info, pass, sender)) {
      this.counters.framesOut++;
      this.counters.bytesOut += frame.length;
      if (this.taps.size !== 0) for (const tap of this.taps) tap.frame(frame, info);
    } else {
      this.counters.dropsOut++;
    }
  }

  unplug(): void {
    if (!this.#plugged) return;
    this.#plugged = false;
    this.bridge.remove(this);
    this.onUnplug(this);
    for (const tap of [...this.taps]) tap.gone();
  }
}

export class Bridge {
  readonly counters: BridgeCounters = { forwarded: 0, flooded: 0, dropSpoof: 0, dropVlan: 0, dropMalformed: 0, dropLinkLocal: 0, dropLocked: 0 };
  readonly fdb: Fdb<BridgePort>;
  /** Ports per VLAN they carry (listed VLANs only); made when the first port joins a VLAN. */
  readonly #members = new Map<number, Set<BridgePort>>();
  /** Ports that carry every VLAN (VXLAN links). */
  readonly #trunkAll = new Set<BridgePort>();
  readonly #ports = new Set<BridgePort>();
  /** Captures of the bridge: every frame it accepts, tagged with its VLAN unless on the untagged segment. */
  readonly taps = new Set<Tap>();

  constructor(readonly name: string, limits: FdbLimits, now: () => number) {
    this.fdb = new Fdb(limits, now);
  }

  get ports(): ReadonlySet<BridgePort> {
    return this.#ports;
  }

  /** The VLANs some port carries (besides those of trunk-all ports). */
  vlans(): number[] {
    return [...this.#members.keys()].sort((a, b) => a - b);
  }

  add(device: PortDevice, mode: PortMode, onUnplug: (p: BridgePort) => void, access?: PortAccess): BridgePort {
    const port = new BridgePort(this, device, mode, onUnplug, access);
    this.#ports.add(port);
    if (mode.trunks === 'all') {
      this.#trunkAll.add(port);
      this.#join(mode.native, port);
    } else {
      for (const vid of [mode.native, ...mode.trunks]) this.#join(vid, port);
    }
    return port;
  }

  remove(port: BridgePort): void {
    if (!this.#ports.delete(port)) return;
    this.#trunkAll.delete(port);
    for (const [vid, set] of this.#members) {
      if (set.delete(port) && set.size === 0) this.#members.delete(vid);
    }
    this.fdb.forget(port);
  }

  #join(vid: number, port: BridgePort): void {
    let set = this.#members.get(vid);
    if (!set) this.#members.set(vid, (set = new Set()));
    set.add(port);
  }

  /**
   * A frame from a port's device: check it, learn its source, forward or flood it within its
   * VLAN. Only its first bytes are read here, so a `tail` left in the sender's grants stays
   * there unless the frame is one that needs its bytes in dom0 (tagged, flooded, tapped). A
   * `pass` goes with a frame forwarded as it came (FramePass); every other form is made here.
   * The `sender` goes with a frame for one known port only (back-pressure), never with a flood.
   */
  ingress(from: BridgePort, frame: Uint8Array, info: NetFrameInfo, tail?: FrameTail, pass?: FramePass, sender?: FrameSender): void {
    if (frame.length < ETH_HLEN || frame.length > MAX_FRAME) return this.#drop(from, 'dropMalformed');
    if (tail && (tail.head < ETH_HLEN + VLAN_HLEN || this.taps.size !== 0 || frame[12] === ETH_P_8021Q >> 8)) {
      if (!tail.fill()) return this.dropTail(from);
      tail = undefined;
    }
    let vid = from.mode.native;
    let hasTag = false;
    if (frame[12] === ETH_P_8021Q >> 8 && frame[13] === (ETH_P_8021Q & 0xff)) {
      if (frame.length < ETH_HLEN + VLAN_HLEN) return this.#drop(from, 'dropMalformed');
      const tagged = ((frame[14]! << 8) | frame[15]!) & 0xfff;
      if (tagged === 0xfff) return this.#drop(from, 'dropMalformed');
      if (tagged !== NATIVE_VID) {
        if (!from.carries(tagged)) return this.#drop(from, 'dropVlan');
        vid = tagged;
        hasTag = true;
      } else {
        // A priority tag (VID 0) only: the frame is in the port's untagged VLAN (a copy, not the sender's: no pass).
        frame = stripTag(frame);
        pass = undefined;
      }
    }
    // Invalid sources (group or zero) are dropped, as Linux's br_handle_frame does.
    const src = macAt(frame, 6);
    if (isGroupMac(frame, 6) || src === 0) return this.#drop(from, 'dropMalformed');
    if (from.mode.mac !== null && src !== from.mode.mac) return this.#drop(from, 'dropSpoof');
    if (from.lock !== null && !from.lock.allows(frame, hasTag ? ETH_HLEN + VLAN_HLEN : ETH_HLEN, from.mode.mac)) return this.#drop(from, 'dropLocked');
    if (isLinkLocalGroup(frame)) return this.#drop(from, 'dropLinkLocal');
    const now = this.fdb.now();
    this.fdb.learn(vid, src, from, now);
    const to = isGroupMac(frame, 0) ? undefined : this.fdb.lookup(vid, macAt(frame, 0), now);
    // The common case, one untagged frame to a known port in its own VLAN that takes it as it
    // is: straight to the device, no Transit.
    if (to && to !== from && !hasTag && to.mode.native === vid && this.taps.size === 0 && !needsCompletion(info, to.device.features)) {
      this.counters.forwarded++;
      if (tail) to.deliverTail(frame, info, tail, sender);
      else to.deliverAsIs(frame, info, pass, sender);
      return;
    }
    if (tail && to !== from && !tail.fill()) return this.dropTail(from);
    const t = new Transit(vid, frame, hasTag, info);
    if (this.taps.size !== 0) for (const tap of this.taps) tap.frame(t.form(NATIVE_VID), info);
    if (to) {
      // Known to be behind the port it came from: nothing to do (no hairpin, as Linux's default).
      if (to !== from) {
        this.counters.forwarded++;
        to.output(t, sender);
      }
      return;
    }
    this.counters.flooded++;
    const members = this.#members.get(vid);
    if (members) for (const p of members) if (p !== from) p.output(t);
    for (const p of this.#trunkAll) if (p !== from && !members?.has(p)) p.output(t);
  }

  /** The sender's grants would not give the rest of its frame: dropped as malformed. */
  dropTail(from: BridgePort): void {
    this.#drop(from, 'dropMalformed');
  }

  #drop(from: BridgePort, why: Exclude<keyof BridgeCounters, 'forwarded' | 'flooded'>): void {
    from.counters.dropsIn++;
    this.counters[why]++;
  }

  fdbRows(): FdbRow<BridgePort>[] {
    return this.fdb.rows();
  }
}
