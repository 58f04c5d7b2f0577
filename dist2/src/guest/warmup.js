// A thread waiting in the vCPU pool has time; a booting domain does not. So while it waits,
// the thread runs the code of a boot once on scratch memory that no other thread sees: the
// upcall path, the console, a xenstore request and its reply. V8 compiles functions the first
// time they run, and the first real boot then finds them compiled.
import { EVTCHNSTAT_ipi } from '../abi/event_channel.js';
import { XENSTORE_RING_SIZE, XSD_SOCKMSG_LEN, XSD_SOCKMSG_REQ_ID, XSD_SOCKMSG_SIZE, XSD_SOCKMSG_TYPE, XS_INTF_REQ, XS_INTF_RSP, XS_INTF_RSP_PROD, XS_READ, } from '../abi/xs_wire.js';
import { ConsoleFront } from '../drivers/console/front.js';
import { setPort } from '../hypervisor/evtchn.js';
import { Hypercalls } from '../hypervisor/hypercalls.js';
import { PFN_CONSOLE, PFN_XENSTORE } from '../hypervisor/layout.js';
import { allocateDomainBuffers, DomainView } from '../hypervisor/memory.js';
import { BoundPort } from '../hypervisor/port.js';
import { UpcallLoop } from '../hypervisor/upcall.js';
import { XenstoreClient } from '../xenstore/client/client.js';
import { XenstoreRingClient } from '../xenstore/client/ring.js';
import { pvConsole } from './os.js';
const SCRATCH_DOMID = 0x7fef;
const CONSOLE_PORT = 1;
const STORE_PORT = 2;
const noControl = { call: () => Promise.reject(new Error('no control plane during warm-up')) };
/** True if every step ran: a step that fails is skipped silently, and so would warm nothing. */
export async function warmUp() {
    const view = new DomainView(allocateDomainBuffers(SCRATCH_DOMID, { maxGrantFrames: 1, ramFrames: 1, maxEvtchns: 4, initialGrantFrames: 1 }));
    // Ports that raise events on the scratch domain itself stand in for dom0's ends.
    setPort(view, CONSOLE_PORT, EVTCHNSTAT_ipi, 0, 0);
    setPort(view, STORE_PORT, EVTCHNSTAT_ipi, 0, 0);
    const hc = new Hypercalls(view, noControl);
    const loop = new UpcallLoop(view, { pausable: false, onError: () => { } });
    loop.start();
    try {
        const front = new ConsoleFront(view.frame(PFN_CONSOLE), new BoundPort(hc, loop, CONSOLE_PORT));
        pvConsole(front).console.log('%s', 'warm-up');
        await front.flush();
        const store = view.frame(PFN_XENSTORE);
        const xs = new XenstoreClient(new XenstoreRingClient({ page: store, evtchn: new BoundPort(hc, loop, STORE_PORT) }));
        const reply = xs.read('name');
        await new Promise((r) => setImmediate(r));
        // Answer the request the client wrote, as xenstored would.
        const req = new DataView(store.buffer, store.byteOffset + XS_INTF_REQ, XENSTORE_RING_SIZE);
        const rsp = new DataView(store.buffer, store.byteOffset + XS_INTF_RSP, XENSTORE_RING_SIZE);
        rsp.setUint32(XSD_SOCKMSG_TYPE, XS_READ, true);
        rsp.setUint32(XSD_SOCKMSG_REQ_ID, req.getUint32(XSD_SOCKMSG_REQ_ID, true), true);
        rsp.setUint32(XSD_SOCKMSG_LEN, 1, true);
        rsp.setUint8(XSD_SOCKMSG_SIZE, 0x78);
        Atomics.store(new Int32Array(store.buffer, store.byteOffset, 1024), XS_INTF_RSP_PROD >> 2, XSD_SOCKMSG_SIZE + 1);
        hc.evtchnSend(STORE_PORT);
        const answered = await Promise.race([reply.then((v) => v === 'x'), new Promise((r) => setTimeout(r, 100, false))]);
        xs.close();
        return answered;
    }
    catch {
        return false; // warm-up is an optimisation only
    }
    finally {
        loop.stop();
    }
}
//# sourceMappingURL=warmup.js.map