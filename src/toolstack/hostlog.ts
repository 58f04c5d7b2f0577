// The host's log: every domain event and host message as one JSON object per line in the state
// dir's log file (for machines; bounded and written in the background, logfile.ts), a bounded
// ring of the latest ones (for `xenode dmesg`, as Xen keeps its console ring), and an event
// feed for API subscribers (`xenode run`, `shutdown -w`). Repeated messages are rate-limited.
import { EventEmitter } from 'node:events';
import type { ShutdownReason } from '../abi/xen.js';
import type { ShutdownAction } from './domconfig.js';
import type { Host } from './host.js';
import { LogFile, type LogFileOptions } from './logfile.js';
import { RateLimiter, type RateLimitOptions } from './ratelimit.js';

export type HostEventBody =
  | { readonly type: 'created' | 'destroyed' | 'paused' | 'unpaused'; readonly domid: number; readonly name: string }
  | { readonly type: 'shutdown'; readonly domid: number; readonly name: string; readonly reason: ShutdownReason; readonly action: ShutdownAction }
  | { readonly type: 'restarted'; readonly domid: number; readonly name: string; readonly from: number }
  | { readonly type: 'restart-failed'; readonly domid: number; readonly name: string; readonly error: string }
  | { readonly type: 'renamed'; readonly domid: number; readonly name: string; readonly from: string }
  | { readonly type: 'message'; readonly text: string }
  | { readonly type: 'host'; readonly state: 'started' | 'stopping' | 'stopped'; readonly pid: number };

/** One line of the log: what happened, and when (ISO 8601, UTC). */
export type HostEvent = HostEventBody & { readonly time: string };

function stamp(body: HostEventBody): HostEvent {
  return { ...body, time: new Date().toISOString() } as HostEvent;
}

/** The event as a sentence, the way dmesg shows it. */
function describeEvent(e: HostEventBody): string {
  switch (e.type) {
    case 'created': return `d${e.domid} '${e.name}': created`;
    case 'destroyed': return `d${e.domid} '${e.name}': destroyed`;
    case 'paused': return `d${e.domid} '${e.name}': paused`;
    case 'unpaused': return `d${e.domid} '${e.name}': unpaused`;
    case 'shutdown': return `d${e.domid} '${e.name}': shut down (${e.reason}); action ${e.action}`;
    case 'restarted': return `d${e.from} '${e.name}': restarted as d${e.domid}`;
    case 'restart-failed': return `d${e.domid} '${e.name}': restart failed: ${e.error}`;
    case 'renamed': return `d${e.domid}: renamed from '${e.from}' to '${e.name}'`;
    case 'message': return e.text;
    case 'host': return `host ${e.state} (pid ${e.pid})`;
  }
}

/** Xen's console timestamp format with console_timestamps=datems: [YYYY-MM-DD HH:MM:SS.mmm]. */
export function dmesgLine(e: HostEvent): string {
  return `(XEN) [${e.time.slice(0, 10)} ${e.time.slice(11, 23)}] ${describeEvent(e)}`;
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
    host.on('shutdown', (domid, name, reason, action) => this.record({ type: 'shutdown', domid, name, reason, action }));
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
