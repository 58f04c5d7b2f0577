// netfront's I/O pages: frames of the guest's RAM granted to the backend for the life of one
// connection (tx pages read-only, rx buffers writable; netback copies to and from them with
// GNTTABOP_copy, so a grant held long costs it nothing). When the connection goes the grants
// are ended; a page the backend still holds is set aside and retried, since it may still
// write it.
import { PAGE_SIZE } from '../../../abi/xen.js';
import type { Hypercalls } from '../../../hypervisor/hypercalls.js';

export interface NetPage {
  readonly pfn: number;
  readonly bytes: Uint8Array;
  readonly ref: number;
}

export class NetPages {
  readonly #hc: Hypercalls;
  readonly #backend: number;
  readonly #readonly: boolean;
  readonly #live: NetPage[] = [];
  #held: NetPage[] = [];

  constructor(hc: Hypercalls, backend: number, readonly: boolean) {
    this.#hc = hc;
    this.#backend = backend;
    this.#readonly = readonly;
  }

  /** `n` fresh frames granted to the backend, in the order the allocator gave them; all or none. */
  grantMany(n: number): NetPage[] {
    const hc = this.#hc;
    const pfns = hc.populatePhysmap(n);
    const out: NetPage[] = [];
    try {
      for (const pfn of pfns) out.push({ pfn, bytes: new Uint8Array(hc.memory.buffers.memory, pfn * PAGE_SIZE, PAGE_SIZE), ref: hc.grantAccess(this.#backend, pfn, this.#readonly) });
    } catch (e) {
      for (const p of out) hc.endAccess(p.ref);
      hc.decreaseReservation(pfns);
      throw e;
    }
    this.#live.push(...out);
    return out;
  }

  /** The guest's RAM, which every page's `bytes` views. */
  get memory(): ArrayBufferLike {
    return this.#hc.memory.buffers.memory;
  }

  /** End every grant and free the frames the backend has let go of. */
  revokeAll(): void {
    this.#held.push(...this.#live.splice(0));
    this.retry();
  }

  /** Frames still held by an earlier backend. */
  get held(): number {
    return this.#held.length;
  }

  retry(): void {
    const hc = this.#hc;
    const still: NetPage[] = [];
    const freed: number[] = [];
    for (const p of this.#held) {
      if (hc.endAccess(p.ref)) freed.push(p.pfn);
      else still.push(p);
    }
    this.#held = still;
    if (freed.length) hc.decreaseReservation(freed);
  }
}
