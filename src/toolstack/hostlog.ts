// The host's log: every domain event and host message as one JSON object per line in the state
// dir's log file (for machines), a bounded ring of the latest ones (for `xenode dmesg`, as Xen
// keeps its console ring), and an event feed for API subscribers (`xenode run`, `shutdown -w`).
import { EventEmitter } from 'node:events';
import { closeSync, openSync, writeSync } from 'node:fs';
import type { HostEvent, HostEventBody } from './contract.js';
import type { Host } from './host.js';

export interface HostLogOptions {
  /** Append JSON lines here (created 0600); none when absent. */
  readonly file?: string;
  /** Entries kept for dmesg. */
  readonly limit?: number;
  /** Also sees each entry (the foreground daemon prints them). */
  readonly echo?: (e: HostEvent) => void;
}

export class HostLog extends EventEmitter<{ event: [HostEvent] }> {
  #ring: HostEvent[] = [];
  #limit: number;
  #fd: number | null;
  #echo: ((e: HostEvent) => void) | undefined;

  constructor(opts: HostLogOptions = {}) {
    super();
    this.#limit = opts.limit ?? 2000;
    // Written synchronously: the log must survive the host dying right after an event.
    this.#fd = opts.file ? openSync(opts.file, 'a', 0o600) : null;
    this.#echo = opts.echo;
  }

  record(body: HostEventBody): HostEvent {
    const e = { ...body, time: new Date().toISOString() } as HostEvent;
    this.#ring.push(e);
    if (this.#ring.length > this.#limit) this.#ring.splice(0, this.#ring.length - this.#limit);
    if (this.#fd !== null) writeSync(this.#fd, `${JSON.stringify(e)}\n`);
    this.#echo?.(e);
    this.emit('event', e);
    return e;
  }

  message(text: string): void {
    this.record({ type: 'message', text });
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

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}
