export class GuestTime {
    #hc;
    // Deadlines in performance.now() ms, kept sorted; a guest has few sleepers at a time.
    #sleepers = [];
    #armed = 0;
    constructor(hc) {
        this.#hc = hc;
    }
    monotonic() {
        return process.hrtime.bigint();
    }
    wallclock() {
        return new Date();
    }
    sleep(ms, opts = {}) {
        if (!Number.isFinite(ms) || ms < 0)
            return Promise.reject(new RangeError(`sleep: bad duration ${ms}`));
        const { signal } = opts;
        if (signal?.aborted)
            return Promise.reject(signal.reason);
        const at = performance.now() + ms;
        return new Promise((resolve, reject) => {
            const abort = () => {
                const i = this.#sleepers.indexOf(sleeper);
                if (i >= 0)
                    this.#sleepers.splice(i, 1);
                this.#arm();
                reject(signal.reason);
            };
            const sleeper = {
                at,
                wake: () => {
                    signal?.removeEventListener('abort', abort);
                    resolve();
                },
            };
            let i = this.#sleepers.length;
            while (i > 0 && this.#sleepers[i - 1].at > at)
                i--;
            this.#sleepers.splice(i, 0, sleeper);
            signal?.addEventListener('abort', abort, { once: true });
            this.#arm();
        });
    }
    /** Sleepers waiting (cancelled ones are not). */
    get sleepers() {
        return this.#sleepers.length;
    }
    /** The VIRQ_TIMER handler. */
    onTimer() {
        const now = performance.now();
        let n = 0;
        while (n < this.#sleepers.length && this.#sleepers[n].at <= now)
            n++;
        const due = this.#sleepers.splice(0, n);
        this.#armed = 0;
        this.#arm();
        for (const s of due)
            s.wake();
    }
    #arm() {
        const first = this.#sleepers[0]?.at ?? 0;
        if (first === this.#armed)
            return;
        this.#armed = first;
        this.#hc.setTimer(first);
    }
}
//# sourceMappingURL=time.js.map