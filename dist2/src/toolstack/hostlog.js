// The host's log: every domain event and host message as one JSON object per line in the state
// dir's log file (for machines; bounded and written in the background, logfile.ts), a bounded
// ring of the latest ones (for `xenode dmesg`, as Xen keeps its console ring), and an event
// feed for API subscribers (`xenode run`, `shutdown -w`). Repeated messages are rate-limited.
import { EventEmitter } from 'node:events';
import { LogFile } from './logfile.js';
import { RateLimiter } from './ratelimit.js';
function stamp(body) {
    return { ...body, time: new Date().toISOString() };
}
export class HostLog extends EventEmitter {
    #ring = [];
    #limit;
    #file;
    #echo;
    #limiter;
    constructor(opts = {}) {
        super();
        this.#limit = opts.limit ?? 2000;
        this.#file = opts.file ? new LogFile(opts.file, {
            ...opts.fileLimits,
            droppedLine: (n) => JSON.stringify(stamp({ type: 'message', text: `host.log: ${n} entries dropped: the disk was slower than the host` })),
        }) : null;
        this.#echo = opts.echo;
        this.#limiter = new RateLimiter({
            ...opts.rateLimit,
            onSuppressed: (sample, n) => this.record({ type: 'message', text: `${n} more messages like this suppressed: ${sample}` }),
        });
    }
    record(body) {
        const e = stamp(body);
        this.#ring.push(e);
        if (this.#ring.length > this.#limit)
            this.#ring.splice(0, this.#ring.length - this.#limit);
        this.#file?.append(JSON.stringify(e));
        this.#echo?.(e);
        this.emit('event', e);
        return e;
    }
    message(text) {
        if (this.#limiter.allow(text))
            this.record({ type: 'message', text });
    }
    /** Record the host's domain events from now on. */
    attach(host) {
        host.on('created', (domid, name) => this.record({ type: 'created', domid, name }));
        host.on('paused', (domid, name) => this.record({ type: 'paused', domid, name }));
        host.on('unpaused', (domid, name) => this.record({ type: 'unpaused', domid, name }));
        host.on('renamed', (domid, name, from) => this.record({ type: 'renamed', domid, name, from }));
        host.on('shutdown', (domid, name, reason, action, taken) => this.record({ type: 'shutdown', domid, name, reason, action, taken }));
        host.on('destroyed', (domid, name) => this.record({ type: 'destroyed', domid, name }));
        host.on('restarted', (from, domid, name) => this.record({ type: 'restarted', domid, name, from }));
        host.on('restartFailed', (domid, name, error) => this.record({ type: 'restart-failed', domid, name, error }));
    }
    /** The kept entries, oldest first. */
    entries() {
        return this.#ring;
    }
    clear() {
        this.#ring = [];
    }
    /** Resolves once every entry so far is in the file. */
    async flushed() {
        await this.#file?.flush();
    }
    /** Stop: what is queued for the file is written first. */
    async close() {
        this.#limiter.close();
        await this.#file?.close();
        this.#file = null;
    }
}
//# sourceMappingURL=hostlog.js.map