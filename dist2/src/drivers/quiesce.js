// A frontend's suspend gate, shared by blkfront's and netfront's datapaths: while held, the
// datapath issues nothing new, and a suspend waits until what is in flight is answered.
export class SuspendGate {
    /** Set from quiesce() until release(): the datapath issues nothing new. */
    held = false;
    #onQuiet = null;
    /** Hold; resolves once `inFlight` reaches 0 (the datapath reports it through settled()). */
    quiesce(inFlight) {
        this.held = true;
        if (inFlight === 0)
            return Promise.resolve();
        return new Promise((resolve) => (this.#onQuiet = () => {
            this.#onQuiet = null;
            resolve();
        }));
    }
    /** After a suspend that was cancelled (the domain runs on in place). */
    release() {
        this.held = false;
        this.#onQuiet = null;
    }
    /** A response came in: a waiting quiesce resolves when nothing is left in flight. */
    settled(inFlight) {
        if (this.#onQuiet && inFlight === 0)
            this.#onQuiet();
    }
}
//# sourceMappingURL=quiesce.js.map