// The data-path hypercalls of a shared pCPU's domains, run in the pCPU thread's own context:
// one copy of the code for all the domains of the thread, as Xen runs every domain's hypercalls
// in the hypervisor's one copy. Each realm has its own copy of the library OS; before this its
// hypercalls' code was in it too, so each of 32 copies got a 32nd of the calls, ran in V8's
// baseline tier and was compiled 32 times (docs/PERFORMANCE.md, issue 18, blk15 and blk16).
//
// A realm reaches this only through a host function of primitives (realm/host.ts evtchnSend: a
// port in, a number or a short code out). The views are the pCPU's own: the domain's own, made
// once from the buffers dom0 placed it with, and its peers', from the grants dom0 answered its
// control calls with (never from the realm), one per peer for all the thread's domains. A send
// to a target this copy has no view of is held here while the realm's own Hypercalls connects the
// target, and made here once the view came (adopt): an event deferred here outlives the domain,
// one deferred in the realm would not, and a domain that halts before the answer came still makes
// the sends it made before (in Xen a send is done when it is made). One this copy does not start
// (a domain being killed) is the realm's, which stops at its gate. The realm never holds a peer's
// buffers: its library OS's code runs on the realm's intrinsics, which its guest can wrap to be
// handed what that code holds (pcpu.ts gives it the answers to its connects and binds without
// the grant; maps and copies of other domains' grants are refused it, hypercalls.ts granter).
// One it started and that failed (a bad port: EINVAL) is not tried again there: the realm throws
// the error it was (hypervisor/error-code.ts). No copy waits for a FIFO queue lock (evtchn.ts
// defers the event, as every sender does): this thread runs the sender's pool mates.
import type { PeerGrant } from '../hypervisor/control.js';
import { errorCode } from '../hypervisor/error-code.js';
import { deliver, send } from '../hypervisor/evtchn.js';
import { enterGate, leaveGate } from '../hypervisor/gate.js';
import { adoptPeerView } from '../hypervisor/hypercalls.js';
import { DomainView } from '../hypervisor/memory.js';
import { SEND_DONE, SEND_NOT_HERE } from './realm/host.js';
import { localRingIo, PUSH_NOTIFY, ringMemory, type RingIo } from '../drivers/blk/front/ring-io.js';

/**
 * The views of the peers a pCPU thread's residents were granted: one per peer domain for all of
 * them. A wake is made once per pass per target, and a target is known by its view's identity
 * (wakes.ts): with a view of dom0 per resident, two residents that each notified dom0 twice in a
 * pass made four wakes of it where two were meant. Held weakly: a view lives as long as a
 * resident holds it, and a destroyed peer's memory is not kept by the thread. A collected view's
 * entry goes with it: domids are not reused soon, so an entry would otherwise stay until its domid
 * came back (up to one per domid a resident ever talked to).
 */
export class PeerViews {
  readonly #views = new Map<number, WeakRef<DomainView>>();
  readonly #collected = new FinalizationRegistry<{ readonly id: number; readonly ref: WeakRef<DomainView> }>(({ id, ref }) => {
    if (this.#views.get(id) === ref) this.#views.delete(id);
  });

  /** Peers it has an entry for (a view, or one collected whose entry has not gone yet). */
  get size(): number {
    return this.#views.size;
  }

  /**
   * The thread's view of the peer `grant` gives: the one it has of that domid, unless that one's
   * domain is dying (then the domid may be another domain's). Buffers are not compared: each grant
   * comes in a message of its own, whose SharedArrayBuffer is another object even for the same memory.
   */
  of(grant: PeerGrant): DomainView {
    const id = grant.peer.domid;
    const cur = this.#views.get(id)?.deref();
    if (cur && !cur.dying) return cur;
    const view = new DomainView(grant.peer);
    const ref = new WeakRef(view);
    this.#views.set(id, ref);
    this.#collected.register(view, { id, ref });
    return view;
  }
}

/** The pCPU's side of one resident domain's data-path hypercalls. */
export class PcpuHypercalls {
  readonly #self: DomainView;
  readonly #shared: PeerViews;
  /** The peers this domain was granted, each the thread's one view of it. */
  readonly #peers = new Map<number, DomainView>();
  readonly #peerOf = (domid: number): DomainView | undefined => (domid === this.#self.domid ? this.#self : this.#peers.get(domid));

  /** Its blkfront's ring work on the domain's own memory: the copy a Pool-0 domain runs (ring-io.ts). */
  readonly #ring: RingIo;
  /** Told what each send did (pcpu.ts counts them). */
  readonly #sent: (result: number | string) => void;

  /**
   * Sends whose target this copy had no view of, by that target's domid: port -> the target's port
   * the send was made toward. Made once a view of the target comes (adopt), whether or not the
   * domain halted meanwhile, and only on a port still bound to that port (evtchn.ts deliver): one
   * closed and bound again meanwhile, to another domain or port, does not get the old channel's
   * send. Dropped if the connect fails (unheld).
   */
  readonly #held = new Map<number, Map<number, number>>();
  /** The target's domid of each port in #held: one entry per port, so they are bounded by the domain's event-channel limit. */
  readonly #heldTo = new Map<number, number>();

  constructor(self: DomainView, shared: PeerViews, sent: (result: number | string) => void) {
    this.#self = self;
    this.#shared = shared;
    this.#ring = localRingIo(ringMemory(self.buffers.memory));
    this.#sent = sent;
  }

