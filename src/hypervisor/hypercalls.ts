// The hypercall surface of one domain, on the thread that runs it (its vCPU worker, dom0's main
// thread, or its realm on a shared pCPU). The buffers of peers it was connected to and its
// maptrack are held in #private fields that guest and driver code cannot reach by name; its own
// control block its guest can reach (`memory`), and nothing another thread trusts is left there
// (layout.ts). In a realm #private is not enough: the guest's code shares the realm's intrinsics
// with this copy, and a wrapped Map.prototype.get or Atomics.load is handed what this code passes
// them. So a realm's copy holds no peer's buffers (peersElsewhere): its pCPU thread's one copy
// does (guest/pcpu-hypercalls.ts), and this copy refuses maps, copies and pins of other domains'
// grants (#granter).
// Data-path calls are synchronous and touch only shared memory; control-path calls go to the
// hypervisor authority through a ControlChannel.
import { VIRQ_TIMER } from '../abi/event_channel.js';
import { GNTST_bad_domain, GNTST_general_error, GNTST_okay, GNTST_permission_denied, GRANT_ENTRIES_PER_FRAME, GrantError } from '../abi/grant_table.js';
import { DOMID_SELF, type ShutdownReason } from '../abi/xen.js';
import { XenError } from '../errors.js';
import type { ControlChannel, PeerGrant } from './control.js';
import * as evtchn from './evtchn.js';
import { enterGate, leaveGate } from './gate.js';
import {
  copyGrant, copyLocal, mapGrant, pinBatch, unpinBatch, Maptrack, unmapGrant, revokeGrantEntry, writeGrantEntry, type CopyOp, type GrantCopyBatch,
  type GrantMapping,
} from './grant.js';
import {
  CB_MAX_GRANT_FRAMES, CB_MAX_PAGES, CB_NR_GRANT_FRAMES, CB_RAM_HWM, CB_TOT_PAGES, GNTTAB_NR_RESERVED_ENTRIES,
  firstRamPfn,
} from './layout.js';
import { DomainView, type DomainBuffers } from './memory.js';

/**
 * Keep a view of the peer `grant` gives in `peers` (a domain's views of its peers, by domid). A
 * domid can come back as a new domain once the old one is dying: the new one's view replaces the
 * old one then, unless `oldInUse` says the old view is still needed. `viewOf` makes the view (a
 * shared pCPU's residents share one per peer: guest/pcpu-hypercalls.ts).
 */
export function adoptPeerView(
  peers: Map<number, DomainView>,
  grant: PeerGrant,
  oldInUse: (domid: number) => boolean = () => false,
  viewOf: (grant: PeerGrant) => DomainView = (g) => new DomainView(g.peer),
): void {
  const id = grant.peer.domid;
  const cur = peers.get(id);
  if (!cur || (cur.buffers.memory !== grant.peer.memory && cur.dying && !oldInUse(id))) peers.set(id, viewOf(grant));
}

/**
 * How set_timer_op arms the vCPU's timer: Node's setTimeout, or in a realm its own (realm.ts),
 * which a shared pCPU keeps outside the domain's timer bound (one per domain, as Xen's vCPU has
 * its singleshot timer without allocating one): no arm of it is refused (ENOMEM).
 */
let armVcpuTimer: (fn: () => void, ms: number) => NodeJS.Timeout = (fn, ms) => setTimeout(fn, ms);

/** This copy's set_timer_op arms the vCPU's timer through `arm` (a realm's: globals.ts setOwnTimer). */
export function vcpuTimerThrough(arm: (fn: () => void, ms: number) => NodeJS.Timeout): void {
  armVcpuTimer = arm;
}

export class Hypercalls {
  readonly domid: number;
  #self: DomainView;
  #control: ControlChannel;
  #maptrack: Maptrack | null = null;
  #peers = new Map<number, DomainView>();
  #connecting = new Map<number, Promise<void>>();
  /** dom0 reaches every domain through the authority's registry instead of #peers. */
  #registry: ((domid: number) => DomainView | undefined) | null;
  #gated: boolean;
  #freeRefs: number[] = [];
  #nextRef = GNTTAB_NR_RESERVED_ENTRIES;
  #freePfns = new Set<number>();
  #timer: NodeJS.Timeout | undefined;
  #peerOf = (domid: number): DomainView | undefined => this.#peer(domid);
  #sendHere: ((port: number) => boolean) | null;
  #peersElsewhere: ((domid: number) => boolean) | null;

