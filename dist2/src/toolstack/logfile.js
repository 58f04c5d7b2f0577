// A log file that never blocks dom0's thread and never fills the disk: lines are queued and
// written by one writer in the background (libuv's thread pool does the I/O), the queue is
// bounded (lines past it are counted and the count written once there is room), and the
// file rotates as logrotate would rotate it (host.log -> host.log.1 -> ...), keeping a fixed
// number of files. On the way out of the process whatever is still queued is written
// synchronously, so a host that dies of an uncaught error still logs why.
import { close, closeSync, fstat, fsync, open, openSync, rename, write, writeSync } from 'node:fs';
import { promisify } from 'node:util';
const writeAsync = promisify(write);
const openAsync = promisify(open);
const closeAsync = promisify(close);
const renameAsync = promisify(rename);
const fstatAsync = promisify(fstat);
const fsyncAsync = promisify(fsync);
export const DEFAULT_LOG_QUEUE_BYTES = 1 << 20;
export const DEFAULT_LOG_ROTATE_BYTES = 4 << 20;
export const DEFAULT_LOG_KEEP = 3;
export class LogFile {
    path;
    #maxQueueBytes;
    #rotateBytes;
    #keep;
    #droppedLine;
    #fd;
    #size = 0;
    #queue = [];
    #queueBytes = 0;
    #dropped = 0;
    #writing = null;
    #closed = false;
    #onExit = () => this.#flushSync();
    /** Opens (creates, 0600) the file now, so that a path that cannot be written fails here. */
    constructor(path, opts) {
        this.path = path;
        this.#maxQueueBytes = opts.maxQueueBytes ?? DEFAULT_LOG_QUEUE_BYTES;
        this.#rotateBytes = opts.rotateBytes ?? DEFAULT_LOG_ROTATE_BYTES;
        this.#keep = Math.max(1, opts.keep ?? DEFAULT_LOG_KEEP);
        this.#droppedLine = opts.droppedLine;
        this.#fd = openSync(path, 'a', 0o600);
        this.#size = -1; // learnt by the writer before its first write
        process.on('exit', this.#onExit);
    }
    /** Queue one line (without its newline); false if it was dropped. */
    append(line) {
        if (this.#closed)
            return false;
        const bytes = Buffer.byteLength(line) + 1;
        if (this.#queueBytes + bytes > this.#maxQueueBytes) {
            this.#dropped++;
            return false;
        }
        this.#queue.push(line);
        this.#queueBytes += bytes;
        this.#writing ??= this.#drain();
        return true;
    }
    /** Lines dropped and not yet reported in the file. */
    get dropped() {
        return this.#dropped;
    }
    async #drain() {
        try {
            if (this.#size < 0)
                this.#size = (await fstatAsync(this.#fd)).size;
            while (this.#queue.length || this.#dropped) {
                const buf = this.#take();
                await writeAsync(this.#fd, buf);
                this.#size += buf.length;
                if (this.#size >= this.#rotateBytes)
                    await this.#rotate();
            }
        }
        catch {
            // The disk is full or gone: logging must not take the host down; lines are dropped.
            this.#dropped += this.#queue.length;
            this.#queue = [];
            this.#queueBytes = 0;
        }
        finally {
            this.#writing = null;
        }
    }
    /** Everything queued as one buffer, the dropped count after it (it happened after them). */
    #take() {
        const lines = this.#queue;
        if (this.#dropped)
            lines.push(this.#droppedLine(this.#dropped));
        this.#dropped = 0;
        this.#queue = [];
        this.#queueBytes = 0;
        return Buffer.from(`${lines.join('\n')}\n`);
    }
    async #rotate() {
        await fsyncAsync(this.#fd).catch(() => { });
        await closeAsync(this.#fd);
        for (let i = this.#keep - 1; i >= 1; i--) {
            await renameAsync(i === 1 ? this.path : `${this.path}.${i - 1}`, `${this.path}.${i}`).catch(() => { });
        }
        // With one file kept, rotating starts it afresh.
        this.#fd = await openAsync(this.path, this.#keep === 1 ? 'w' : 'a', 0o600);
        this.#size = 0;
    }
    #flushSync() {
        if (this.#closed || (!this.#queue.length && !this.#dropped))
            return;
        // An async write may be in flight; appending after it keeps the order of whole lines.
        try {
            writeSync(this.#fd, this.#take());
        }
        catch {
            // Nothing more can be done on the way out.
        }
    }
    /** Resolves once every line queued so far is in the file. */
    async flush() {
        while (this.#writing)
            await this.#writing;
    }
    /** Write what is queued, then close. */
    async close() {
        if (this.#closed)
            return;
        await this.flush();
        this.#closed = true;
        process.off('exit', this.#onExit);
        closeSync(this.#fd);
    }
}
//# sourceMappingURL=logfile.js.map