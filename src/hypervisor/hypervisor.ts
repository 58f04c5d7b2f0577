// The hypervisor authority: the domain table and the control plane. It lives on dom0's
// thread (the host's main thread) and is the only holder of every domain's buffers. Domains
// reach it through their ControlPlane; dom0's toolstack calls the domctl methods directly.
import './marking.js'; // V8's marking flags, set before any heap starts a marking
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  EVTCHN_FIFO_NR_CHANNELS, EVTCHNSTAT_closed, EVTCHNSTAT_interdomain, EVTCHNSTAT_unbound, EVTCHNSTAT_virq, GLOBAL_VIRQS, NR_VIRQS,
  VIRQ_DOM_EXC,
} from '../abi/event_channel.js';
import { DOMID_FIRST_RESERVED, DOMID_SELF, PAGE_SIZE, SHUTDOWN_REASONS, isValidDomid, type ShutdownReason } from '../abi/xen.js';
import { XenError } from '../errors.js';
import { directChannel, type ControlPlane, type PeerGrant } from './control.js';
import * as ev from './evtchn.js';
import { breakGrantLock, Maptrack, unpin } from './grant.js';
import { Hypercalls } from './hypercalls.js';
import {
  CB_DYING, CB_MAIN_CALLED, CB_MAX_GRANT_FRAMES, CB_NR_GRANT_FRAMES, CB_PAUSE, CB_RAM_HWM, CB_RUNSTATE, CB_SHUTDOWN, CB_TOT_PAGES,
  DEFAULT_MAX_EVTCHNS, DEFAULT_MAX_GRANT_FRAMES, DEFAULT_MAX_MAPTRACK_FRAMES, RUNSTATE_blocked, RUNSTATE_running, firstRamPfn,
} from './layout.js';
import { DomHeap } from './domheap.js';
import type { DoorbellSlot } from './doorbell.js';
import { closeGate } from './gate.js';
import { breakQueueLocks } from './evtchn-fifo.js';
import { allocateDomainBuffers, allocateMaptrack, DomainView } from './memory.js';
import { GNTMAP_readonly, GNTST_bad_handle, GNTST_general_error, GrantError } from '../abi/grant_table.js';
import { UPCALL_WORD } from './evtchn.js';

/** The thread that runs a domain's vCPU, as the authority sees it. */
export interface VcpuHandle {
  /** Stop the thread for good; resolves once it no longer runs (a reset pCPU thread past its bound may: Hypervisor.linger). */
  terminate(): Promise<void>;
  /** Milliseconds the vCPU has spent running. */
  cpuTime(): number;
  /** Hand a peer's buffers to the vCPU's hypercall layer (after the other end bound to it). */
  push(grant: PeerGrant): void;
  /** Whether its thread is on a CPU or waiting for one (thread.ts); undefined if unknown. */
  running?(): boolean | undefined;
  /** Its thread's nice value (thread.ts), where it has a thread of its own the OS names. */
  nice?(): number | undefined;
  /** The runtime's last reported timeline of a suspend or a resume (RuntimeMarks), where it reports one. */
  marks?(kind: RuntimeMarksKind): RuntimeMarks | undefined;
}

/** A suspend's or a resume's timeline in the guest's runtime (guest/suspend.ts). */
export type RuntimeMarksKind = 'suspend' | 'resume';
/** Step name -> when the runtime reached it (performance.timeOrigin + now(), epoch ms, comparable across threads). */
export type RuntimeMarks = Readonly<Record<string, number>>;

export interface DomainCreateOptions {
  readonly name: string;
  readonly uuid?: string;
  /** RAM frames the domain may populate (its max_pages). */
  readonly ramFrames: number;
  readonly maxGrantFrames?: number;
  readonly maxMaptrackFrames?: number;
  readonly maxEvtchns?: number;
  readonly privileged?: boolean;
  /** The shared pCPU the domain's vCPU will run on (cpupool.ts). */
  readonly doorbell?: DoorbellSlot;
  /** With a doorbell (required): the word that pCPU reads for the domain's pause count (PcpuStats.paused). */
  readonly pauseWord?: Int32Array;
}

