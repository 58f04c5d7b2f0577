export const REASSEMBLY_DEFAULTS = {
    maxDatagrams: 32, maxBytes: 256 * 1024, maxFragments: 64, timeoutMs: 30_000,
};
export class Reassembly {
    clock;
    #table = new Map();
    #bytes = 0;
    counters = { completed: 0, dropped: 0 };
    opts;
    constructor(clock, opts = {}) {
        this.clock = clock;
        this.opts = { ...REASSEMBLY_DEFAULTS, ...opts };
    }
    get datagrams() {
        return this.#table.size;
    }
    get bytes() {
        return this.#bytes;
    }
    /**
     * Add one fragment (`offset` in bytes, `more` = MF). Returns the whole payload when this
     * fragment completes its datagram.
     */
    add(key, offset, more, data) {
        const end = offset + data.length;
        if (end > 65535 - 20 || (more && (data.length === 0 || data.length % 8 !== 0))) {
            this.#drop(key);
            this.counters.dropped++;
            return undefined;
        }
        let p = this.#table.get(key);
        if (!p) {
            while (this.#table.size >= this.opts.maxDatagrams || (this.#table.size > 0 && this.#bytes + data.length > this.opts.maxBytes)) {
                this.#drop(this.#table.keys().next().value);
                this.counters.dropped++;
            }
            if (data.length > this.opts.maxBytes)
                return undefined;
            p = { frags: [], bytes: 0, total: -1, timer: this.clock.setTimer(this.opts.timeoutMs, () => {
                    this.#drop(key);
                    this.counters.dropped++;
                }) };
            this.#table.set(key, p);
        }
        for (const f of p.frags) {
            const fEnd = f.start + f.data.length;
            if (f.start === offset && fEnd === end)
                return undefined; // a duplicate
            if (offset < fEnd && f.start < end)
                return this.#reject(key); // overlap: teardrop and friends
        }
        if (!more) {
            if (p.total !== -1 && p.total !== end)
                return this.#reject(key);
            p.total = end;
        }
        if ((p.total !== -1 && end > p.total) || p.frags.length >= this.opts.maxFragments ||
            this.#bytes + data.length > this.opts.maxBytes) {
            return this.#reject(key);
        }
        p.frags.push({ start: offset, data: data.slice() });
        p.bytes += data.length;
        this.#bytes += data.length;
        if (p.total === -1 || p.bytes !== p.total)
            return undefined;
        // No overlaps and the byte count equals the total: the fragments tile the datagram.
        const out = new Uint8Array(p.total);
        for (const f of p.frags)
            out.set(f.data, f.start);
        this.#drop(key);
        this.counters.completed++;
        return out;
    }
    #reject(key) {
        this.#drop(key);
        this.counters.dropped++;
        return undefined;
    }
    #drop(key) {
        const p = this.#table.get(key);
        if (!p)
            return;
        p.timer.cancel();
        this.#bytes -= p.bytes;
        this.#table.delete(key);
    }
    clear() {
        for (const k of [...this.#table.keys()])
            this.#drop(k);
    }
}
//# sourceMappingURL=reassembly.js.map