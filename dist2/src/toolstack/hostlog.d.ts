import { EventEmitter } from 'node:events';
import type { HostEvent, HostEventBody } from './contract.js';
import type { Host } from './host.js';
import { type LogFileOptions } from './logfile.js';
import { type RateLimitOptions } from './ratelimit.js';
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
export declare class HostLog extends EventEmitter<{
    event: [HostEvent];
}> {
    #private;
    constructor(opts?: HostLogOptions);
    record(body: HostEventBody): HostEvent;
    message(text: string): void;
    /** Record the host's domain events from now on. */
    attach(host: Host): void;
    /** The kept entries, oldest first. */
    entries(): readonly HostEvent[];
    clear(): void;
    /** Resolves once every entry so far is in the file. */
    flushed(): Promise<void>;
    /** Stop: what is queued for the file is written first. */
    close(): Promise<void>;
}
