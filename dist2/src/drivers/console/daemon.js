// The console daemon of dom0 (xenconsoled): for every guest it maps the console page through
// the reserved grant entry, binds the console event channel, and moves bytes between the
// page and whoever watches the domain's console, keeping a bounded log so output printed
// before anyone attached is not lost.
import { EventEmitter } from 'node:events';
import { bindInterdomain } from '../../hypervisor/port.js';
import { ByteRing } from './ring.js';
/**
 * Typed bytes held for a guest that does not read its console (a paste or a flood): beyond
 * this, input is dropped, as a serial line drops what its receiver has no room for.
 */
export const MAX_PENDING_INPUT = 64 * 1024;
export class ConsoleDaemon extends EventEmitter {
    #hc;
    #loop;
    #logLimit;
    #consoles = new Map();
    constructor(hc, loop, opts = {}) {
        super();
        this.#hc = hc;
        this.#loop = loop;
        this.#logLimit = opts.logLimit ?? 64 * 1024;
    }
    /** Connect to a guest's console: `ringRef` is its console grant, `port` its unbound event channel. */
    async attach(domid, ringRef, remotePort) {
        if (this.#consoles.has(domid))
            return;
        await this.#hc.connect(domid);
        const { handle, page } = this.#hc.grantMap(domid, ringRef, false);
        let port;
        try {
            port = await bindInterdomain(this.#hc, this.#loop, domid, remotePort);
        }
        catch (e) {
            this.#hc.grantUnmap(handle);
            throw e;
        }
        const c = {
            handle,
            port,
            out: new ByteRing(page, 'out', 'consumer'),
            in: new ByteRing(page, 'in', 'producer'),
            log: [],
            logBytes: 0,
            pendingInput: [],
            pendingBytes: 0,
        };
        this.#consoles.set(domid, c);
        port.onEvent(() => this.#service(domid));
    }
    #service(domid) {
        const c = this.#consoles.get(domid);
        if (!c)
            return;
        try {
            const data = c.out.read();
            let moved = data.length > 0;
            if (moved) {
                this.#record(c, data);
                this.emit('output', domid, data);
            }
            while (c.pendingInput.length) {
                const head = c.pendingInput[0];
                const n = c.in.write(head);
                c.pendingBytes -= n;
                moved ||= n > 0;
                if (n < head.length) {
                    c.pendingInput[0] = head.subarray(n);
                    break;
                }
                c.pendingInput.shift();
            }
            // The guest may be waiting for room in its out ring, or for input.
            if (moved)
                c.port.notify();
        }
        catch (e) {
            this.emit('broken', domid, e.message);
            this.detach(domid);
        }
    }
    #record(c, data) {
        c.log.push(data);
        c.logBytes += data.length;
        while (c.logBytes > this.#logLimit && c.log.length > 1)
            c.logBytes -= c.log.shift().length;
    }
    /** Read whatever the guest left in its ring (before it is destroyed). */
    drain(domid) {
        this.#service(domid);
    }
    /** Type into the guest's console; returns how many bytes were taken (the rest found no room). */
    input(domid, data) {
        const c = this.#consoles.get(domid);
        if (!c)
            return 0;
        const take = Math.min(data.length, MAX_PENDING_INPUT - c.pendingBytes);
        if (take <= 0)
            return 0;
        c.pendingInput.push(data.slice(0, take));
        c.pendingBytes += take;
        this.#service(domid);
        return take;
    }
    /** The console output kept so far (bounded), oldest first. */
    log(domid) {
        return Buffer.concat(this.#consoles.get(domid)?.log ?? []);
    }
    has(domid) {
        return this.#consoles.has(domid);
    }
    detach(domid) {
        const c = this.#consoles.get(domid);
        if (!c)
            return;
        this.#consoles.delete(domid);
        c.port.close();
        this.#hc.grantUnmap(c.handle);
    }
}
//# sourceMappingURL=daemon.js.map