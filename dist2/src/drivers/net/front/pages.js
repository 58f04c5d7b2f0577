// netfront's I/O pages: frames of the guest's RAM granted to the backend for the life of one
// connection (tx pages read-only, rx buffers writable; netback copies to and from them with
// GNTTABOP_copy, so a grant held long costs it nothing). When the connection goes the grants
// are ended; a page the backend still holds is set aside and retried, since it may still
// write it.
import { PAGE_SIZE } from '../../../abi/xen.js';
export class NetPages {
    #hc;
    #backend;
    #readonly;
    #live = [];
    #held = [];
    constructor(hc, backend, readonly) {
        this.#hc = hc;
        this.#backend = backend;
        this.#readonly = readonly;
    }
    /** A fresh frame granted to the backend; throws when memory or grant references run out. */
    grant() {
        const hc = this.#hc;
        const [pfn] = hc.populatePhysmap(1);
        let ref;
        try {
            ref = hc.grantAccess(this.#backend, pfn, this.#readonly);
        }
        catch (e) {
            hc.decreaseReservation([pfn]);
            throw e;
        }
        const p = { pfn, bytes: new Uint8Array(hc.memory.buffers.memory, pfn * PAGE_SIZE, PAGE_SIZE), ref };
        this.#live.push(p);
        return p;
    }
    /** End every grant and free the frames the backend has let go of. */
    revokeAll() {
        this.#held.push(...this.#live.splice(0));
        this.retry();
    }
    /** Frames still held by an earlier backend. */
    get held() {
        return this.#held.length;
    }
    retry() {
        const hc = this.#hc;
        const still = [];
        const freed = [];
        for (const p of this.#held) {
            if (hc.endAccess(p.ref))
                freed.push(p.pfn);
            else
                still.push(p);
        }
        this.#held = still;
        if (freed.length)
            hc.decreaseReservation(freed);
    }
}
//# sourceMappingURL=pages.js.map