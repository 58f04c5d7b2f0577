// A machine for block-driver tests on the test's own thread: a hypervisor (dom0 and guests as
// local domains, each with its upcall loop), an in-process xenstored with one connection per
// domain, dom0's blkback service started through the toolstack's device code, and disks the
// test chooses (RAM disks, or its own) registered under absolute targets that no file has.
import { switchState } from '../../src/drivers/xenbus.js';
import { XenbusState } from '../../src/abi/xenbus.js';
import { BlkFront } from '../../src/drivers/blk/front/blkfront.js';
import { BlkBack } from '../../src/drivers/blk/back/blkback.js';
import { attachDisk, dom0Blkback } from '../../src/toolstack/devices.js';
import { parseDiskSpec } from '../../src/toolstack/diskspec.js';
import { openDisk } from '../../src/storage/open.js';
import { ReadOnlyDisk } from '../../src/storage/readonly.js';
import { DriverRig } from './driver-rig.js';
import { within } from './hypervisor.js';
export { within } from './hypervisor.js';
export class Rig extends DriverRig {
    backendOpts;
    disks = new Map();
    host;
    constructor(backendOpts = {}) {
        super();
        this.backendOpts = backendOpts;
        this.host = { hv: this.h.hv, xs: this.xs0, loop: this.h.dom0Events.loop, log: (l) => this.log.push(l) };
    }
    /** dom0's blkback service, with this rig's options and its test disks. */
    daemon() {
        const opts = {
            blkback: this.backendOpts,
            openDisk: async (params, o) => {
                const d = this.disks.get(params.slice('raw:'.length));
                if (!d)
                    return openDisk(params, o);
                return o.readOnly ? new ReadOnlyDisk(d) : d;
            },
        };
        return dom0Blkback(this.host, opts);
    }
    /** Attach `disk` (registered under its absolute target path) or a spec target through the toolstack's code. */
    async attach(g, spec, disk) {
        await this.daemon();
        const parsed = parseDiskSpec(spec);
        if (disk)
            this.disks.set(parsed.target, disk);
        await attachDisk(this.host, g.domid, parsed);
    }
    async front(g, devid = 51712, opts = {}) {
        return BlkFront.connect(g.ctx, g.domid, devid, 'xvda', opts);
    }
    /**
     * Replace the backend of `g`'s xvda under its frontend, as a reload of blkback would: the old
     * one stops (once `gated` lets its requests finish), unmaps and says Closed; a fresh one
     * starts on the same directory and disk.
     */
    async restartBackend(g, gated) {
        const old = (await this.daemon()).device(g.domid, 51712);
        const closing = old.close();
        gated.open();
        await closing;
        await switchState(this.xs0, old.dir, XenbusState.Closed);
        return BlkBack.start(this.dom0, old.dir, gated);
    }
    async close() {
        const d = await this.daemon().catch(() => undefined);
        await d?.stop();
        await super.close();
    }
}
/** A rig whose one guest has connected blkfront to `disk` under `spec`; the rig closes after the test. */
export async function connected(t, disk, spec = 'vdev=xvda, target=/test/a') {
    const rig = new Rig();
    t.after(() => rig.close());
    const g = rig.guest();
    await rig.attach(g, spec, disk);
    const f = await within(rig.front(g), 'connect');
    return { rig, g, f };
}
/** Bytes with a recognizable pattern per sector: sector number and a salt. */
export function pattern(sector, sectors, salt) {
    const b = new Uint8Array(sectors * 512);
    const v = new DataView(b.buffer);
    for (let s = 0; s < sectors; s++) {
        for (let i = 0; i < 512; i += 8) {
            v.setUint32(s * 512 + i, sector + s, true);
            v.setUint32(s * 512 + i + 4, salt, true);
        }
    }
    return b;
}
/** A disk whose I/O waits for the test to open the gate: requests stay in flight. */
export class GatedDisk {
    inner;
    features = { flush: true, discard: true, secureDiscard: true };
    readOnly = false;
    #waiting = [];
    #open = true;
    started = 0;
    constructor(inner) {
        this.inner = inner;
    }
    get sectors() {
        return this.inner.sectors;
    }
    close() {
        return Promise.resolve();
    }
    shut() {
        this.#open = false;
    }
    open() {
        this.#open = true;
        for (const w of this.#waiting.splice(0))
            w();
    }
    async #gate() {
        this.started++;
        if (!this.#open)
            await new Promise((r) => this.#waiting.push(r));
    }
    async read(sector, bufs) {
        await this.#gate();
        await this.inner.read(sector, bufs);
    }
    async write(sector, bufs) {
        await this.#gate();
        await this.inner.write(sector, bufs);
    }
    async flush() {
        await this.#gate();
    }
    async discard(sector, count, secure) {
        await this.#gate();
        await this.inner.discard(sector, count, secure);
    }
}
/** A disk that records the buffers blkback hands it (so a test sees copies and runs), then passes them on. */
export class RecordingDisk {
    inner;
    calls = [];
    constructor(inner) {
        this.inner = inner;
    }
    get features() {
        return this.inner.features;
    }
    get readOnly() {
        return this.inner.readOnly;
    }
    get sectors() {
        return this.inner.sectors;
    }
    #record(op, sector, bufs) {
        this.calls.push({ op, sector, runs: bufs.map((b) => ({ buffer: b.buffer, byteOffset: b.byteOffset, byteLength: b.byteLength })) });
    }
    read(sector, bufs) {
        this.#record('read', sector, bufs);
        return this.inner.read(sector, bufs);
    }
    write(sector, bufs) {
        this.#record('write', sector, bufs);
        return this.inner.write(sector, bufs);
    }
    flush() {
        return this.inner.flush();
    }
    discard(sector, count, secure) {
        return this.inner.discard(sector, count, secure);
    }
    close() {
        return this.inner.close();
    }
}
//# sourceMappingURL=blk.js.map