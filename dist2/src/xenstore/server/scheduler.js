// Fair service: xenstored shares dom0's thread with the backends and the toolstack, so no
// connection may hold it for long. Input that arrives while no connection waits is served at
// once, inside the callback that read it, up to REQUESTS_PER_CONNECTION requests (so a lone
// request is answered in the same turn). Whatever is left waits its turn: waiting connections
// are served round robin, each at most REQUESTS_PER_CONNECTION per round and all of them together
// at most REQUESTS_PER_TURN per turn of dom0's event loop (EVENTS_PER_REQUEST watch events fired
// count as one more request); then xenstored yields (setImmediate)
// so I/O, backends and newly arrived clients get in before the next turn.
/** At most this many requests of one connection are handled per turn. */
export const REQUESTS_PER_CONNECTION = 32;
/** At most this many requests are handled per turn of dom0's event loop, over all connections. */
export const REQUESTS_PER_TURN = 256;
/** Watch events a request's share of a turn covers: a write that fires many watches costs more of the turn. */
export const EVENTS_PER_REQUEST = 8;
export class Scheduler {
    /** Connections with work, in turn order (a Set keeps insertion order). */
    #ready = new Set();
    #tickQueued = false;
    #jobs = [];
    /** Watch events queued since the count was last taken. */
    #events = 0;
    /** `n` watch events were queued: they count against the turn. */
    charge(n) {
        this.#events += n;
    }
    /** Go on with `job` in the coming turns, a share of each turn at a time. */
    defer(job) {
        if (!this.#jobs.includes(job))
            this.#jobs.push(job);
        this.#queueTick();
    }
    /** `c` may have work: serve it now if nobody is waiting, else queue it for its turn. */
    wake(c) {
        if (this.#ready.has(c) || !c.runnable)
            return;
        if (this.#ready.size === 0)
            c.serve(REQUESTS_PER_CONNECTION);
        if (!c.runnable)
            return;
        this.#ready.add(c);
        this.#queueTick();
    }
    #queueTick() {
        if (this.#tickQueued)
            return;
        this.#tickQueued = true;
        setImmediate(() => this.#tick());
    }
    #tick() {
        this.#tickQueued = false;
        let budget = REQUESTS_PER_TURN;
        // Deferred work gets half a turn, so connections keep being served meanwhile.
        for (const job of this.#jobs) {
            budget -= Math.ceil(job.run((REQUESTS_PER_TURN / 2) * EVENTS_PER_REQUEST) / EVENTS_PER_REQUEST);
            if (budget <= REQUESTS_PER_TURN / 2)
                break;
        }
        this.#jobs = this.#jobs.filter((j) => j.pending());
        while (budget > 0 && this.#ready.size > 0) {
            // One round: everyone waiting now gets a go, in order; those with more go to the back.
            for (const c of [...this.#ready]) {
                if (budget <= 0)
                    break;
                this.#ready.delete(c);
                this.#events = 0;
                budget -= c.serve(Math.min(REQUESTS_PER_CONNECTION, budget)) + Math.floor(this.#events / EVENTS_PER_REQUEST);
                if (c.runnable)
                    this.#ready.add(c);
            }
        }
        if (this.#ready.size > 0 || this.#jobs.length > 0)
            this.#queueTick();
    }
}
//# sourceMappingURL=scheduler.js.map