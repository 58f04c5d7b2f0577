// Repeated log lines, limited as Linux's printk_ratelimit limits them: a client that makes the
// host say the same thing a thousand times a second (a flood of connections xenstored drops)
// gets `burst` lines per interval, and one line saying how many more were suppressed.
/** Lines differing only in numbers (domids, ports, counts) are of one kind. */
export function lineKind(line) {
    return line.replace(/\d+/g, '#');
}
const OTHER_KINDS = '\0other';
export class RateLimiter {
    #windows = new Map();
    #burst;
    #intervalMs;
    #maxKinds;
    #onSuppressed;
    #now;
    #sweeper;
    constructor(opts) {
        this.#burst = opts.burst ?? 10;
        this.#intervalMs = opts.intervalMs ?? 5000;
        this.#maxKinds = opts.maxKinds ?? 256;
        this.#onSuppressed = opts.onSuppressed;
        this.#now = opts.now ?? (() => performance.now());
    }
    /** Whether to log this line now. */
    allow(line) {
        const now = this.#now();
        this.sweep(now);
        let kind = lineKind(line);
        let w = this.#windows.get(kind);
        if (!w && this.#windows.size >= this.#maxKinds)
            w = this.#windows.get((kind = OTHER_KINDS));
        if (!w)
            this.#windows.set(kind, (w = { start: now, passed: 0, suppressed: 0, sample: line }));
        if (w.passed < this.#burst) {
            w.passed++;
            return true;
        }
        w.suppressed++;
        w.sample = line;
        // Say how many were suppressed even if the flood stops for good.
        this.#sweeper ??= setInterval(() => this.sweep(this.#now()), this.#intervalMs).unref();
        return false;
    }
    /** End the windows that are over, reporting what they suppressed. */
    sweep(now) {
        for (const [kind, w] of this.#windows) {
            if (now - w.start < this.#intervalMs)
                continue;
            this.#windows.delete(kind);
            if (w.suppressed)
                this.#onSuppressed(w.sample, w.suppressed);
        }
        if (this.#windows.size === 0)
            this.close();
    }
    close() {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
    }
}
//# sourceMappingURL=ratelimit.js.map