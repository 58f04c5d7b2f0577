// The host's log: every domain event and host message as one JSON object per line in the state
// dir's log file (for machines; bounded and written in the background, logfile.ts), a bounded
// ring of the latest ones (for `xenode dmesg`, as Xen keeps its console ring), and an event
// feed for API subscribers (`xenode run`, `shutdown -w`). Repeated messages are rate-limited.
import { EventEmitter } from 'node:events';
import type { HostEvent, HostEventBody } from './contract.js';
import type { Host } from './host.js';
import { LogFile, type LogFileOptions } from './logfile.js';
import { RateLimiter, type RateLimitOptions } from './ratelimit.js';

function stamp(body: HostEventBody): HostEvent {
  return { ...body, time: new Date().toISOString() } as HostEvent;
}

export interface HostLogOptions {
  /** Append JSON lines here (created 0600); none when absent. */
  readonly file?: string;
  /** Bounds of the file (queue, rotation). */
  readonly fileLimits?: Omit<LogFileOptions, 'droppedLine'>;
  /** How often one kind of message may be logged. */
  readonly rateLimit?: Omit<RateLimitOptions, 'onSuppressed'>;
  /** Entries kept for dmesg. */
  readonly limit?: number;
  /** Also sees each entry (the foreground daemon prints them). */
  readonly echo?: (e: HostEvent) => void;
}

export class HostLog extends EventEmitter<{ event: [HostEvent] }> {
  #ring: HostEvent[] = [];
  #limit: number;
  #file: LogFile | null;
  #echo: ((e: HostEvent) => void) | undefined;
  #limiter: RateLimiter;

  constructor(opts: HostLogOptions = {}) {
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

  record(body: HostEventBody): HostEvent {
    const e = stamp(body);
    this.#ring.push(e);
    if (this.#ring.length > this.#limit) this.#ring.splice(0, this.#ring.length - this.#limit);
    this.#file?.append(JSON.stringify(e));
    this.#echo?.(e);
    this.emit('event', e);
    return e;
  }

  message(text: string): void {
    if (this.#limiter.allow(text)) this.record({ type: 'message', text });
  }

  /** Record the host's domain events from now on. */
  attach(host: Host): void {
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
  entries(): readonly HostEvent[] {
    return this.#ring;
  }

  clear(): void {
    this.#ring = [];
  }

  /** Resolves once every entry so far is in the file. */
  async flushed(): Promise<void> {
    await this.#file?.flush();
  }

  /** Stop: what is queued for the file is written first. */
  async close(): Promise<void> {
    this.#limiter.close();
    await this.#file?.close();
    this.#file = null;
  }
}