export class Domain {
  /** When it was created (a shell's: when a create claimed it). */
  createdAt = Date.now();
  vcpu: VcpuHandle | null = null;
  maptrack: Maptrack | null = null;
  shutdownReason: ShutdownReason | null = null;
  /**
   * The frames of the guest's suspend record, as it named them in SCHEDOP_shutdown(suspend)
   * (Xen keeps the start_info frame in the vCPU context); null unless suspended.
   */
  suspendRecord: { readonly pfn: number; readonly bytes: number } | null = null;
  /** Answers the suspended vCPU's SCHEDOP_shutdown when the domain is resumed in place. */
  resumeVcpu: ((cancelled: number) => void) | null = null;
  /** Set once destruction started; the domain stays listed while others still map its pages. */
  dying = false;
  /** What runs once destroyDomain has torn it down (whenDestroyed); null once it has. */
  #onDestroyed: (() => void)[] | null = [];
  #name: string;
  readonly #renamed: (d: Domain, old: string) => void;
  constructor(
    readonly domid: number,
    name: string,
    /** Set at creation; a shell takes its configuration's when claimed. */
    public uuid: string,
    readonly view: DomainView,
    readonly privileged: boolean,
    readonly maxMaptrackFrames: number,
    /** Told of every rename: the hypervisor's index of live domains by name. */
    renamed: (d: Domain, old: string) => void,
    /**
     * On a shared pCPU: its pause count where its pCPU reads it. The vCPU's word (CB_PAUSE) is in
     * the control block, which the guest can write: a Pool-0 vCPU's pause is its own scheduling
     * point anyway, but a pCPU that read that word ran a domain whose guest cleared it.
     */
    readonly pauseWord: Int32Array | null = null,
  ) {
    this.#name = name;
    this.#renamed = renamed;
  }

  get name(): string {
    return this.#name;
  }

  set name(name: string) {
    const old = this.#name;
    this.#name = name;
    this.#renamed(this, old);
  }

  /**
   * `fn` once destroyDomain has torn it down (its vCPU stopped, its ports closed, its mappings
   * dropped): at once if it has been, else before that destroy returns.
   */
  whenDestroyed(fn: () => void): void {
    if (this.#onDestroyed) this.#onDestroyed.push(fn);
    else fn();
  }

  /**
   * @internal Hypervisor.destroyDomain's: it has been torn down. One callback that throws (logged)
   * keeps none of the others from running: each gives back something of its own (a pCPU slot).
   */
  tornDown(log: (line: string) => void): void {
    const fns = this.#onDestroyed ?? [];
    this.#onDestroyed = null;
    for (const fn of fns) {
      try {
        fn();
      } catch (e) {
        log(`d${this.domid}: what waited for its destroy threw: ${(e as Error)?.stack ?? e}`);
      }
    }
  }

  /** Pauses by the toolstack (a shut-down domain is stopped too, but not shown as paused). */
  pauseCount = 0;
  get paused(): boolean {
    return this.pauseCount > 0;
  }
  /**
   * RUNSTATE_*: the thread's state when the OS tells it (thread.ts), else the runstate word (its
   * upcall loop's, or in a shared pool its pCPU thread's).
   */
  get runstate(): number {
    const running = this.vcpu?.running?.();
    if (running !== undefined) return running ? RUNSTATE_running : RUNSTATE_blocked;
    return Atomics.load(this.view.ctl, CB_RUNSTATE);
  }
  get totPages(): number {
    return Atomics.load(this.view.ctl, CB_TOT_PAGES);
  }
  /** The guest's runtime has called its main() (CB_MAIN_CALLED; guest-written). */
  get mainCalled(): boolean {
    return Atomics.load(this.view.ctl, CB_MAIN_CALLED) !== 0;
  }
  /** xl list's State column: r b p s, the shutdown reason's letter ("-rscwS" in xl), d. */
  get stateString(): string {
    const s = this.shutdownReason;
    // Read once: the thread may block or wake between two reads, and xl shows r or b, never both;
    // a runnable vCPU waiting for its pCPU is neither (Xen's getdomaininfo).
    const live = !this.dying && !s && !this.paused;
    const runstate = live ? this.runstate : -1;
    return [
      runstate === RUNSTATE_running ? 'r' : '-',
      runstate === RUNSTATE_blocked ? 'b' : '-',
      this.paused ? 'p' : '-',
      s ? 's' : '-',
      s ? '-rscwS'[SHUTDOWN_REASONS.indexOf(s)] : '-',
      this.dying ? 'd' : '-',
    ].join('');
  }
}

/**
 * A domain's memory handed to its peers' threads (PeerGrant), and who may still hold it. As Xen
 * frees a page when its last reference goes, it goes back to the domheap once the lender is
 * reaped and no holder is left (Hypervisor.#putLoan, after Xen's put_page). A live borrower is a
 * holder until its reap, not until its thread drops its view: code there may keep a mapped
 * frame's array after the unmap, which nothing revokes. So a borrower that outlives many lenders
 * (a driver domain) holds each one's memory until it is reaped, without bound (docs/SECURITY.md).
 */
interface Loan {
  /** Borrowers not reaped yet (a domid is not handed out while its domain is in the table). */
  readonly borrowers: Set<number>;
  /**
   * Reaped holders, the lender among them once it is, whose threads may still run (linger); each
   * is dropped once it is seen not to, as its domid may then go to a new, unrelated domain.
   */
  readonly lingering: Set<number>;
  /** The lender's memory, from its reap until it is freed. */
  memory: SharedArrayBuffer | null;
}

function newLoan(): Loan {
  return { borrowers: new Set(), lingering: new Set(), memory: null };
}

export interface HypervisorEvents {
  /** A domain shut down (any reason) or was destroyed; VIRQ_DOM_EXC is raised too. */
  domainException: [domid: number];
  /** A dying domain's last foreign mapping went away: it is gone from the table. */
  domainReaped: [domid: number];
}

/** How long destroy waits for a vCPU to leave a hypercall before it kills it there. */
const KILL_WAIT_MS = 100;
const REAP_INTERVAL_MS = 250;

export class Hypervisor extends EventEmitter<HypervisorEvents> {
  #domains = new Map<number, Domain>();
  /** Torn-down domains not yet reaped: a reap looks at these, not at the whole table. */
  #tornDown = new Set<Domain>();
  /** Pairs of domains that may reach each other's memory, both ways round (a destroy drops its own). */
  #links = new Map<number, Set<number>>();
  /** Memory lent to peers (PeerGrant), by live lender. */
  #loans = new Map<number, Loan>();
  /** The loans each borrower not reaped yet holds, of live lenders and of reaped ones alike. */
  #held = new Map<number, Set<Loan>>();
  /** Domains a thread may still run with no vCPU attached to stop (linger), each with when the last such thread ends. */
  #lingering = new Map<number, Promise<void>>();
  /** The loans each lingering reaped holder keeps, by its domid: put again once its linger ends (#lingerEnded). */
  #awaiting = new Map<number, Set<Loan>>();
  #nextDomid = 1;
  /** Guest memory of reaped domains, for the next domains of the same size. */
  readonly heap: DomHeap;
  readonly dom0: Domain;
  /** dom0's own hypercall surface; it can reach every domain. */
  readonly dom0Hypercalls: Hypercalls;

