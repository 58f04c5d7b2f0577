// The pages of a shared ring (one, or 2^order for a multi-page ring). The frontend allocates
// physically contiguous frames and grants each to the backend; the backend maps every grant and
// needs them as one contiguous view, which Linux gets from vmap. xenode has no page tables to
// stitch frames together, so it accepts only frames that are already adjacent in the
// frontend's memory, and refuses the ring otherwise.
import { PAGE_SIZE } from '../abi/xen.js';
import { XenError } from '../errors.js';
function consecutive(pfns) {
    return pfns.every((p, i) => i === 0 || p === pfns[i - 1] + 1);
}
/**
 * `n` adjacent frames of the domain's RAM. Freed frames are handed out first and may be
 * scattered; those are set aside until a run of `n` turns up (fresh frames always are one).
 */
export function allocContiguous(hc, n) {
    let pfns = hc.populatePhysmap(n).sort((a, b) => a - b);
    const spare = [];
    try {
        while (!consecutive(pfns)) {
            spare.push(pfns.shift());
            pfns.push(...hc.populatePhysmap(1));
            pfns.sort((a, b) => a - b);
        }
    }
    catch (e) {
        hc.decreaseReservation([...spare, ...pfns]); // out of memory: give back what was taken
        throw e;
    }
    if (spare.length)
        hc.decreaseReservation(spare);
    return pfns;
}
export function grantRing(hc, backendDomid, nrPages) {
    const pfns = allocContiguous(hc, nrPages);
    const refs = [];
    try {
        for (const pfn of pfns)
            refs.push(hc.grantAccess(backendDomid, pfn, false));
    }
    catch (e) {
        for (const ref of refs)
            hc.endAccess(ref);
        hc.decreaseReservation(pfns);
        throw e;
    }
    const bytes = new Uint8Array(hc.memory.buffers.memory, pfns[0] * PAGE_SIZE, nrPages * PAGE_SIZE);
    return { bytes, pfns, refs };
}
/**
 * Revoke the ring's grants and free its frames. False if the backend still maps a page: the
 * frames then stay allocated (a backend may still write them) and the caller retries later.
 */
export function revokeRing(hc, ring) {
    let all = true;
    for (const ref of ring.refs)
        if (!hc.endAccess(ref))
            all = false;
    if (all)
        hc.decreaseReservation(ring.pfns);
    return all;
}
export function mapRing(hc, domid, refs) {
    const handles = [];
    const unmap = () => {
        for (const h of handles.splice(0))
            hc.grantUnmap(h);
    };
    try {
        let first;
        for (const [i, ref] of refs.entries()) {
            const m = hc.grantMap(domid, ref, false);
            handles.push(m.handle);
            first ??= m.page;
            if (m.page.buffer !== first.buffer || m.page.byteOffset !== first.byteOffset + i * PAGE_SIZE) {
                throw new XenError('EINVAL', `d${domid}: ring page ${i} (ref ${ref}) is not adjacent to page 0: a multi-page ring must be contiguous`);
            }
        }
        const bytes = new Uint8Array(first.buffer, first.byteOffset, refs.length * PAGE_SIZE);
        return { bytes, unmap };
    }
    catch (e) {
        unmap();
        throw e;
    }
}
//# sourceMappingURL=ringpages.js.map