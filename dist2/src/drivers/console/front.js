// The guest end of the PV console (as a Mini-OS or Linux hvc_xen frontend): output goes into
// the page's out ring and an event tells the console daemon in dom0; input arrives in the in
// ring. Output that does not fit waits for the daemon to make room.
import { ByteRing } from './ring.js';
const encoder = new TextEncoder();
export class ConsoleFront {
    #out;
    #in;
    #port;
    #queue = [];
    #flushed = [];
    #input = new Set();
    #broken = false;
    constructor(page, port) {
        this.#out = new ByteRing(page, 'out', 'producer');
        this.#in = new ByteRing(page, 'in', 'consumer');
        this.#port = port;
        port.onEvent(() => {
            this.#pump();
            this.#readInput();
        });
    }
    write(data) {
        if (this.#broken)
            return;
        this.#queue.push(typeof data === 'string' ? encoder.encode(data) : data.slice());
        this.#pump();
    }
    /** Resolves once everything written so far is in the ring, where the daemon will find it. */
    flush() {
        if (this.#queue.length === 0 || this.#broken)
            return Promise.resolve();
        return new Promise((resolve) => this.#flushed.push(resolve));
    }
    onInput(handler) {
        this.#input.add(handler);
        return () => this.#input.delete(handler);
    }
    #pump() {
        let wrote = false;
        try {
            while (this.#queue.length) {
                const head = this.#queue[0];
                const n = this.#out.write(head);
                if (n > 0)
                    wrote = true;
                if (n < head.length) {
                    this.#queue[0] = head.subarray(n);
                    break; // ring full: the daemon's event brings us back
                }
                this.#queue.shift();
            }
        }
        catch {
            // Our own page was scribbled on: the console is lost to us, and only to us.
            this.#broken = true;
            this.#queue = [];
        }
        if (wrote)
            this.#port.notify();
        if (this.#queue.length === 0)
            for (const f of this.#flushed.splice(0))
                f();
    }
    #readInput() {
        if (this.#broken || this.#in.pending === 0)
            return;
        let data;
        try {
            data = this.#in.read();
        }
        catch {
            return;
        }
        this.#port.notify();
        for (const h of this.#input)
            h(data);
    }
}
//# sourceMappingURL=front.js.map