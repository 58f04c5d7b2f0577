/** Read once per mapping: `.buffer` of a typed array is a call into V8 each time. */
export function mappedPage(page) {
    return { mem: page.buffer, offset: page.byteOffset };
}
export class PersistentGrants {
    limit;
    #hc;
    #domid;
    /** In CLOCK order. */
    #grants = new Map();
    /** The same grants by ref: an array index is cheaper than a Map lookup, once per segment. */
    #byRef = [];
    /** Grants mapped and unmapped over the pool's life (for stats and tests). */
    maps = 0;
    evictions = 0;
    constructor(hc, domid, limit) {
        this.limit = limit;
        this.#hc = hc;
        this.#domid = domid;
    }
    get size() {
        return this.#grants.size;
    }
    /**
     * The mapping of `gref` (writable: persistent grants are always granted read-write, blkif.h
     * note 8), or null when the pool is full of grants in use: the caller then maps for this
     * request only. Throws GrantError if the frontend did not grant it so.
     */
    acquire(gref) {
        let g = this.#byRef[gref];
        if (g) {
            g.referenced = true;
            g.users++;
            return g;
        }
        if (this.#grants.size >= this.limit && !this.#evictOne())
            return null;
        const m = this.#hc.grantMap(this.#domid, gref, false);
        this.maps++;
        g = { gref, handle: m.handle, ...mappedPage(m.page), users: 1, referenced: true };
        this.#grants.set(gref, g);
        this.#byRef[gref] = g;
        return g;
    }
    release(g) {
        g.users--;
    }
    #evictOne() {
        // Two passes at most: the first may only clear referenced bits.
        for (let budget = 2 * this.#grants.size; budget > 0; budget--) {
            const g = this.#grants.values().next().value;
            if (g === undefined)
                return false;
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
    clear() {
        for (const g of this.#grants.values())
            this.#hc.grantUnmap(g.handle);
        this.#grants.clear();
        this.#byRef.length = 0;
    }
}
//# sourceMappingURL=pgrants.js.map