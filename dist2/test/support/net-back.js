import { NetbackDaemon } from '../../src/drivers/net/back/devd.js';
import { DriverRig } from './driver-rig.js';
import { within } from './hypervisor.js';
export { within } from './hypervisor.js';
import { createVif } from '../../bench/support/net-rawfront.js';
export { RawNetFront, frameOf } from '../../bench/support/net-rawfront.js';
/**
 * Stands in for dom0's virtual switch: every port hears every other port's frames (no
 * learning, no MAC checks: those are the switch's), and everything that went in is recorded.
 */
export class Hub {
    frames = [];
    ports = new Map();
    #waiters = [];
    plug(device, opts) {
        this.ports.set(device.name, { device, opts });
        const hub = this;
        let plugged = true;
        return {
            name: device.name,
            input(frame, info) {
                if (!plugged)
                    return;
                hub.frames.push({ from: device.name, frame: frame.slice(), info });
                for (const [name, p] of hub.ports)
                    if (name !== device.name)
                        p.device.deliver(frame, info);
                for (const w of hub.#waiters.splice(0))
                    w();
            },
            unplug() {
                plugged = false;
                if (hub.ports.get(device.name)?.device === device)
                    hub.ports.delete(device.name);
            },
        };
    }
    /** Resolves once `n` frames in all have gone in. */
    async until(n) {
        while (this.frames.length < n)
            await within(new Promise((r) => this.#waiters.push(r)), `${n} frames into the hub`);
        return this.frames;
    }
    /** A frame from a device of the test's own (dom0's side of the bridge). */
    inject(frame, info) {
        return [...this.ports.values()].map((p) => p.device.deliver(frame, info));
    }
}
export class NetRig extends DriverRig {
    opts;
    sw;
    #daemon = null;
    /** `sw`: the switch vifs are plugged into (the recording hub unless a test gives dom0's real one). */
    constructor(opts = {}, sw = new Hub()) {
        super();
        this.opts = opts;
        this.sw = sw;
    }
    /** The recording hub (the default switch). */
    get hub() {
        if (!(this.sw instanceof Hub))
            throw new Error('this rig runs a real switch');
        return this.sw;
    }
    daemon() {
        this.#daemon ??= NetbackDaemon.start(this.dom0, 0, { switch: this.sw, netback: this.opts });
        return this.#daemon;
    }
    /** Create the vif's nodes as libxl does and wait for dom0's netback to take it (hotplug-status). */
    async vif(g, devid = 0, backend = {}) {
        const daemon = await this.daemon();
        await createVif(this.xs0, g.domid, devid, backend);
        return daemon.device(g.domid, devid);
    }
    async close() {
        const d = await this.#daemon?.catch(() => undefined);
        await d?.stop();
        await super.close();
    }
}
export function netRig(t, opts = {}, sw) {
    const rig = new NetRig(opts, sw);
    t.after(() => rig.close());
    return rig;
}
//# sourceMappingURL=net-back.js.map