  /**
   * blkfront's push on a ring of the domain's memory (ring-io.ts pushStaged): only that ring is
   * written, and only the domain's memory read. The event on `port`, when due, is sent here as
   * evtchnSend sends it, once: the PUSH_* flags, PUSH_NOTIFY among them only if the send was not
   * done here (SEND_NOT_HERE: held, or a kill), or the failed send's error code (the ring work was
   * done); realm/host.ts blkPushThrough judges them.
   */
  blkPush(ringOff: number, nrEnts: number, port: number, staged: Float64Array, n: number, reqProdPvt: number, rspCons: number): number | string {
    const flags = this.#ring.push(ringOff, nrEnts, port, staged, n, reqProdPvt, rspCons);
    if (flags < 0 || (flags & PUSH_NOTIFY) === 0) return flags;
    const sent = this.evtchnSend(port);
    return sent === SEND_DONE ? flags & ~PUSH_NOTIFY : sent === SEND_NOT_HERE ? flags : sent;
  }

  /** blkfront's poll of a ring of the domain's memory (ring-io.ts pollResponses): only `out` is written. */
  blkPoll(ringOff: number, nrEnts: number, rspCons: number, out: Int32Array): number {
    return this.#ring.poll(ringOff, nrEnts, rspCons, out);
  }

  /**
   * A peer's buffers, as dom0 handed them to the domain (a reply to peer or bindInterdomain, or a
   * push): the sends held for that peer are made now, inside the domain's gate, each as Pool-0's
   * Hypercalls makes a send once its connect came (evtchn.ts deliver): on a port no longer bound
   * to the port it was made toward (closed meanwhile, or bound again) it is dropped, as Xen drops
   * a send on a closed port. None is made for a domain being killed.
   */
  adopt(grant: PeerGrant): void {
    adoptPeerView(this.#peers, grant, undefined, (g) => this.#shared.of(g));
    const domid = grant.peer.domid;
    const held = this.#take(domid);
    const peer = this.#peerOf(domid);
    if (held === undefined || !peer || peer.dying) return;
    this.#gated(() => {
      for (const [port, rport] of held) {
        deliver(this.#self, port, peer, rport);
        this.#sent(SEND_DONE);
      }
      return SEND_DONE;
    });
  }

  /** The connect to `domid` failed (no such domain): the sends held for it go, as Xen's to a gone domain do. */
  unheld(domid: number): void {
    this.#take(domid);
  }

  /** Hold the send on `port` toward `rport` of `domid` (replacing one held on that port before). */
  #hold(port: number, domid: number, rport: number): void {
    const was = this.#heldTo.get(port);
    if (was !== undefined && was !== domid) {
      const before = this.#held.get(was)!;
      before.delete(port);
      if (before.size === 0) this.#held.delete(was);
    }
    this.#heldTo.set(port, domid);
    let forDomid = this.#held.get(domid);
    if (!forDomid) this.#held.set(domid, (forDomid = new Map()));
    forDomid.set(port, rport);
  }

  /** The sends held for `domid` (port -> its port), taken out of the held ones. */
  #take(domid: number): Map<number, number> | undefined {
    const held = this.#held.get(domid);
    if (held === undefined) return undefined;
    this.#held.delete(domid);
    for (const port of held.keys()) this.#heldTo.delete(port);
    return held;
  }

  /**
   * dom0's answer to the domain's control call `op`, as its realm gets it: a peer grant in it (an
   * answer to peer or bindInterdomain) is adopted here and left out; the realm's connect() asks
   * `connected` instead.
   */
  answered(op: string, value: unknown): unknown {
    const grant = grantIn(op, value);
    if (!grant) return value;
    this.adopt(grant);
    return op === 'bindInterdomain' ? { port: (value as { port: unknown }).port } : null;
  }

  /** Whether it holds a view of `domid`'s live domain (the realm's connect then has nothing to do). */
  connected(domid: number): boolean {
    return this.#peerOf(domid)?.dying === false;
  }

  /**
   * EVTCHNOP_send on `port`: SEND_DONE, SEND_NOT_HERE (no view of the target: held here until the
   * realm's connect brings one; or the domain is being killed: pcpu.ts makes a kill throw at the
   * gate, and nothing was done), or the error's code.
   */
  evtchnSend(port: number): number | string {
    const result = this.#send(port);
    this.#sent(result);
    return result;
  }

  #send(port: number): number | string {
    return this.#gated(() => {
      const missing = send(this.#self, port, this.#peerOf);
      if (missing === null) return SEND_DONE;
      this.#hold(port, missing[0], missing[1]);
      return SEND_NOT_HERE;
    });
  }

  /** `fn` inside the domain's gate: SEND_NOT_HERE if it is being killed (nothing was done), or a hypercall error's code. */
  #gated(fn: () => number | string): number | string {
    const ctl = this.#self.ctl;
    try {
      enterGate(ctl);
    } catch {
      return SEND_NOT_HERE;
    }
    try {
      return fn();
    } catch (e) {
      // Any other error is a bug of this copy: it reaches the realm as its host function's refusal.
      const code = errorCode(e);
      if (code === undefined) throw e;
      return code;
    } finally {
      leaveGate(ctl);
    }
  }
}

/** The peer grant in dom0's answer to a control call `op`, if it carries one. */
export function grantIn(op: string, value: unknown): PeerGrant | undefined {
  const grant = op === 'peer' ? value : op === 'bindInterdomain' ? (value as { peer?: unknown } | null)?.peer : undefined;
  return isGrant(grant) ? grant : undefined;
}

export function isGrant(v: unknown): v is PeerGrant {
  const peer = (v as { peer?: { domid?: unknown; memory?: unknown; control?: unknown } } | null)?.peer;
  return typeof peer?.domid === 'number' && peer.memory instanceof SharedArrayBuffer && peer.control instanceof SharedArrayBuffer;
}