  constructor(
    self: DomainBuffers | DomainView,
    control: ControlChannel,
    opts: {
      registry?: (domid: number) => DomainView | undefined;
      maptrack?: SharedArrayBuffer;
      /**
       * A shared pCPU's send for this domain (guest/pcpu-hypercalls.ts): true if it did the send,
       * false if it did nothing and left it to this copy; it throws the send's error if it failed.
       */
      sendHere?: (port: number) => boolean;
      /**
       * Set in a realm (guest/realm.ts): its peers' buffers stay on the pCPU thread, and this
       * says whether that thread holds a view of `domid`'s live domain (connect has nothing to do).
       */
      peersElsewhere?: (domid: number) => boolean;
    } = {},
  ) {
    this.#sendHere = opts.sendHere ?? null;
    this.#peersElsewhere = opts.peersElsewhere ?? null;
    this.#self = self instanceof DomainView ? self : new DomainView(self);
    this.domid = this.#self.domid;
    this.#control = control;
    this.#registry = opts.registry ?? null;
    this.#gated = !this.#registry;
    if (opts.maptrack) this.#maptrack = new Maptrack(opts.maptrack);
  }

  /** Typed views of the domain's own memory: its guest code may use all of it. */
  get memory(): DomainView {
    return this.#self;
  }

