// XS_INTRODUCE's ring mapping in a host: xenstored running in dom0 maps the guest's xenstore
// page through the guest's reserved grant (GNTTAB_RESERVED_XENSTORE, as cxenstored does rather
// than mapping the mfn) and binds the port the guest allocated. When xenstored lets go of the
// ring, the port and the mapping go too.
import type { Hypercalls } from '../../hypervisor/hypercalls.js';
import { GNTTAB_RESERVED_XENSTORE } from '../../hypervisor/layout.js';
import { bindInterdomain } from '../../hypervisor/port.js';
import type { UpcallLoop } from '../../hypervisor/upcall.js';
import type { IntroduceHook } from './transport.js';

/** The introduce hook of a xenstored that runs on dom0's hypercalls and upcall loop. */
export function mapGuestRing(hc: Hypercalls, loop: UpcallLoop): IntroduceHook {
  return async (domid, _mfn, port) => {
    await hc.connect(domid);
    const { handle, page } = hc.grantMap(domid, GNTTAB_RESERVED_XENSTORE, false);
    const bound = await bindInterdomain(hc, loop, domid, port).catch((e: unknown) => {
      hc.grantUnmap(handle);
      throw e;
    });
    const evtchn = {
      notify: () => bound.notify(),
      onEvent: (h: () => void) => bound.onEvent(h),
      close: () => {
        bound.close();
        hc.grantUnmap(handle);
      },
    };
    return { page, evtchn };
  };
}
