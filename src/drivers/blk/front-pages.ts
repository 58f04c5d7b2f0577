// blkfront's I/O pages: frames of the guest's RAM that requests carry, granted to the backend.
// With persistent grants a page is granted read-write once and reused, most recently freed
// first (blkif.h's LIFO, so a backend that keeps only some grants mapped keeps the hot ones).
// Without them each use grants the page (read-only when the backend only reads it) and ends
// the grant after the response. A grant the backend still maps cannot be ended; its page is
// set aside until it can, since the backend may still write it.
import { PAGE_SIZE } from '../../abi/xen.js';
import { isXenError } from '../../errors.js';
import type { Hypercalls } from '../../hypervisor/hypercalls.js';

export interface IoPage {
  readonly pfn: number;
  readonly page: Uint8Array;
  readonly view: DataView;
  /** The grant while the backend may use the page, else -1. */
  ref: number;
}

export class FrontPages {
  readonly #hc: Hypercalls;
  #backend = -1;
  #persistent = false;
  /** Ungranted pages. */
  readonly #free: IoPage[] = [];
  /** Persistent grants not in use, most recently used last. */
  readonly #pool: IoPage[] = [];
  /** Pages whose grant the backend still maps. */
  #revoking: IoPage[] = [];
  /** Persistent grants handed out over the connection's life. */
  #granted = 0;

  constructor(hc: Hypercalls) {
    this.#hc = hc;
  }

  /** Start a connection to `backend`; earlier grants must have been revoked. */
  connect(backend: number, persistent: boolean): void {
    this.#backend = backend;
    this.#persistent = persistent;
    this.#granted = 0;
  }

  get persistentGrants(): number {
    return this.#granted;
  }

  /** Pages waiting for the backend to unmap them. */
  get revoking(): number {
    return this.#revoking.length;
  }

  /** A page granted for one use: `backendWrites` when the backend fills it (a read). Null if memory ran out. */
  take(backendWrites: boolean): IoPage | null {
    if (this.#persistent) {
      const p = this.#pool.pop();
      if (p) return p;
    }
    const p = this.#frame();
    if (!p) return null;
    p.ref = this.#hc.grantAccess(this.#backend, p.pfn, !this.#persistent && !backendWrites);
    if (this.#persistent) this.#granted++;
    return p;
  }

  /** The request is answered: keep the persistent grant, or end the grant. */
  put(p: IoPage): void {
    if (this.#persistent) this.#pool.push(p);
    else this.#revoke(p);
  }

  /** End a grant now if the backend lets go of it, else later. */
  #revoke(p: IoPage): void {
    if (this.#hc.endAccess(p.ref)) {
      p.ref = -1;
      this.#free.push(p);
    } else {
      this.#revoking.push(p);
    }
  }

  /** The connection is gone: end every persistent grant, and retry grants the backend held. */
  revokeAll(): void {
    const held = this.#revoking;
    this.#revoking = [];
    for (const p of this.#pool.splice(0)) this.#revoke(p);
    for (const p of held) this.#revoke(p);
  }

  /** Give back a page of a request that will never be answered (the connection went). */
  abandon(p: IoPage): void {
    this.#revoke(p);
  }

  #frame(): IoPage | null {
    const p = this.#free.pop();
    if (p) return p;
    let pfn: number;
    try {
      [pfn] = this.#hc.populatePhysmap(1) as [number];
    } catch (e) {
      if (isXenError(e, 'ENOMEM')) return null;
      throw e;
    }
    const buf = this.#hc.memory.buffers.memory;
    return { pfn, page: new Uint8Array(buf, pfn * PAGE_SIZE, PAGE_SIZE), view: new DataView(buf, pfn * PAGE_SIZE, PAGE_SIZE), ref: -1 };
  }
}
