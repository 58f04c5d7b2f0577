import { XenError } from '../errors.js';
const HIGH_WATER = 8 << 20;
export class ByteSource {
    #stream;
    #stallMs;
    #chunks = [];
    #buffered = 0;
    #ended = false;
    #error = null;
    #wake = null;
    /** Octets handed out so far. */
    offset = 0;
    constructor(stream, opts) {
        this.#stream = stream;
        this.#stallMs = opts.stallMs;
        stream.on('data', (b) => {
            this.#chunks.push(b);
            this.#buffered += b.length;
            if (this.#buffered > HIGH_WATER)
                stream.pause();
            this.#wake?.();
        });
        stream.on('end', () => {
            this.#ended = true;
            this.#wake?.();
        });
        stream.on('error', (e) => {
            this.#error = e;
            this.#wake?.();
        });
    }
    /** Exactly `n` octets; `what` names them in errors. */
    async read(n, what) {
        while (this.#buffered < n) {
            if (this.#error)
                throw new XenError('EIO', `reading ${what} at offset ${this.offset}: ${this.#error.message}`);
            if (this.#ended)
                throw new XenError('EINVAL', `the stream is truncated: ${what} at offset ${this.offset} needs ${n} octets, ${this.#buffered} are left`);
            this.#stream.resume();
            let timer;
            const stalled = await new Promise((resolve) => {
                this.#wake = () => resolve(false);
                timer = setTimeout(() => resolve(true), this.#stallMs);
            });
            clearTimeout(timer);
            this.#wake = null;
            if (stalled)
                throw new XenError('ETIMEDOUT', `the stream stalled: nothing came for ${this.#stallMs} ms while reading ${what} at offset ${this.offset}`);
        }
        const out = this.#take(n);
        this.offset += n;
        if (this.#buffered <= HIGH_WATER)
            this.#stream.resume();
        return out;
    }
    #take(n) {
        const first = this.#chunks[0];
        if (first && first.length >= n) {
            const out = first.subarray(0, n);
            if (first.length === n)
                this.#chunks.shift();
            else
                this.#chunks[0] = first.subarray(n);
            this.#buffered -= n;
            return out;
        }
        const out = Buffer.allocUnsafe(n);
        let at = 0;
        while (at < n) {
            const c = this.#chunks[0];
            const k = Math.min(c.length, n - at);
            c.copy(out, at, 0, k);
            at += k;
            if (k === c.length)
                this.#chunks.shift();
            else
                this.#chunks[0] = c.subarray(k);
        }
        this.#buffered -= n;
        return out;
    }
    /** Stop reading (the rest is not ours). */
    close() {
        this.#stream.pause();
        this.#stream.removeAllListeners('data');
    }
}
//# sourceMappingURL=source.js.map