// Progress of anything that may take more than a second (booting many guests, writing a large
// image): silent for the first second, then a bar that redraws itself on a terminal (coloured
// there only), or a plain line per second when the output goes to a file or a pipe.
import { styleText } from 'node:util';
const QUIET_MS = 1000;
const REDRAW_MS = 100;
const BAR_WIDTH = 30;
export class Progress {
    what;
    total;
    out;
    #t0 = performance.now();
    #last = 0;
    #shown = false;
    #tty;
    constructor(what, total, out = process.stderr) {
        this.what = what;
        this.total = total;
        this.out = out;
        this.#tty = out.isTTY === true;
    }
    update(done) {
        const now = performance.now();
        const elapsed = now - this.#t0;
        if (elapsed < QUIET_MS || now - this.#last < (this.#tty ? REDRAW_MS : 1000))
            return;
        this.#last = now;
        this.#shown = true;
        const secs = `${(elapsed / 1000).toFixed(1)} s`;
        if (!this.#tty) {
            this.out.write(`${this.what}: ${done}/${this.total} after ${secs}\n`);
            return;
        }
        const filled = Math.round((done / this.total) * BAR_WIDTH);
        const bar = styleText('cyan', '#'.repeat(filled)) + styleText('dim', '.'.repeat(BAR_WIDTH - filled));
        this.out.write(`\r\x1b[K[${bar}] ${done}/${this.total} ${this.what}  ${secs}`);
    }
    /** Take the bar off the terminal (the caller prints the result). */
    finish() {
        if (this.#shown && this.#tty)
            this.out.write('\r\x1b[K');
    }
}
//# sourceMappingURL=progress.js.map