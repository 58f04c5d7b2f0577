// The machine split-driver tests run on, on the test's own thread: a hypervisor (dom0 and
// guests as local domains, each with its upcall loop) and an in-process xenstored with one
// connection per domain. The block and network rigs add their backends on top.
import { eventChannels } from '../../src/drivers/evtchn.js';
import { XenstoreClient } from '../../src/xenstore/client/client.js';
import { connectLocal } from '../../src/xenstore/client/transport.js';
import { Xenstored } from '../../src/xenstore/server/daemon.js';
import { Harness } from './hypervisor.js';
export class DriverRig {
    h = new Harness();
    xenstored = new Xenstored();
    xs0 = new XenstoreClient(connectLocal(this.xenstored, 0));
    log = [];
    #clients = [this.xs0];
    get dom0() {
        return { hc: this.h.dom0, evtchn: eventChannels(this.h.dom0, this.h.dom0Events.loop), xs: this.xs0, log: (l) => this.log.push(l) };
    }
    /** A guest with its own xenstore connection; `logged`: its drivers log into `log` too. */
    guest(ramFrames = 1024, logged = false) {
        const d = this.h.local({ ramFrames });
        this.xenstored.introduceDomain(d.domid);
        const xs = new XenstoreClient(connectLocal(this.xenstored, d.domid));
        this.#clients.push(xs);
        const ctx = { hc: d.hc, evtchn: eventChannels(d.hc, d.events.loop), xs, ...(logged && { log: (l) => this.log.push(l) }) };
        return { ...d, xs, ctx };
    }
    /** Close every xenstore connection, then the hypervisor. */
    async close() {
        for (const c of this.#clients)
            c.close();
        await this.h.close();
    }
}
//# sourceMappingURL=driver-rig.js.map