// The data-path hypercalls of a shared pCPU's domains, run in the pCPU thread's own context:
// one copy of the code for all the domains of the thread, as Xen runs every domain's hypercalls
// in the hypervisor's one copy. Each realm has its own copy of the library OS; before this its
// hypercalls' code was in it too, so each of 32 copies got a 32nd of the calls, ran in V8's
// baseline tier and was compiled 32 times (docs/PERFORMANCE.md, issue 18, blk15 and blk16).
//
// A realm reaches this only through a host function of primitives (realm/host.ts evtchnSend: a
// port in, a boolean out). The views are the pCPU's own, made once per domain: the domain's own
// from the buffers dom0 placed it with, its peers' from the grants dom0 answered its control
// calls with (never from the realm). What this copy cannot finish (a target it has no view of,
// a domain being killed, a bad port or a lock error) it leaves to the realm's own Hypercalls,
// which then does the hypercall as before and throws the same typed error.
import type { PeerGrant } from '../hypervisor/control.js';
import { send } from '../hypervisor/evtchn.js';
import { enterGate, leaveGate } from '../hypervisor/gate.js';
import { DomainView } from '../hypervisor/memory.js';

/** The pCPU's side of one resident domain's data-path hypercalls. */
export class PcpuHypercalls {
  readonly #self: DomainView;
  readonly #peers = new Map<number, DomainView>();
  readonly #peerOf = (domid: number): DomainView | undefined => (domid === this.#self.domid ? this.#self : this.#peers.get(domid));

  constructor(self: DomainView) {
    this.#self = self;
  }

  /** A peer's buffers, as dom0 handed them to the domain (a reply to peer or bindInterdomain, or a push). */
  adopt(grant: PeerGrant): void {
    const buffers = grant.peer;
    const cur = this.#peers.get(buffers.domid);
    // A domid can come back as a new domain once the old one is dying (as Hypercalls' #adopt).
    if (!cur || (cur.buffers.memory !== buffers.memory && cur.dying)) this.#peers.set(buffers.domid, new DomainView(buffers));
  }

  /**
   * EVTCHNOP_send on `port`: true if done here, false to leave it to the realm's own Hypercalls.
   * The thread never blocks at a gate (pcpu.ts makes a kill throw there): a kill ends this try.
   */
  evtchnSend(port: number): boolean {
    const ctl = this.#self.ctl;
    try {
      enterGate(ctl);
    } catch {
      return false;
    }
    try {
      return send(this.#self, port, this.#peerOf) === null;
    } catch {
      return false;
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
