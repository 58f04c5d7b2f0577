import { Buffer } from 'node:buffer';
import { XenError } from '../../errors.js';
import { type XsClientTransport } from './transport.js';
import type { DomainRing } from '../common/ring.js';
export type XsPermLetter = 'n' | 'r' | 'w' | 'b';
/** One entry of a node's permission list; the first entry names the owner and everyone's default. */
export interface XsPerm {
    domid: number;
    perm: XsPermLetter;
}
export interface XsWatchEvent {
    /** The node that changed (or the special path @introduceDomain / @releaseDomain). */
    path: string;
    token: string;
}
export interface XsTransactionOptions {
    /** Attempts before an EAGAIN (conflicting commit) is given up and thrown; default 16. */
    maxAttempts?: number;
}
export interface XsWaitOptions {
    /** Milliseconds before wait() rejects with ETIMEDOUT. */
    timeout?: number;
}
/** The path of a domain's home directory, `/local/domain/<domid>`, plus optional relative parts. */
export declare function localDomainPath(domid: number, ...rel: string[]): string;
/** Sends one request and resolves with its reply payload; implemented by XenstoreClient. */
type Call = (type: number, txId: number, what: string, parts: readonly (string | Uint8Array)[], rawLast?: boolean) => Promise<Buffer>;
/** The node operations, outside a transaction (XenstoreClient) or inside one (XsTransaction). */
export declare abstract class XsNodeOps {
    #private;
    protected abstract readonly call: Call;
    /** The transaction id these operations carry (0: none). */
    abstract readonly txId: number;
    /** A node's value as bytes. */
    readBytes(path: string): Promise<Uint8Array>;
    /** A node's value (UTF-8); rejects with ENOENT if it does not exist. */
    read(path: string): Promise<string>;
    /** A node's value, or undefined if it does not exist. */
    readOptional(path: string): Promise<string | undefined>;
    /** Whether a node exists (and is readable), as xenstore-exists decides it. */
    exists(path: string): Promise<boolean>;
    /** Create or overwrite a node (and any missing parents). */
    write(path: string, value: string | Uint8Array): Promise<void>;
    /** Create a node with an empty value if it does not exist. */
    mkdir(path: string): Promise<void>;
    /** Remove a node and everything below it. */
    rm(path: string): Promise<void>;
    /** A node's children's names. Falls back to XS_DIRECTORY_PART when the list exceeds a packet. */
    directory(path: string): Promise<string[]>;
    getPerms(path: string): Promise<XsPerm[]>;
    /** Set a node's permissions: the first entry is the owner and the default for other domains. */
    setPerms(path: string, perms: readonly XsPerm[]): Promise<void>;
}
/** Operations inside one transaction (see XenstoreClient.transaction). */
export declare class XsTransaction extends XsNodeOps {
    protected readonly call: Call;
    readonly txId: number;
    constructor(call: Call, txId: number);
}
/**
 * A registered watch. Iterate it (`for await (const ev of w)`), or give watch() a callback;
 * leaving the loop or calling unwatch() removes the watch from xenstored.
 */
export declare class XsWatch implements AsyncIterableIterator<XsWatchEvent> {
    #private;
    readonly path: string;
    readonly token: string;
    private readonly remove;
    private readonly handler;
    private readonly maxQueued;
    constructor(path: string, token: string, remove: (w: XsWatch) => Promise<void>, handler: ((ev: XsWatchEvent) => void) | undefined, maxQueued: number);
    /** @internal an event from xenstored. */
    deliver(ev: XsWatchEvent): void;
    /** @internal no more events: cleanly (null) or with an error for the iterator. */
    end(err: XenError | null): void;
    next(): Promise<IteratorResult<XsWatchEvent>>;
    return(): Promise<IteratorResult<XsWatchEvent>>;
    [Symbol.asyncIterator](): this;
    /** Remove the watch (XS_UNWATCH); idempotent. Ends iteration. */
    unwatch(): Promise<void>;
}
/** A connection to xenstored. */
export declare class XenstoreClient extends XsNodeOps {
    #private;
    readonly txId = 0;
    /** Connect to xenstored's Unix socket. */
    static connect(socketPath: string): Promise<XenstoreClient>;
    /** A guest's connection over its xenstore ring page and event channel. */
    static overRing(ring: DomainRing): XenstoreClient;
    constructor(transport: XsClientTransport);
    protected readonly call: Call;
    /** Whether the connection is closed (every call rejects with ENOTCONN). */
    get closed(): boolean;
    /** Call `handler` once when the connection closes, with why. Returns an unsubscribe function. */
    onClose(handler: (err: XenError) => void): () => void;
    close(): void;
    /**
     * Run `fn` in a transaction and commit it; a conflicting commit (EAGAIN) runs `fn` again in a
     * new transaction, up to maxAttempts times. If `fn` throws, the transaction is aborted.
     */
    transaction<T>(fn: (tx: XsTransaction) => Promise<T>, opts?: XsTransactionOptions): Promise<T>;
    /**
     * Watch `path` and everything below it. xenstored fires one event at once, then one per change.
     * Without a callback the events are read by iterating the returned XsWatch.
     */
    watch(path: string, token?: string): Promise<XsWatch>;
    watch(path: string, handler: (ev: XsWatchEvent) => void, token?: string): Promise<XsWatch>;
    /** Remove a watch by path and token. */
    unwatch(path: string, token: string): Promise<void>;
    /**
     * Resolve with the value of `path` (undefined: absent) once `predicate` accepts it, checking
     * now and after every change. Rejects with ETIMEDOUT after opts.timeout milliseconds.
     */
    wait(path: string, predicate: (value: string | undefined) => boolean, opts?: XsWaitOptions): Promise<string | undefined>;
    /** The home path xenstored gives a domain (normally /local/domain/<domid>). */
    getDomainPath(domid: number): Promise<string>;
    /** Tell xenstored about a domain's ring (dom0 only): its frame and event channel port. */
    introduce(domid: number, mfn: number, port: number): Promise<void>;
    /** Tell xenstored a domain is gone (dom0 only): its nodes and watches go, @releaseDomain fires. */
    release(domid: number): Promise<void>;
    isIntroduced(domid: number): Promise<boolean>;
    /** XS_CONTROL: a xenstored-specific command (for instance `help`, `log`, `quota`). */
    control(...args: string[]): Promise<string>;
}
export {};