  #peer(domid: number): DomainView | undefined {
    if (domid === this.domid || domid === DOMID_SELF) return this.#self;
    return this.#registry ? this.#registry(domid) : this.#peers.get(domid);
  }

  #adopt(grant: PeerGrant): void {
    // A realm is answered without the grant (guest/pcpu.ts): its pCPU thread adopted it.
    if (this.#peersElsewhere) return;
    // Not while we still map pages of the old domain: its handles unmap through that view.
    adoptPeerView(this.#peers, grant, (domid) => this.#mapsOf(domid));
    if (grant.maptrack && !this.#maptrack) this.#maptrack = new Maptrack(grant.maptrack);
  }

  #mapsOf(domid: number): boolean {
    for (const [, , , granter] of this.#maptrack?.live() ?? []) if (granter === domid) return true;
    return false;
  }

  /** The hypercall gate (gate.ts); dom0 is never killed, so it skips it. */
  #enter(): void {
    if (this.#gated) enterGate(this.#self.ctl);
  }

  #exit(): void {
    if (this.#gated) leaveGate(this.#self.ctl);
  }

  /** Called by the vCPU runtime when the authority pushes a peer (an interdomain bind by the other end). */
  adoptPeer(grant: PeerGrant): void {
    this.#adopt(grant);
  }

  // ---------------- event channels ----------------

  /**
   * EVTCHNOP_send: deliver on the calling thread, inside the gate: a FIFO target's queue lock
   * is taken there, and a vCPU is never killed holding it.
   */
  evtchnSend(port: number): void {
    // On a shared pCPU the pCPU thread's one copy of this send runs first (realm.ts); it leaves
    // to this one only what it did not do: a target it has no view of (it holds the send, and
    // this one only connects the target), a kill (this one stops at the gate).
    if (this.#sendHere?.(port)) return;
    this.evtchnSendOwn(port);
  }

  /**
   * EVTCHNOP_send in this copy, without asking a shared pCPU's copy first: for a send that copy
   * already left to this one (realm/host.ts blkPushThrough), which is not asked twice.
   */
  evtchnSendOwn(port: number): void {
    this.#enter();
    try {
      const missing = evtchn.send(this.#self, port, this.#peerOf);
      if (!missing) return;
      const [domid, rport] = missing;
      // The other end bound to us; its buffers reach us once, off the data path. On a shared pCPU
      // they reach the pCPU's thread, which holds the send meanwhile and makes it once they came
      // (guest/pcpu-hypercalls.ts): there an event it must defer (a held FIFO queue lock) is
      // retried from the thread's own timer, where this realm's end with the domain, and a domain
      // that halts before dom0's answer still makes it (in Xen it was done when it was made).
      const connected = this.connect(domid);
      if (this.#sendHere) connected.catch(() => {});
      else void connected.then(() => this.#deliverConnected(port, domid, rport), () => {});
    } finally {
      this.#exit();
    }
  }

  /** A send whose target this copy had no view of, once connect() brought one. */
  #deliverConnected(port: number, domid: number, rport: number): void {
    const peer = this.#peer(domid);
    if (peer) this.#deliver(port, peer, rport);
  }

  /** Our send on `port` to `peerPort` of `peer`, if that is the channel's other end (evtchn.deliver). */
  #deliver(port: number, peer: DomainView, peerPort: number): void {
    this.#enter();
    try {
      evtchn.deliver(this.#self, port, peer, peerPort);
    } finally {
      this.#exit();
    }
  }

  evtchnUnmask(port: number): void {
    evtchn.unmask(this.#self, port);
  }

  evtchnMask(port: number): void {
    evtchn.mask(this.#self, port);
  }

  /** Raise a port of our own (a VIRQ or IPI we own), e.g. the timer. */
  #raiseVirq(virq: number): void {
    const port = evtchn.virqPort(this.#self, virq);
    if (port) this.#deliver(port, this.#self, port);
  }

  evtchnAllocUnbound(remoteDom: number, dom: number = DOMID_SELF): Promise<number> {
    return this.#control.call('allocUnbound', dom === DOMID_SELF ? this.domid : dom, remoteDom);
  }

  async evtchnBindInterdomain(remoteDom: number, remotePort: number): Promise<number> {
    const r = await this.#control.call('bindInterdomain', remoteDom, remotePort);
    if (r.peer) this.#adopt(r.peer);
    return r.port;
  }

  evtchnBindVirq(virq: number, vcpu = 0): Promise<number> {
    return this.#control.call('bindVirq', virq, vcpu);
  }

  /**
   * EVTCHNOP_init_control: switch to the FIFO ABI, with vCPU `vcpu`'s evtchn_fifo_control_block
   * at `offset` in frame `controlGfn` (populated RAM); returns link_bits (17).
   */
  evtchnInitControl(controlGfn: number, offset: number, vcpu = 0): Promise<number> {
    return this.#control.call('initControl', controlGfn, offset, vcpu);
  }

  /** EVTCHNOP_expand_array: frame `arrayGfn` becomes the event array's next 1,024 event words. */
  evtchnExpandArray(arrayGfn: number): Promise<void> {
    return this.#control.call('expandArray', arrayGfn);
  }

  /** EVTCHNOP_set_priority: 0 (highest) to 15. */
  evtchnSetPriority(port: number, priority: number): Promise<void> {
    return this.#control.call('setPriority', port, priority);
  }

  evtchnClose(port: number): Promise<void> {
    return this.#control.call('close', port);
  }

  /** Async even for our own ports, so a bad port rejects like every other control call. */
  async evtchnStatus(port: number, dom: number = DOMID_SELF): Promise<evtchn.EvtchnStatus> {
    if (dom !== DOMID_SELF && dom !== this.domid) return this.#control.call('status', dom, port);
    this.#enter();
    try {
      return evtchn.status(this.#self, port);
    } finally {
      this.#exit();
    }
  }

  // ---------------- grant tables: the granting side (our own entries) ----------------

  /** gnttab_grant_foreign_access: entry written frame and domid first, flags last. */
  grantAccess(domid: number, pfn: number, readonly: boolean): number {
    const ref = this.#claimRef();
    this.grantAccessRef(ref, domid, pfn, readonly);
    return ref;
  }

  /** Fill a specific entry (the builder seeds the reserved console/xenstore entries). */
  grantAccessRef(ref: number, domid: number, pfn: number, readonly: boolean): void {
    writeGrantEntry(this.#self, ref, domid, pfn, readonly);
  }

  /**
   * gnttab_end_foreign_access_ref: revoke unless the peer has it mapped (GTF_reading/writing),
   * with the same compare-and-swap loop as Linux. Returns false while it is still in use.
   */
  endAccess(ref: number, release = true): boolean {
    if (!revokeGrantEntry(this.#self, ref)) return false;
    if (release) this.#freeRefs.push(ref);
    return true;
  }

  #claimRef(): number {
    const ref = this.#freeRefs.pop();
    if (ref !== undefined) return ref;
    const nr = Atomics.load(this.#self.ctl, CB_NR_GRANT_FRAMES) * GRANT_ENTRIES_PER_FRAME;
    if (this.#nextRef >= nr) {
      throw new GrantError(GNTST_general_error, `d${this.domid}: grant table full (${nr} entries): grow it with grantSetupTable`);
    }
    return this.#nextRef++;
  }

  /** Refs still available without growing the table. */
  get freeGrantRefs(): number {
    const nr = Atomics.load(this.#self.ctl, CB_NR_GRANT_FRAMES) * GRANT_ENTRIES_PER_FRAME;
    return this.#freeRefs.length + nr - this.#nextRef;
  }

  /** GNTTABOP_setup_table: grow the grant table to `nrFrames` (never shrinks). */
  grantSetupTable(nrFrames: number): Promise<number> {
    return this.#control.call('setupTable', nrFrames);
  }

  /** GNTTABOP_query_size */
  grantQuerySize(): { nrFrames: number; maxNrFrames: number } {
    return {
      nrFrames: Atomics.load(this.#self.ctl, CB_NR_GRANT_FRAMES),
      maxNrFrames: Atomics.load(this.#self.ctl, CB_MAX_GRANT_FRAMES),
    };
  }

  // ---------------- grant tables: the mapping side ----------------

  /**
   * Get access to another domain's memory, as the authority allows it (dom0 always; others
   * when a device or event channel connects the two). Needed once before mapping its grants.
   */
  connect(domid: number): Promise<void> {
    const here = this.#peer(domid);
    if (here ? !here.dying : this.#peersElsewhere?.(domid) === true) return Promise.resolve();
    let p = this.#connecting.get(domid);
    if (!p) {
      p = this.#control.call('peer', domid).then((g) => this.#adopt(g));
      p.catch(() => {}).finally(() => this.#connecting.delete(domid));
      this.#connecting.set(domid, p);
    }
    return p;
  }

  #mt(): Maptrack {
    if (!this.#maptrack) throw new GrantError(GNTST_bad_domain, `d${this.domid} is connected to no domain: call connect() first`);
    return this.#maptrack;
  }

  /**
   * The view a grant operation on `domid`'s grants works on, or why there is none. A realm has
   * no other domain's: a mapping's page is a view of the granter's whole memory, and so are a
   * copy's and a pin's views. Only backends map, copy and pin others' grants, and they run in
   * Pool-0 (a driver domain is refused a shared pool).
   */
  #granter(domid: number): DomainView | GrantError {
    const g = this.#peer(domid);
    if (g) return g;
    // Xen looks the domain up first (GNTST_bad_domain), then asks XSM (GNTST_permission_denied).
    return this.#peersElsewhere?.(domid) === true
      ? new GrantError(GNTST_permission_denied, `d${this.domid} is in a shared cpupool: it maps, copies and pins no grant of d${domid} (backends run in Pool-0)`)
      : new GrantError(GNTST_bad_domain, `d${domid} is not connected to d${this.domid}`);
  }

  #granterOf = (domid: number): DomainView => {
    const g = this.#granter(domid);
    if (g instanceof GrantError) throw g;
    return g;
  };

  /** GNTTABOP_map_grant_ref */
  grantMap(domid: number, ref: number, readonly: boolean): GrantMapping {
    if (domid === this.domid) throw new GrantError(GNTST_bad_domain, `d${domid} is not connected to d${this.domid}`);
    const g = this.#granterOf(domid);
    const mt = this.#mt();
    this.#enter();
    try {
      return mapGrant(mt, this.domid, g, ref, readonly);
    } finally {
      this.#exit();
    }
  }

  /** GNTTABOP_unmap_grant_ref */
  grantUnmap(handle: number): void {
    const mt = this.#mt();
    this.#enter();
    try {
      unmapGrant(mt, this.domid, handle, (d) => this.#peer(d));
    } finally {
      this.#exit();
    }
  }

  /** GNTTABOP_copy: one status per op, GNTST_okay or the failure, like Xen's batch. */
  grantCopy(ops: readonly CopyOp[]): number[] {
    this.#enter();
    try {
      return ops.map((op) => {
        try {
          copyGrant(this.#self, op, this.#granterOf);
          return GNTST_okay;
        } catch (e) {
          if (e instanceof GrantError) return e.status;
          throw e;
        }
      });
    } finally {
      this.#exit();
    }
  }

  /**
   * GNTTABOP_copy of `batch` between grants of `domid` and the caller's own buffer (a
   * backend's): no maptrack handle, no page view, one lock for the batch. Grant-to-grant ops
   * (batch.addFromGrant) take their bytes from grants of `srcDomid`. Returns how many ops
   * failed; each op's GNTST_* is in batch.status.
   */
  grantCopyLocal(domid: number, batch: GrantCopyBatch, srcDomid?: number): number {
    const g = this.#granter(domid);
    if (g instanceof GrantError) return batch.fail(g.status);
    const src = srcDomid === undefined ? undefined : this.#peer(srcDomid);
    this.#enter();
    try {
      return copyLocal(g, this.domid, batch, src);
    } finally {
      this.#exit();
    }
  }

  /**
   * Pin the grants of `batch`'s ops (ref, offset, len) read-only, for use within this turn (a
   * frame's pages held while it crosses the switch); unpin with grantUnpinLocal. Returns how
   * many failed; each op's GNTST_* is in batch.status.
   */
  grantPinLocal(domid: number, batch: GrantCopyBatch): number {
    const g = this.#granter(domid);
    if (g instanceof GrantError) return batch.fail(g.status);
    this.#enter();
    try {
      return pinBatch(g, this.domid, batch);
    } finally {
      this.#exit();
    }
  }

  /**
   * The bytes of `batch`'s ops, which grantPinLocal holds pinned now, into `local` from `at` on,
   * in op order, from the pins (not pinned again). False, with nothing copied, if the batch is
   * not pinned in `domid` by this domain, one of its ops did not pin, or `local` has no room.
   */
  grantCopyFromPins(domid: number, batch: GrantCopyBatch, local: Uint8Array, at: number): boolean {
    const g = this.#peer(domid);
    if (!g) return false;
    this.#enter();
    try {
      return batch.copyFromPins(g, this.domid, local, at);
    } finally {
      this.#exit();
    }
  }

  grantUnpinLocal(domid: number, batch: GrantCopyBatch): void {
    const g = this.#peer(domid);
    if (!g) return;
    this.#enter();
    try {
      unpinBatch(g, this.domid, batch);
    } finally {
      this.#exit();
    }
  }

  get maptrackUsed(): number {
    return this.#maptrack?.used ?? 0;
  }

  // ---------------- memory ----------------

  /**
   * XENMEM_populate_physmap: `count` RAM frames, within the domain's max_pages. Frames come
   * back zeroed only the first time (as fresh pages do); reused frames hold their old data.
   */
  populatePhysmap(count: number): number[] {
    if (!Number.isInteger(count) || count < 0) throw new XenError('EINVAL', `bad frame count ${count}`);
    const c = this.#self.ctl;
    const tot = Atomics.load(c, CB_TOT_PAGES);
    const max = Atomics.load(c, CB_MAX_PAGES);
    if (tot + count > max) {
      throw new XenError('ENOMEM', `d${this.domid}: out of memory: ${tot} of ${max} frames in use, ${count} more asked`);
    }
    Atomics.add(c, CB_TOT_PAGES, count);
    const pfns: number[] = [];
    for (const pfn of this.#freePfns) {
      if (pfns.length === count) break;
      this.#freePfns.delete(pfn);
      pfns.push(pfn);
    }
    const hwm = Atomics.load(c, CB_RAM_HWM);
    const fresh = count - pfns.length;
    for (let i = 0; i < fresh; i++) pfns.push(hwm + i);
    Atomics.store(c, CB_RAM_HWM, hwm + fresh);
    return pfns;
  }

  /** XENMEM_decrease_reservation */
  decreaseReservation(pfns: readonly number[]): void {
    const hwm = Atomics.load(this.#self.ctl, CB_RAM_HWM);
    const first = firstRamPfn(this.#self.geometry);
    const unique = new Set(pfns);
    for (const pfn of unique) {
      if (!Number.isInteger(pfn) || pfn < first || pfn >= hwm || this.#freePfns.has(pfn)) {
        throw new XenError('EINVAL', `d${this.domid}: pfn ${pfn} is not populated`);
      }
    }
    if (unique.size !== pfns.length) throw new XenError('EINVAL', `d${this.domid}: a pfn is listed twice`);
    for (const pfn of unique) this.#freePfns.add(pfn);
    Atomics.sub(this.#self.ctl, CB_TOT_PAGES, pfns.length);
  }

  // ---------------- scheduling and time ----------------

  /**
   * set_timer_op: VIRQ_TIMER fires at `deadline` (performance.now() milliseconds); 0 cancels. A
   * new deadline replaces the old one: the vCPU has one singleshot timer, as in Xen. On a shared
   * pCPU that timer is not one of the domain's bounded places (vcpuTimerThrough), so neither an
   * arm nor a re-arm in the VIRQ_TIMER handler is refused, and a domain that cancelled it holds
   * no timer for it. (It used to be an interval counted under the bound and parked between
   * deadlines, so that its re-arm kept its place: a place held for the domain's life.)
   */
  setTimer(deadline: number): void {
    clearTimeout(this.#timer);
    this.#timer = deadline === 0 ? undefined : armVcpuTimer(this.#fired, Math.max(1, deadline - performance.now()));
  }

  readonly #fired = (): void => {
    this.#timer = undefined;
    this.#raiseVirq(VIRQ_TIMER);
  };

  /**
   * SCHEDOP_shutdown. A suspend names the frames of the guest's suspend record and resolves
   * only if the domain is resumed in place (with 1, Xen's cancelled suspend).
   */
  async shutdown(reason: ShutdownReason, record?: { pfn: number; bytes: number }): Promise<number> {
    return record ? this.#control.call('shutdown', reason, record.pfn, record.bytes) : this.#control.call('shutdown', reason);
  }
}
