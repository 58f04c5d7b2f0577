// A bounded table of UDP flows with idle timeouts: the least recently used flow goes first when
// the table is full, and a flow nobody used for `idleMs` ends by itself.
export class FlowTable {
    max;
    idleMs;
    onEnd;
    /** In least-recently-used order. */
    #slots = new Map();
    evicted = 0;
    /** `onEnd` closes a flow that leaves the table (idle, evicted, ended, cleared). */
    constructor(max, idleMs, onEnd) {
        this.max = max;
        this.idleMs = idleMs;
        this.onEnd = onEnd;
    }
    get size() {
        return this.#slots.size;
    }
    /** The flow at `key`, now the most recently used, its idle time restarted. */
    touch(key) {
        const s = this.#slots.get(key);
        if (!s)
            return undefined;
        this.#slots.delete(key);
        this.#slots.set(key, s);
        s.timer.refresh();
        return s.flow;
    }
    /** Add a flow at a new key, evicting the least recently used one when the table is full. */
    add(key, flow) {
        if (this.#slots.size >= this.max) {
            this.evicted++;
            this.end(this.#slots.keys().next().value);
        }
        this.#slots.set(key, { flow, timer: setTimeout(() => this.end(key, flow), this.idleMs).unref() });
        return flow;
    }
    /** Traffic for `flow` at `key`: its idle time restarts (false if it is no longer there). */
    refresh(key, flow) {
        const s = this.#slots.get(key);
        if (!s || s.flow !== flow)
            return false;
        s.timer.refresh();
        return true;
    }
    /** End the flow at `key` (only if it is `flow`, when given). */
    end(key, flow) {
        const s = this.#slots.get(key);
        if (!s || (flow !== undefined && s.flow !== flow))
            return;
        this.#slots.delete(key);
        clearTimeout(s.timer);
        this.onEnd(s.flow);
    }
    clear() {
        for (const k of [...this.#slots.keys()])
            this.end(k);
    }
}
//# sourceMappingURL=flowtable.js.map