  #killWaitMs: number;
  /** The host's log: what goes wrong where no caller hears of it (Domain.tornDown). */
  readonly #log: (line: string) => void;

  /** dom0Uuid: the host database's, so that dom0 keeps its uuid across host restarts. */
  constructor(opts: { dom0RamFrames?: number; heap?: DomHeap; killWaitMs?: number; dom0Uuid?: string; log?: (line: string) => void } = {}) {
    super();
    this.#killWaitMs = opts.killWaitMs ?? KILL_WAIT_MS;
    this.#log = opts.log ?? (() => {});
    this.heap = opts.heap ?? new DomHeap();
    // max_event_channels does not apply to dom0 (it holds two or three ports per guest): it has
    // what its ABI allows, 4,095 ports under the 2-level ABI and 2^17 - 1 under the FIFO ABI.
    this.dom0 = this.#create(0, { name: 'Domain-0', ...(opts.dom0Uuid && { uuid: opts.dom0Uuid }), ramFrames: opts.dom0RamFrames ?? 4096, privileged: true, maxEvtchns: EVTCHN_FIFO_NR_CHANNELS - 1 });
    this.dom0.maptrack = new Maptrack(allocateMaptrack(this.dom0.maxMaptrackFrames));
    Atomics.store(this.dom0.view.ctl, CB_NR_GRANT_FRAMES, Atomics.load(this.dom0.view.ctl, CB_MAX_GRANT_FRAMES));
    this.dom0Hypercalls = new Hypercalls(this.dom0.view, directChannel(this.controlPlane(0)), {
      registry: (domid) => this.#domains.get(domid)?.view,
      maptrack: this.dom0.maptrack.buffer,
    });
  }

  #create(domid: number, o: DomainCreateOptions): Domain {
    if (!Number.isInteger(o.ramFrames) || o.ramFrames < 1) throw new XenError('EINVAL', `bad memory size: ${o.ramFrames} frames`);
    // Its pCPU would run it while paused: it would read a pause word nobody writes.
    if (o.doorbell && o.pauseWord?.length !== 1) throw new XenError('EINVAL', 'a domain on a shared pCPU needs the pCPU\'s pause word for it');
    const maxGrantFrames = o.maxGrantFrames ?? DEFAULT_MAX_GRANT_FRAMES;
    const maxEvtchns = o.maxEvtchns ?? DEFAULT_MAX_EVTCHNS;
    if (!Number.isInteger(maxGrantFrames) || maxGrantFrames < 1 || maxGrantFrames > 1024) {
      throw new XenError('EINVAL', `max_grant_frames must be 1..1024, not ${maxGrantFrames}`);
    }
    if (!Number.isInteger(maxEvtchns) || maxEvtchns < 1 || maxEvtchns >= EVTCHN_FIFO_NR_CHANNELS) {
      throw new XenError('EINVAL', `max_event_channels must be 1..${EVTCHN_FIFO_NR_CHANNELS - 1}, not ${maxEvtchns}`);
    }
    const buffers = allocateDomainBuffers(domid, {
      maxGrantFrames, ramFrames: o.ramFrames, maxEvtchns, initialGrantFrames: Math.min(4, maxGrantFrames),
      ...(o.doorbell && { doorbell: o.doorbell }),
    }, (bytes) => this.heap.alloc(bytes));
    const d = new Domain(domid, o.name, o.uuid ?? randomUUID(), new DomainView(buffers), o.privileged ?? false,
      o.maxMaptrackFrames ?? DEFAULT_MAX_MAPTRACK_FRAMES, this.#renamed, o.pauseWord ?? null);
    this.#domains.set(domid, d);
    this.#nameLive(d);
    return d;
  }

