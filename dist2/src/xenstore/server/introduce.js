import { GNTTAB_RESERVED_XENSTORE } from '../../hypervisor/layout.js';
import { bindInterdomain } from '../../hypervisor/port.js';
/** The introduce hook of a xenstored that runs on dom0's hypercalls and upcall loop. */
export function mapGuestRing(hc, loop) {
    return async (domid, _mfn, port) => {
        await hc.connect(domid);
        const { handle, page } = hc.grantMap(domid, GNTTAB_RESERVED_XENSTORE, false);
        const bound = await bindInterdomain(hc, loop, domid, port).catch((e) => {
            hc.grantUnmap(handle);
            throw e;
        });
        const evtchn = {
            notify: () => bound.notify(),
            onEvent: (h) => bound.onEvent(h),
            close: () => {
                bound.close();
                hc.grantUnmap(handle);
            },
        };
        return { page, evtchn };
    };
}
//# sourceMappingURL=introduce.js.map