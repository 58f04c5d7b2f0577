// A machine with every domain on the bench's own thread: a hypervisor with dom0's upcall loop,
// an in-process xenstored, dom0's blkback started through the toolstack's device code, and
// guests as domains whose hypercalls and upcall loops run here too. Disks are RAM disks the
// bench registers under absolute targets that no file has.
import { BlkFront } from '../../src/drivers/blk/front/blkfront.js';
import { eventChannels } from '../../src/drivers/evtchn.js';
import { directChannel } from '../../src/hypervisor/control.js';
import { Hypercalls } from '../../src/hypervisor/hypercalls.js';
import { Hypervisor } from '../../src/hypervisor/hypervisor.js';
import { UpcallLoop } from '../../src/hypervisor/upcall.js';
import { attachDisk, dom0Blkback } from '../../src/toolstack/devices.js';
import { parseDiskSpec } from '../../src/toolstack/diskspec.js';
import { XenstoreClient } from '../../src/xenstore/client/client.js';
import { connectLocal } from '../../src/xenstore/client/transport.js';
import { Xenstored } from '../../src/xenstore/server/daemon.js';
export class OneThreadHost {
    #hv = new Hypervisor({ dom0RamFrames: 64 });
    #xenstored = new Xenstored();
    #loops = [];
    #clients = [];
    #disks = new Map();
    #host;
    constructor() {
        const xs0 = this.#client(0);
        this.#host = { hv: this.#hv, xs: xs0, loop: this.#loop(this.#hv.dom0.view) };
    }
    /** dom0's own context: its hypercalls, event channels and xenstore client (for backends a bench starts itself). */
    get dom0() {
        const hc = this.#hv.dom0Hypercalls;
        return { hc, evtchn: eventChannels(hc, this.#host.loop), xs: this.#host.xs };
    }
    guest(ramFrames) {
        const domain = this.#hv.createDomain({ name: `bench${this.#loops.length}`, ramFrames });
        const hc = new Hypercalls(domain.view, directChannel(this.#hv.controlPlane(domain.domid)));
        this.#xenstored.introduceDomain(domain.domid);
        const xs = this.#client(domain.domid);
        return { domid: domain.domid, hc, ctx: { hc, evtchn: eventChannels(hc, this.#loop(domain.view)), xs } };
    }
    /** Give `g` the disk `spec` names, backed by `disk`, and connect its blkfront. */
    async attach(g, spec, disk, opts = {}) {
        await dom0Blkback(this.#host, {
            openDisk: async (params) => {
                const d = this.#disks.get(params.slice('raw:'.length));
                if (!d)
                    throw new Error(`no bench disk ${params}`);
                return d;
            },
        });
        const parsed = parseDiskSpec(spec);
        this.#disks.set(parsed.target, disk);
        await attachDisk(this.#host, g.domid, parsed);
        return BlkFront.connect(g.ctx, g.domid, parsed.devid, parsed.vdev, opts);
    }
    async close() {
        await (await dom0Blkback(this.#host)).stop();
        for (const c of this.#clients)
            c.close();
        for (const l of this.#loops)
            l.stop();
        for (const d of this.#hv.domains())
            if (d.domid !== 0)
                await this.#hv.destroyDomain(d.domid);
    }
    #client(domid) {
        const c = new XenstoreClient(connectLocal(this.#xenstored, domid));
        this.#clients.push(c);
        return c;
    }
    #loop(view) {
        // Never pausable: pausing would block the one thread everything runs on.
        const loop = new UpcallLoop(view, { pausable: false, onError: (e) => { throw e; } });
        loop.start();
        this.#loops.push(loop);
        return loop;
    }
}
//# sourceMappingURL=onethread.js.map