// Multicast filtering (feature-multicast-control), as xen-netback does it: while the frontend
// asks for it (request-multicast-control, re-read on change with
// feature-dynamic-multicast-control), a multicast frame for the guest is delivered only if the
// frontend subscribed its address with a XEN_NETIF_EXTRA_TYPE_MCAST_ADD on its tx ring;
// broadcast and unicast always pass, and with filtering off every multicast frame does (the
// bridge floods them). At most XEN_NETBK_MCAST_MAX addresses: one more is refused. Unlike
// Linux's list, an address added twice is held once (and one DEL removes it).
import { isGroupMac, macAt } from '../../../network/mac.js';
/** XEN_NETBK_MCAST_MAX. */
export const MCAST_MAX = 64;
const BROADCAST = 0xffff_ffff_ffff;
export class McastFilter {
    /** The frontend asked for filtering (request-multicast-control). */
    enabled = false;
    #addrs = new Set();
    get size() {
        return this.#addrs.size;
    }
    /** xenvif_mcast_add: false (ENOSPC) when MCAST_MAX addresses are held already. */
    add(addr) {
        const a = macAt(addr, 0);
        if (this.#addrs.has(a))
            return true;
        if (this.#addrs.size >= MCAST_MAX)
            return false;
        this.#addrs.add(a);
        return true;
    }
    delete(addr) {
        this.#addrs.delete(macAt(addr, 0));
    }
    /** Does a frame for the guest pass (xenvif_start_xmit's PACKET_MULTICAST check)? */
    passes(frame) {
        if (!this.enabled || !isGroupMac(frame, 0))
            return true;
        const dst = macAt(frame, 0);
        return dst === BROADCAST || this.#addrs.has(dst);
    }
    /** The connection went: xenvif_mcast_addr_list_free. */
    clear() {
        this.#addrs.clear();
    }
}
//# sourceMappingURL=mcast.js.map