// blkback's pool of persistently mapped grants, one per ring (blkif.h feature-persistent): a
// grant the frontend uses again is found already mapped; at the limit, the least recently used
// grant that no request holds is unmapped to make room (blkif.h's LRU, paired with the
// frontend's LIFO reuse), approximated by CLOCK as page caches do: a use only sets the grant's
// referenced bit; eviction walks the Map in insertion order, giving each referenced grant a
// second chance (moved to the back, bit cleared) and unmapping the first idle one. A use costs
// one lookup, and an eviction amortised O(1), whatever a hostile frontend asks for.
import type { Hypercalls } from '../../../hypervisor/hypercalls.js';

/** A granted page as blkback uses it: the granter's memory and the page's offset in it. */
export interface MappedPage {
  readonly mem: ArrayBufferLike;
  readonly offset: number;
}

/** Read once per mapping: `.buffer` of a typed array is a call into V8 each time. */
export function mappedPage(page: Uint8Array): MappedPage {
  return { mem: page.buffer, offset: page.byteOffset };
}

export interface PersistentGrant extends MappedPage {
  readonly gref: number;
  readonly handle: number;
  users: number;
  /** Used since the eviction hand last passed it. */
  referenced: boolean;
}

export class PersistentGrants {
  readonly #hc: Hypercalls;
  readonly #domid: number;
  /** In CLOCK order. */
  readonly #grants = new Map<number, PersistentGrant>();
  /** The same grants by ref: an array index is cheaper than a Map lookup, once per segment. */
  readonly #byRef: (PersistentGrant | undefined)[] = [];
  /** Grants mapped and unmapped over the pool's life (for stats and tests). */
  maps = 0;
  evictions = 0;

  constructor(hc: Hypercalls, domid: number, readonly limit: number) {
    this.#hc = hc;
    this.#domid = domid;
  }

  get size(): number {
    return this.#grants.size;
  }

  /**
   * The mapping of `gref` (writable: persistent grants are always granted read-write, blkif.h
   * note 8), or null when the pool is full of grants in use: the caller then maps for this
   * request only. Throws GrantError if the frontend did not grant it so.
   */
  acquire(gref: number): PersistentGrant | null {
    let g = this.#byRef[gref];
    if (g) {
      g.referenced = true;
      g.users++;
      return g;
    }
    if (this.#grants.size >= this.limit && !this.#evictOne()) return null;
    const m = this.#hc.grantMap(this.#domid, gref, false);
    this.maps++;
    g = { gref, handle: m.handle, ...mappedPage(m.page), users: 1, referenced: true };
    this.#grants.set(gref, g);
    this.#byRef[gref] = g;
    return g;
  }

  release(g: PersistentGrant): void {
    g.users--;
  }

  #evictOne(): boolean {
    // Two passes at most: the first may only clear referenced bits.
    for (let budget = 2 * this.#grants.size; budget > 0; budget--) {
      const g = this.#grants.values().next().value;
      if (g === undefined) return false;
      this.#grants.delete(g.gref);
      if (g.users === 0 && !g.referenced) {
        this.#byRef[g.gref] = undefined;
        this.#hc.grantUnmap(g.handle);
        this.evictions++;
        return true;
      }
      g.referenced = false;
      this.#grants.set(g.gref, g);
    }
    return false;
  }

  /** Unmap everything: the connection is going (no request holds a grant by then). */
  clear(): void {
    for (const g of this.#grants.values()) this.#hc.grantUnmap(g.handle);
    this.#grants.clear();
    this.#byRef.length = 0;
  }
}
