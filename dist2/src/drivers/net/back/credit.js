const MAX_BURST_CAP = 131072;
export class Credit {
    #rate;
    #remaining;
    #windowStart;
    #now;
    constructor(rate, now = () => performance.now()) {
        this.#rate = rate;
        this.#now = now;
        this.#remaining = rate ? rate.bytes : Infinity;
        this.#windowStart = now();
    }
    get rate() {
        return this.#rate;
    }
    /** xen_net_rate_changed: `waiting` says a packet is held for credit (it is looked at again now). */
    set(rate, waiting) {
        this.#rate = rate;
        if (!rate)
            this.#remaining = Infinity;
        else if (!waiting && this.#remaining > rate.bytes)
            this.#remaining = rate.bytes;
    }
    /** Take `size` bytes of credit: 0 if given, else the ms until the next window opens. */
    take(size) {
        const rate = this.#rate;
        if (!rate)
            return 0;
        const now = this.#now();
        const windowMs = rate.usecs / 1000;
        const next = this.#windowStart + windowMs;
        if (now >= next) {
            this.#windowStart = now;
            const maxBurst = Math.max(rate.bytes, Math.min(size, MAX_BURST_CAP));
            this.#remaining = Math.min(this.#remaining + rate.bytes, maxBurst);
        }
        if (size > this.#remaining)
            return Math.max(1, this.#windowStart + windowMs - now);
        this.#remaining -= size;
        return 0;
    }
}
//# sourceMappingURL=credit.js.map