  /**
   * Live (not dying) domains by name, for liveDomainNamed: every create and every command that
   * names a domain asks, and a scan of the table cost 10 us at 1,000 domains. A set per name: the
   * hypervisor does not keep names unique (the toolstack does, among the domains users see).
   */
  readonly #byName = new Map<string, Set<Domain>>();

  #nameLive(d: Domain): void {
    const same = this.#byName.get(d.name);
    if (same === undefined) this.#byName.set(d.name, new Set([d]));
    else same.add(d);
  }

  #unname(d: Domain, name: string): void {
    const same = this.#byName.get(name);
    if (same?.delete(d) && same.size === 0) this.#byName.delete(name);
  }

  readonly #renamed = (d: Domain, old: string): void => {
    if (d.dying) return;
    this.#unname(d, old);
    this.#nameLive(d);
  };

  // ---------------- domctls (dom0's toolstack) ----------------

  /** XEN_DOMCTL_createdomain: the domain starts paused, as in Xen. */
  createDomain(o: DomainCreateOptions): Domain {
    const domid = this.#allocDomid();
    const d = this.#create(domid, o);
    d.pauseCount = 1;
    Atomics.store(d.view.ctl, CB_PAUSE, 1);
    if (d.pauseWord) Atomics.store(d.pauseWord, 0, 1);
    Atomics.store(d.view.ctl, CB_RUNSTATE, RUNSTATE_blocked);
    return d;
  }

  #allocDomid(): number {
    for (let i = 0; i < DOMID_FIRST_RESERVED; i++) {
      const id = this.#nextDomid;
      this.#nextDomid = id + 1 >= DOMID_FIRST_RESERVED ? 1 : id + 1;
      // Not a domid a thread may still run as (linger): its end would be taken for the new domain's.
      if (!this.#domains.has(id) && !this.#lingering.has(id)) return id;
    }
    throw new XenError('ENOSPC', 'no free domain id');
  }

  domain(domid: number): Domain {
    const d = this.#domains.get(domid);
    if (!d) throw new XenError('ESRCH', `no domain with id ${domid}`);
    return d;
  }

  findDomain(domid: number): Domain | undefined {
    return this.#domains.get(domid);
  }

  /** The live domain of that name, if any (the first so named of several). */
  liveDomainNamed(name: string): Domain | undefined {
    for (const d of this.#byName.get(name) ?? []) return d;
    return undefined;
  }

  /** Domains that have shut down (a reason set), in domid order: one pass, no copy of the table. */
  shutDown(): Domain[] {
    const out: Domain[] = [];
    for (const d of this.#domains.values()) if (d.shutdownReason) out.push(d);
    return out.sort((a, b) => a.domid - b.domid);
  }

  /** Domains in domid order, dying ones included (xl list shows them with 'd'). */
  domains(): Domain[] {
    this.#reap();
    return [...this.#domains.values()].sort((a, b) => a.domid - b.domid);
  }

  attachVcpu(domid: number, vcpu: VcpuHandle): void {
    this.domain(domid).vcpu = vcpu;
  }

  /**
   * A thread may run the domain's vCPU, or its realm, or read its memory, until `until` settles,
   * and a destroy cannot stop it: a vCPU being started (not attached yet), a reset pCPU thread
   * that overran its bound (cpupool.ts), a save's write from its frames (migration/save.ts). The
   * domain's memory goes back to the domheap only once every such thread has ended, and so does
   * memory lent to it, once its lender is reaped too (#putLoan).
   */
  linger(domid: number, until: Promise<unknown>): void {
    const before = this.#lingering.get(domid);
    const settled = until.then(() => {}, () => {});
    const end: Promise<void> = (before ? Promise.all([before, settled]) : settled).then(() => {
      if (this.#lingering.get(domid) !== end) return;
      this.#lingering.delete(domid);
      this.#lingerEnded(domid);
    });
    this.#lingering.set(domid, end);
  }

  /** XEN_DOMCTL_pausedomain: the toolstack's pause, counted (xl list shows p). */
  pause(domid: number): void {
    const d = this.#live(domid);
    if (d.domid === 0) throw new XenError('EINVAL', 'dom0 cannot be paused');
    d.pauseCount++;
    this.#pauseVcpu(d);
  }

  unpause(domid: number): void {
    const d = this.#live(domid);
    if (d.pauseCount <= 0) throw new XenError('EINVAL', `domain ${domid} is not paused`);
    d.pauseCount--;
    this.#unpauseVcpu(d);
  }

  #pauseVcpu(d: Domain): void {
    Atomics.add(d.view.ctl, CB_PAUSE, 1);
    if (d.pauseWord) Atomics.add(d.pauseWord, 0, 1);
    // Wake the vCPU without raising an event, so it notices the pause at once if idle.
    Atomics.notify(d.view.mem32, UPCALL_WORD);
  }

  /** The domain shut down (SCHEDOP_shutdown, or a crash of its vCPU). */
  shutdownDomain(domid: number, reason: ShutdownReason): void {
    const d = this.#live(domid);
    if (d.shutdownReason) return;
    d.shutdownReason = reason;
    Atomics.store(d.view.ctl, CB_SHUTDOWN, SHUTDOWN_REASONS.indexOf(reason));
    // As domain_shutdown does: a shut-down domain's vCPU does not run again.
    this.#pauseVcpu(d);
    this.#domainException(domid);
  }

  /**
   * The restore side of populate_physmap: a domain built from a save image has every RAM frame
   * below `hwm` populated (their contents are written by the toolstack before its vCPU starts,
   * or, for a pre-built shell, while its vCPU is paused and has populated no frame of its own).
   */
  restorePhysmap(domid: number, hwm: number): void {
    const d = this.#live(domid);
    const first = firstRamPfn(d.view.geometry);
    const untouched = d.paused && Atomics.load(d.view.ctl, CB_RAM_HWM) === first && Atomics.load(d.view.ctl, CB_TOT_PAGES) === 0;
    if (d.vcpu && !untouched) throw new XenError('EBUSY', `domain ${domid} already runs (a vCPU with RAM of its own, or not paused)`);
    if (!Number.isInteger(hwm) || hwm < first || hwm > first + d.view.geometry.ramFrames) {
      throw new XenError('EINVAL', `domain ${domid}: RAM frames up to pfn ${hwm} do not fit ${first}..${first + d.view.geometry.ramFrames}`);
    }
    Atomics.store(d.view.ctl, CB_RAM_HWM, hwm);
    Atomics.store(d.view.ctl, CB_TOT_PAGES, hwm - first);
  }

  /**
   * XEN_DOMCTL_resumedomain: a suspended domain runs again in place (a checkpoint, or a save or
   * migration that failed); its vCPU's SCHEDOP_shutdown returns 1, as for a cancelled suspend.
   */
  resumeDomain(domid: number): void {
    const d = this.#live(domid);
    if (d.shutdownReason !== 'suspend') throw new XenError('EINVAL', `domain ${domid} is not suspended`);
    d.shutdownReason = null;
    d.suspendRecord = null;
    Atomics.store(d.view.ctl, CB_SHUTDOWN, -1);
    const answer = d.resumeVcpu;
    d.resumeVcpu = null;
    answer?.(1);
    this.#unpauseVcpu(d);
  }

  #unpauseVcpu(d: Domain): void {
    if (Atomics.sub(d.view.ctl, CB_PAUSE, 1) === 1) Atomics.notify(d.view.ctl, CB_PAUSE);
    // A shared pCPU skips a domain while its own word says paused; ring so it looks at it again.
    if (d.pauseWord && Atomics.sub(d.pauseWord, 0, 1) === 1) ev.wake(d.view);
  }

  /**
   * XEN_DOMCTL_destroydomain: stop the vCPU, close the domain's event channels (the other
   * ends become unbound), drop the mappings it holds. Its own pages stay valid for whoever
   * still maps them; the domain is reaped when the last of those mappings goes.
   */
  async destroyDomain(domid: number): Promise<void> {
    const d = this.domain(domid);
    if (domid === 0) throw new XenError('EPERM', 'dom0 cannot be destroyed');
    if (d.dying) return;
    d.dying = true;
    this.#unname(d, d.name);
    Atomics.store(d.view.ctl, CB_DYING, 1);
    let stuck: GrantError | undefined;
    try {
      const vcpu = d.vcpu;
      d.vcpu = null;
      if (vcpu) {
        // Kill the vCPU between hypercalls, never inside one: it may hold locks of other
        // domains there. One that stays inside this long died there (out of heap); its locks
        // are broken below.
        const gate = await closeGate(d.view.ctl, this.#killWaitMs);
        await vcpu.terminate();
        // Outside every hypercall, its thread can hold only locks in memory it was given: its own
        // domain's and its links'. Only a vCPU killed inside one makes every domain's locks worth a
        // look (a walk of the whole table: 10,000 domains per destroy on a dense host).
        for (const g of gate === 'timed-out' ? this.#domains.values() : this.#reachableFrom(d)) {
          // A table the dead vCPU was updating is not trusted again: its domain crashes too.
          if (breakGrantLock(g.view, domid) && g !== d && g.domid !== 0 && !g.dying && !g.shutdownReason) {
            this.shutdownDomain(g.domid, 'crash');
          }
          // An event queue it was linking onto: freed, its chain kept, and announced again.
          if (breakQueueLocks(g.view) && !g.dying) ev.raiseUpcall(g.view);
        }
        // A Pool-0 thread retried the events its sends deferred (a peer's FIFO queue lock held) from
        // a timer of its own, gone with it: each channel gets one, as after a pCPU reset (a spurious
        // event is allowed, a lost one is not). A shared pCPU's retries outlive its domains.
        if (!d.view.doorbell) ev.resendToPeers(d.view, (id) => this.#domains.get(id)?.view);
      }
      for (let p = 1; p <= ev.maxPorts(d.view); p++) {
        if (ev.portState(d.view, p) !== EVTCHNSTAT_closed) this.#closePort(d, p);
      }
      if (d.maptrack) {
        for (const [handle, ref, flags, granter] of d.maptrack.live()) {
          d.maptrack.free(handle);
          const g = this.#domains.get(granter);
          try {
            if (g) unpin(g.view, ref, (flags & GNTMAP_readonly) !== 0, domid);
          } catch (e) {
            // A handle its guest forged (GNTST_bad_handle) names no pin of its own: nothing to release.
            if (!(e instanceof GrantError)) throw e;
            if (e.status !== GNTST_bad_handle) stuck ??= new GrantError(e.status, `d${domid}: its pin of d${granter} ref ${ref} stays: ${e.detail}`);
          }
        }
      }
      for (const peer of this.#links.get(domid) ?? []) this.#links.get(peer)?.delete(domid);
      this.#links.delete(domid);
      this.#tornDown.add(d); // its vCPU stopped and its ports closed: it may be reaped
    } finally {
      // Even after a throw part-way: what waits for its teardown (a failed start's slot,
      // cpupool.ts) is not kept out of use for good.
      d.tornDown(this.#log);
    }
    this.#domainException(domid);
    this.#reap();
    // A pin it held that could not be released (its granter's grant lock held past its bound, or
    // left by a thread that died) keeps that granter from being reaped: the destroy is done, and
    // says so rather than leak the granter unseen.
    if (stuck) throw stuck;
  }

  #reaper: NodeJS.Timeout | undefined;

  /**
   * Remove dying domains nobody maps any more. Backends unmap on their own threads, so while
   * some dying domain is still mapped, look again now and then.
   */
  #reap(): void {
    let waiting = false;
    for (const d of this.#tornDown) {
      if (d.view.foreignPins === 0) {
        this.#tornDown.delete(d);
        this.#domains.delete(d.domid);
        this.#freeMemory(d);
        this.emit('domainReaped', d.domid);
      } else {
        waiting = true;
      }
    }
    if (waiting && !this.#reaper) {
      this.#reaper = setInterval(() => this.#reap(), REAP_INTERVAL_MS).unref();
    } else if (!waiting && this.#reaper) {
      clearInterval(this.#reaper);
      this.#reaper = undefined;
    }
  }

  /**
   * A reaped domain's memory goes back to the heap once no thread may still hold it: its own
   * vCPU was terminated before it could be reaped, and nobody maps its pages any more, but a
   * peer that was handed the buffer holds it until that peer is reaped too (a driver domain may
   * outlive its frontend), and a thread that may still run either (linger) until it has ended.
   * A reaped borrower leaves each loan's borrowers for its lingering holders, which keep it only
   * while it lingers: its domid may go to a new, unrelated domain after that.
   */
  #freeMemory(d: Domain): void {
    for (const loan of this.#held.get(d.domid) ?? []) {
      loan.borrowers.delete(d.domid);
      loan.lingering.add(d.domid);
      this.#putLoan(loan);
    }
    this.#held.delete(d.domid);
    const memory = d.view.buffers.memory;
    const lent = this.#loans.get(d.domid);
    this.#loans.delete(d.domid);
    // Lent to nobody and run by no thread: no loan to keep (most domains).
    if (!lent && !this.#lingering.has(d.domid)) {
      this.heap.free(memory);
      return;
    }
    const loan = lent ?? newLoan();
    loan.lingering.add(d.domid);
    loan.memory = memory;
    this.#putLoan(loan);
  }

  /**
   * Drop the loan's reaped holders that no longer linger, wait for each that does, and free the
   * memory once the lender is reaped and no holder is left; the lender's reap, a borrower's and a
   * holder's linger's end (#lingerEnded) put it again.
   * A reaped domain's domid is not handed out while it lingers (#allocDomid), and its linger's end
   * puts the loan at once (#lingerEnded), before that domid can go to a new, unrelated domain: so
   * until it is dropped here it stands for that domain alone.
   */
  #putLoan(loan: Loan): void {
    let lingers = false;
    for (const id of loan.lingering) {
      if (!this.#lingering.has(id)) {
        loan.lingering.delete(id);
        continue;
      }
      lingers = true;
      let loans = this.#awaiting.get(id);
      if (!loans) this.#awaiting.set(id, (loans = new Set()));
      loans.add(loan);
    }
    if (!lingers && loan.memory && loan.borrowers.size === 0) {
      this.heap.free(loan.memory);
      loan.memory = null;
    }
  }

  /** The last thread that may run as `domid` has ended (linger): put the loans it kept. */
  #lingerEnded(domid: number): void {
    const loans = this.#awaiting.get(domid);
    this.#awaiting.delete(domid);
    for (const loan of loans ?? []) this.#putLoan(loan);
  }

  /** A live lender's loan, made on its first. */
  #loanOf(lender: number): Loan {
    let loan = this.#loans.get(lender);
    if (!loan) this.#loans.set(lender, (loan = newLoan()));
    return loan;
  }

  #live(domid: number): Domain {
    const d = this.domain(domid);
    if (d.dying) throw new XenError('EINVAL', `domain ${domid} is dying`);
    return d;
  }

  /** Let two domains reach each other's memory: the toolstack does this when it connects a device. */
  link(a: number, b: number): void {
    this.#live(a);
    this.#live(b);
    this.#addLink(a, b);
  }

  #addLink(a: number, b: number): void {
    for (const [x, y] of [[a, b], [b, a]] as const) {
      const peers = this.#links.get(x);
      if (peers) peers.add(y);
      else this.#links.set(x, new Set([y]));
    }
  }

  /** The domain and those linked to it: whose memory its threads may hold. */
  *#reachableFrom(d: Domain): Iterable<Domain> {
    yield d;
    for (const id of this.#links.get(d.domid) ?? []) {
      const g = this.#domains.get(id);
      if (g) yield g;
    }
  }

  #linked(a: number, b: number): boolean {
    return this.#links.get(a)?.has(b) ?? false;
  }

  #domainException(domid: number): void {
    this.emit('domainException', domid);
    this.#sendGlobalVirq(VIRQ_DOM_EXC);
  }

  /** Global VIRQs go to dom0 (Xen's default handler domain). */
  #sendGlobalVirq(virq: number): void {
    const port = ev.virqPort(this.dom0.view, virq);
    if (port) ev.setPending(this.dom0.view, port);
  }

  #closePort(d: Domain, port: number): void {
    const { state, a, b } = ev.readPort(d.view, port);
    const remote = state === EVTCHNSTAT_interdomain ? this.#domains.get(a) : undefined;
    if (state === EVTCHNSTAT_closed) throw new XenError('EINVAL', `d${d.domid}: port ${port} is not in use`);
    // The entry is the guest's to rewrite (layout.ts): a VIRQ it names is unbound only if it is
    // one and bound to this port, else a destroy's close of a made-up one threw (a RangeError).
    if (state === EVTCHNSTAT_virq && a >= 0 && a < NR_VIRQS && ev.virqPort(d.view, a) === port) ev.setVirqPort(d.view, a, 0);
    // The other end goes back to unbound, still reserved for us, as evtchn_close does; the
    // remote domain and port are the guest's to rewrite too, so only a port within that domain's
    // table that points back is touched (a port below it named another domain's header words).
    if (remote && ev.pointsBack(remote.view, b, d.domid, port)) ev.setPort(remote.view, b, EVTCHNSTAT_unbound, d.domid, 0);
    ev.setPort(d.view, port, EVTCHNSTAT_closed, 0, 0);
    ev.clearPending(d.view, port);
  }

  // ---------------- the control plane a domain sees ----------------

  controlPlane(caller: number): ControlPlane {
    const self = (): Domain => this.#live(caller);
    const target = (dom: number): Domain => {
      const id = dom === DOMID_SELF ? caller : dom;
      if (!isValidDomid(id)) throw new XenError('EINVAL', `bad domain id ${dom}`);
      if (id !== caller && !self().privileged) throw new XenError('EPERM', `d${caller} may not act for d${id}`);
      const d = this.#domains.get(id);
      if (!d || d.dying) throw new XenError('ESRCH', `no domain with id ${id}`);
      return d;
    };
    const grantPeer = (me: Domain, peer: Domain): PeerGrant => {
      // dom0 runs here and reaches peers through the domain table, never by a kept buffer.
      if (me.domid !== 0) {
        const loan = this.#loanOf(peer.domid);
        loan.borrowers.add(me.domid);
        let held = this.#held.get(me.domid);
        if (!held) this.#held.set(me.domid, (held = new Set()));
        held.add(loan);
      }
      let maptrack: SharedArrayBuffer | undefined;
      if (!me.maptrack) {
        me.maptrack = new Maptrack(allocateMaptrack(me.maxMaptrackFrames));
        maptrack = me.maptrack.buffer;
      }
      return maptrack ? { peer: peer.view.buffers, maptrack } : { peer: peer.view.buffers };
    };
    return {
      allocUnbound: (dom, remoteDom) => {
        const d = target(dom);
        const rd = remoteDom === DOMID_SELF ? caller : remoteDom;
        if (!isValidDomid(rd)) throw new XenError('EINVAL', `bad remote domain id ${remoteDom}`);
        const port = ev.allocPort(d.view);
        ev.setPort(d.view, port, EVTCHNSTAT_unbound, rd, 0);
        return port;
      },
      bindInterdomain: (remoteDom, remotePort) => {
        const me = self();
        const rid = remoteDom === DOMID_SELF ? caller : remoteDom;
        const r = this.#domains.get(rid);
        if (!r || r.dying) throw new XenError('ESRCH', `no domain with id ${remoteDom}`);
        ev.checkPort(r.view, remotePort);
        const rp = ev.readPort(r.view, remotePort);
        if (rp.state !== EVTCHNSTAT_unbound || rp.a !== caller) {
          throw new XenError('EINVAL', `d${rid} port ${remotePort} is not an unbound port offered to d${caller}`);
        }
        const port = ev.allocPort(me.view);
        ev.setPort(me.view, port, EVTCHNSTAT_interdomain, rid, remotePort);
        ev.setPort(r.view, remotePort, EVTCHNSTAT_interdomain, caller, port);
        // Notifications sent to the unbound port were lost: raise one, as Xen does.
        ev.setPending(me.view, port);
        if (rid === caller) return { port };
        this.#addLink(caller, rid);
        if (!r.privileged && r.vcpu) r.vcpu.push(grantPeer(r, me));
        return me.privileged ? { port } : { port, peer: grantPeer(me, r) };
      },
      bindVirq: (virq, vcpu) => {
        const me = self();
        if (!Number.isInteger(virq) || virq < 0 || virq >= NR_VIRQS) throw new XenError('EINVAL', `bad VIRQ ${virq}`);
        if (vcpu !== 0) throw new XenError('ENOENT', `d${caller} has no vCPU ${vcpu}`);
        if (GLOBAL_VIRQS.has(virq) && !me.privileged) throw new XenError('EPERM', `VIRQ ${virq} is global: only dom0 binds it`);
        if (ev.virqPort(me.view, virq)) throw new XenError('EEXIST', `VIRQ ${virq} is already bound`);
        const port = ev.allocPort(me.view);
        ev.setPort(me.view, port, EVTCHNSTAT_virq, virq, 0, vcpu);
        ev.setVirqPort(me.view, virq, port);
        return port;
      },
      close: (port) => {
        const me = self();
        ev.checkPort(me.view, port);
        this.#closePort(me, port);
      },
      status: (dom, port) => ev.status(target(dom).view, port),
      initControl: (gfn, offset, vcpu) => ev.initControl(self().view, gfn, offset, vcpu),
      expandArray: (gfn) => ev.expandArray(self().view, gfn),
      setPriority: (port, priority) => ev.setPriority(self().view, port, priority),
      setupTable: (nrFrames) => {
        const me = self();
        // The geometry's, not the control block's word, which its guest may have raised.
        const max = me.view.geometry.maxGrantFrames;
        if (!Number.isInteger(nrFrames) || nrFrames < 1 || nrFrames > max) {
          // gnttab_setup_table reports this in the op's status, not as an errno.
          throw new GrantError(GNTST_general_error, `d${caller}: grant table size ${nrFrames} frames is outside 1..${max} (max_grant_frames)`);
        }
        const cur = Atomics.load(me.view.ctl, CB_NR_GRANT_FRAMES);
        if (nrFrames > cur) Atomics.store(me.view.ctl, CB_NR_GRANT_FRAMES, nrFrames);
        return Math.max(cur, nrFrames);
      },
      peer: (domid) => {
        const me = self();
        const p = this.#domains.get(domid);
        if (!p || p.dying || domid === caller) throw new XenError('ESRCH', `no domain with id ${domid}`);
        if (!me.privileged && !this.#linked(caller, domid)) {
          throw new XenError('EPERM', `d${caller} is not connected to d${domid} (no device or event channel links them)`);
        }
        return grantPeer(me, p);
      },
      shutdown: (reason, recordPfn, recordBytes) => {
        if (!SHUTDOWN_REASONS.includes(reason)) throw new XenError('EINVAL', `bad shutdown reason ${String(reason)}`);
        const me = self();
        if (reason !== 'suspend' || me.shutdownReason) {
          this.shutdownDomain(caller, reason);
          return 0;
        }
        me.suspendRecord = recordPfn === undefined ? null : checkRecord(me.view, recordPfn, recordBytes);
        const resumed = new Promise<number>((resolve) => (me.resumeVcpu = resolve));
        this.shutdownDomain(caller, reason);
        return resumed;
      },
    };
  }
}

/** A suspend record must lie in frames the guest has populated. */
function checkRecord(view: DomainView, pfn: unknown, bytes: unknown): { pfn: number; bytes: number } {
  const first = firstRamPfn(view.geometry);
  const hwm = view.ramHwm;
  if (!Number.isInteger(pfn) || !Number.isInteger(bytes) || (bytes as number) < 1 || (pfn as number) < first
    || (pfn as number) + Math.ceil((bytes as number) / PAGE_SIZE) > hwm) {
    throw new XenError('EINVAL', `d${view.domid}: the suspend record (pfn ${String(pfn)}, ${String(bytes)} bytes) is not in populated RAM`);
  }
  return { pfn: pfn as number, bytes: bytes as number };
}

