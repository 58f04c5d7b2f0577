// blkfront's I/O pages: frames of the guest's RAM that requests carry, granted to the backend.
// With persistent grants a page is granted read-write once and reused, most recently freed
// first (blkif.h's LIFO, so a backend that keeps only some grants mapped keeps the hot ones).
// Without them each use grants the page (read-only when the backend only reads it) and ends
// the grant after the response. A grant the backend still maps cannot be ended; its page is
// set aside until it can, since the backend may still write it.
//
// Buffers the guest already keeps in its RAM (os.io's I/O pages) need no bounce page: their own
// frames are granted (zero copy, as Mirage's blkfront does with Io_pages). With persistent
// grants such a frame keeps its grant for the life of the connection, so a buffer used again
// costs nothing; the number of frames granted that way is bounded, and beyond the bound
// requests fall back to bounce pages.
import { PAGE_SIZE } from '../../../abi/xen.js';
import { isXenError } from '../../../errors.js';
/** Frames of guest buffers that keep a persistent grant at once (16 MiB of I/O memory). */
export const MAX_DIRECT_PERSISTENT = 4096;
export class FrontPages {
    #hc;
    #backend = -1;
    #persistent = false;
    /** Ungranted pages. */
    #free = [];
    /** Persistent grants not in use, most recently used last. */
    #pool = [];
    /** Pages whose grant the backend still maps. */
    #revoking = [];
    /** Persistent grants handed out over the connection's life. */
    #granted = 0;
    /** Frames of guest buffers granted persistently on this connection, by pfn. */
    #direct = new Map();
    #directLimit = MAX_DIRECT_PERSISTENT;
    constructor(hc) {
        this.#hc = hc;
    }
    /** Start a connection to `backend`; earlier grants must have been revoked. */
    connect(backend, persistent) {
        this.#backend = backend;
        this.#persistent = persistent;
        this.#granted = 0;
    }
    /**
     * Keep no more guest frames persistently granted than the backend's pool holds by default
     * (defaultPersistentLimit), so that cycling through many buffers does not make it thrash.
     */
    limitDirect(backendPool) {
        this.#directLimit = Math.min(MAX_DIRECT_PERSISTENT, backendPool);
    }
    get persistentGrants() {
        return this.#granted;
    }
    /** Pages waiting for the backend to unmap them. */
    get revoking() {
        return this.#revoking.length;
    }
    /**
     * A page granted for one use: `backendWrites` when the backend fills it (a read). Null if
     * memory or grant references ran out (see tableFull).
     */
    take(backendWrites) {
        if (this.#persistent) {
            const p = this.#pool.pop();
            if (p)
                return p;
        }
        const p = this.#frame();
        if (!p)
            return null;
        if (!this.#grant(p, backendWrites)) {
            this.#free.push(p);
            return null;
        }
        if (this.#persistent)
            this.#granted++;
        return p;
    }
    /** Every grant reference of the table is in use: growing it (GNTTABOP_setup_table) would help. */
    get tableFull() {
        return this.#hc.freeGrantRefs === 0;
    }
    #grant(p, backendWrites) {
        if (this.tableFull)
            return false;
        p.ref = this.#hc.grantAccess(this.#backend, p.pfn, !this.#persistent && !backendWrites);
        return true;
    }
    /**
     * Frame `pfn` of a guest buffer, granted for a request (`backendWrites` as for take()); null
     * when persistent grants are in use and too many frames already hold one.
     */
    direct(pfn, backendWrites) {
        if (this.#persistent) {
            const known = this.#direct.get(pfn);
            if (known)
                return known;
            if (this.#direct.size >= this.#directLimit)
                return null;
        }
        const p = this.#page(pfn, true);
        if (!this.#grant(p, backendWrites))
            return null;
        if (this.#persistent) {
            this.#direct.set(pfn, p);
            this.#granted++;
        }
        return p;
    }
    /** The request is answered: keep the persistent grant, or end the grant. */
    put(p) {
        if (!this.#persistent)
            this.#revoke(p);
        else if (!p.direct)
            this.#pool.push(p);
    }
    /** End a grant now if the backend lets go of it, else later. */
    #revoke(p) {
        if (this.#hc.endAccess(p.ref)) {
            p.ref = -1;
            if (!p.direct)
                this.#free.push(p);
        }
        else {
            this.#revoking.push(p);
        }
    }
    /** The connection is gone: end every persistent grant, and retry grants the backend held. */
    revokeAll() {
        for (const p of this.#pool.splice(0))
            this.#revoke(p);
        for (const p of this.#direct.values())
            this.#revoke(p);
        this.#direct.clear();
        this.retryRevoking();
    }
    /** End the grants an earlier backend still mapped, where it has let go since. */
    retryRevoking() {
        const held = this.#revoking;
        this.#revoking = [];
        for (const p of held)
            this.#revoke(p);
    }
    /** Give back a page of a request that will never be answered (the connection went). */
    abandon(p) {
        // A guest frame with a persistent grant is ended with the others by revokeAll().
        if (!(p.direct && this.#persistent))
            this.#revoke(p);
    }
    #frame() {
        const p = this.#free.pop();
        if (p)
            return p;
        let pfn;
        try {
            [pfn] = this.#hc.populatePhysmap(1);
        }
        catch (e) {
            if (isXenError(e, 'ENOMEM'))
                return null;
            throw e;
        }
        return this.#page(pfn, false);
    }
    #page(pfn, direct) {
        const buf = this.#hc.memory.buffers.memory;
        return { pfn, page: new Uint8Array(buf, pfn * PAGE_SIZE, PAGE_SIZE), view: new DataView(buf, pfn * PAGE_SIZE, PAGE_SIZE), ref: -1, direct };
    }
}
//# sourceMappingURL=pages.js.map