// The xenstore client library, for dom0 code and for a guest's library OS. It speaks the
// xsd_sockmsg protocol (xen/io/xs_wire.h, docs/misc/xenstore.txt) over any XsClientTransport:
// requests are pipelined and matched to replies by req_id, watch events are routed by token.
//
// Every failure is a XenError with Xen's errno name. ENOENT is an ordinary rejection the caller
// can catch (or avoid with readOptional); a connection that closes rejects every call in flight
// and every later call with ENOTCONN, and ends every watch with the same error.
import { Buffer } from 'node:buffer';
import {
  XS_CONTROL, XS_DIRECTORY, XS_DIRECTORY_PART, XS_ERROR, XS_GET_DOMAIN_PATH, XS_GET_PERMS,
  XS_INTRODUCE, XS_IS_DOMAIN_INTRODUCED, XS_MKDIR, XS_READ, XS_RELEASE, XS_RM, XS_SET_PERMS, XS_TRANSACTION_END,
  XS_TRANSACTION_START, XS_UNWATCH, XS_WATCH, XS_WATCH_EVENT, XS_WRITE,
} from '../../abi/xs_wire.js';
import { DOMID_FIRST_RESERVED, isValidDomid } from '../../abi/xen.js';
import { XEN_ERRNO, XenError, isXenError, type XenErrnoName } from '../../errors.js';
import { XsFrameReader, encodeRequest, typeName } from '../common/frames.js';
import { connectSocket, type XsClientTransport } from './transport.js';
import { XenstoreRingClient } from './ring.js';
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
export function localDomainPath(domid: number, ...rel: string[]): string {
  if (!isValidDomid(domid)) {
    throw new XenError('EINVAL', `domid ${domid} is not a domain (0..${DOMID_FIRST_RESERVED - 1})`);
  }
  const base = `/local/domain/${domid}`;
  return rel.length === 0 ? base : `${base}/${rel.join('/')}`;
}

/** A wire string: the payload up to its first NUL (replies end with one; READ values need not). */
function str(payload: Buffer): string {
  const nul = payload.indexOf(0);
  return payload.toString('utf8', 0, nul < 0 ? payload.length : nul);
}

/** NUL-separated strings of a reply (DIRECTORY, GET_PERMS), without the final terminator. */
function strings(payload: Buffer): string[] {
  if (payload.length === 0) return [];
  const end = payload[payload.length - 1] === 0 ? payload.length - 1 : payload.length;
  return payload.toString('utf8', 0, end).split('\0');
}

function checkString(s: string, what: string): void {
  if (s.includes('\0')) throw new XenError('EINVAL', `${what} contains a NUL byte`);
}

const PERM_LETTERS: ReadonlySet<string> = new Set(['n', 'r', 'w', 'b']);

function parsePerm(s: string, path: string): XsPerm {
  const letter = s[0] ?? '';
  const digits = s.slice(1);
  if (!PERM_LETTERS.has(letter) || !/^[0-9]+$/.test(digits)) {
    throw new XenError('EIO', `xenstored sent permission "${s}" for ${path}`);
  }
  return { domid: Number(digits), perm: letter as XsPermLetter };
}

function formatPerm(p: XsPerm): string {
  if (!PERM_LETTERS.has(p.perm)) throw new XenError('EINVAL', `permission "${p.perm}" is not one of n, r, w, b`);
  if (!Number.isInteger(p.domid) || p.domid < 0 || p.domid > 0xffff) {
    throw new XenError('EINVAL', `permission domid ${p.domid} is not a domain id`);
  }
  return `${p.perm}${p.domid}`;
}

function errorFromReply(payload: Buffer, type: number, what: string): XenError {
  const name = str(payload);
  const op = typeName(type);
  if (Object.hasOwn(XEN_ERRNO, name)) return new XenError(name as XenErrnoName, `${op} ${what}`);
  // oxenstored answers EQUOTA, which Xen's errno list lacks; keep its word in the message.
  return new XenError('EIO', `${op} ${what}: xenstored replied ${name || 'an empty error'}`);
}

/**
 * Sends one request and resolves with its reply payload; implemented by XenstoreClient. With
 * `missing`, an ENOENT reply resolves with that very buffer instead of rejecting: readOptional's
 * answer for an absent node then builds no XenError (and its stack) on the backends' hot paths.
 */
type Call = (type: number, txId: number, what: string, parts: readonly (string | Uint8Array)[], rawLast?: boolean, missing?: Buffer) => Promise<Buffer>;

/** readOptional's marker for "no such node", compared by identity. */
const MISSING: Buffer = Buffer.alloc(0);

/** The node operations, outside a transaction (XenstoreClient) or inside one (XsTransaction). */
export abstract class XsNodeOps {
  protected abstract readonly call: Call;
  /** The transaction id these operations carry (0: none). */
  abstract readonly txId: number;

  /** A node's value as bytes. */
  async readBytes(path: string): Promise<Uint8Array> {
    return this.call(XS_READ, this.txId, path, [path]);
  }

  /** A node's value (UTF-8); rejects with ENOENT if it does not exist. */
  async read(path: string): Promise<string> {
    return (await this.call(XS_READ, this.txId, path, [path])).toString('utf8');
  }

  /** A node's value, or undefined if it does not exist. */
  async readOptional(path: string): Promise<string | undefined> {
    const payload = await this.call(XS_READ, this.txId, path, [path], false, MISSING);
    return payload === MISSING ? undefined : payload.toString('utf8');
  }

  /** Whether a node exists (and is readable), as xenstore-exists decides it. */
  async exists(path: string): Promise<boolean> {
    return (await this.readOptional(path)) !== undefined;
  }

  /** Create or overwrite a node (and any missing parents). */
  async write(path: string, value: string | Uint8Array): Promise<void> {
    await this.call(XS_WRITE, this.txId, path, [path, value], true);
  }

  /** Create a node with an empty value if it does not exist. */
  async mkdir(path: string): Promise<void> {
    await this.call(XS_MKDIR, this.txId, path, [path]);
  }

  /** Remove a node and everything below it. */
  async rm(path: string): Promise<void> {
    await this.call(XS_RM, this.txId, path, [path]);
  }

  /** A node's children's names. Falls back to XS_DIRECTORY_PART when the list exceeds a packet. */
  async directory(path: string): Promise<string[]> {
    try {
      return strings(await this.call(XS_DIRECTORY, this.txId, path, [path]));
    } catch (e) {
      if (!isXenError(e, 'E2BIG')) throw e;
      return this.#directoryPart(path);
    }
  }

  async #directoryPart(path: string): Promise<string[]> {
    // Chunks carry the node's generation; a change between chunks means start again.
    for (let attempt = 0; attempt < 16; attempt++) {
      const chunks: Buffer[] = [];
      let gen: string | undefined;
      let off = 0;
      // The last two bytes received: the list ends with an extra NUL, i.e. in "\0\0".
      let prev = -1;
      let last = -1;
      for (;;) {
        const reply = await this.call(XS_DIRECTORY_PART, this.txId, path, [path, String(off)]);
        const nul = reply.indexOf(0);
        if (nul < 0) throw new XenError('EIO', `XS_DIRECTORY_PART ${path}: reply has no generation`);
        const g = reply.toString('latin1', 0, nul);
        if (gen !== undefined && g !== gen) break;
        gen = g;
        const names = reply.subarray(nul + 1);
        chunks.push(names);
        off += names.length;
        for (const b of names.subarray(-2)) [prev, last] = [last, b];
        if (names.length === 0 || off <= 1 || (prev === 0 && last === 0)) {
          const all = Buffer.concat(chunks);
          return strings(all.subarray(0, Math.max(0, all.length - 1)));
        }
      }
    }
    throw new XenError('EAGAIN', `XS_DIRECTORY_PART ${path}: the directory kept changing while being read`);
  }

  async getPerms(path: string): Promise<XsPerm[]> {
    return strings(await this.call(XS_GET_PERMS, this.txId, path, [path])).map((s) => parsePerm(s, path));
  }

  /** Set a node's permissions: the first entry is the owner and the default for other domains. */
  async setPerms(path: string, perms: readonly XsPerm[]): Promise<void> {
    if (perms.length === 0) throw new XenError('EINVAL', `setPerms ${path}: at least the owner entry is needed`);
    await this.call(XS_SET_PERMS, this.txId, path, [path, ...perms.map(formatPerm)]);
  }
}

/** Operations inside one transaction (see XenstoreClient.transaction). */
export class XsTransaction extends XsNodeOps {
  constructor(protected readonly call: Call, readonly txId: number) {
    super();
  }
}

interface Pending {
  resolve: (payload: Buffer) => void;
  reject: (err: XenError) => void;
  type: number;
  what: string;
  /** Resolved with on ENOENT (Call's `missing`). */
  missing: Buffer | undefined;
}

/**
 * A registered watch. Iterate it (`for await (const ev of w)`), or give watch() a callback;
 * leaving the loop or calling unwatch() removes the watch from xenstored.
 */
export class XsWatch implements AsyncIterableIterator<XsWatchEvent> {
  #queue: XsWatchEvent[] = [];
  #waiter: { resolve: (r: IteratorResult<XsWatchEvent>) => void; reject: (e: Error) => void } | undefined;
  #ended: XenError | null | undefined; // null: ended cleanly
  #unwatched: Promise<void> | undefined;

  constructor(
    readonly path: string,
    readonly token: string,
    private readonly remove: (w: XsWatch) => Promise<void>,
    private readonly handler: ((ev: XsWatchEvent) => void) | undefined,
    private readonly maxQueued: number,
  ) {}

  /** @internal an event from xenstored. */
  deliver(ev: XsWatchEvent): void {
    if (this.#ended !== undefined) return;
    if (this.handler) {
      try {
        this.handler(ev);
      } catch (e) {
        // A throwing callback is the caller's bug: report it without corrupting the reply stream.
        queueMicrotask(() => { throw e; });
      }
      return;
    }
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w.resolve({ value: ev, done: false });
      return;
    }
    if (this.#queue.length >= this.maxQueued) {
      // Dropping events silently would break callers that count on them; fail loudly instead.
      this.end(new XenError('ENOSPC', `watch ${this.path}: more than ${this.maxQueued} events not consumed`));
      void this.unwatch().catch(() => undefined);
      return;
    }
    this.#queue.push(ev);
  }

  /** @internal no more events: cleanly (null) or with an error for the iterator. */
  end(err: XenError | null): void {
    if (this.#ended !== undefined) return;
    this.#ended = err;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      if (err) w.reject(err);
      else w.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<XsWatchEvent>> {
    const ev = this.#queue.shift();
    if (ev) return Promise.resolve({ value: ev, done: false });
    if (this.#ended === null) return Promise.resolve({ value: undefined, done: true });
    if (this.#ended) return Promise.reject(this.#ended);
    if (this.#waiter) return Promise.reject(new XenError('EBUSY', `watch ${this.path}: next() called concurrently`));
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  async return(): Promise<IteratorResult<XsWatchEvent>> {
    await this.unwatch().catch(() => undefined);
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Remove the watch (XS_UNWATCH); idempotent. Ends iteration. */
  unwatch(): Promise<void> {
    this.#unwatched ??= this.remove(this);
    this.#queue = [];
    this.end(null);
    return this.#unwatched;
  }
}

/** A connection to xenstored. */
export class XenstoreClient extends XsNodeOps {
  readonly txId = 0;
  readonly #transport: XsClientTransport;
  readonly #pending = new Map<number, Pending>();
  readonly #watches = new Map<string, XsWatch>();
  readonly #closeHandlers = new Set<(err: XenError) => void>();
  #nextReqId = 0;
  #nextToken = 0;
  #closed: XenError | undefined;
  readonly #frames = new XsFrameReader((h, payload) => this.#dispatch(h.type, h.reqId, payload));

  /** Connect to xenstored's Unix socket. */
  static async connect(socketPath: string): Promise<XenstoreClient> {
    return new XenstoreClient(await connectSocket(socketPath));
  }

  /** A guest's connection over its xenstore ring page and event channel. */
  static overRing(ring: DomainRing): XenstoreClient {
    return new XenstoreClient(new XenstoreRingClient(ring));
  }

  constructor(transport: XsClientTransport) {
    super();
    this.#transport = transport;
    transport.start((b) => this.#onData(b), (err) => this.#fail(err));
  }

  protected readonly call: Call = (type, txId, what, parts, rawLast = false, missing) => {
    if (this.#closed) return Promise.reject(new XenError('ENOTCONN', `${typeName(type)} ${what}: ${this.#closed.message}`));
    for (const p of parts) if (typeof p === 'string') checkString(p, `${typeName(type)} argument`);
    let id = this.#nextReqId;
    do id = (id + 1) >>> 0; while (this.#pending.has(id));
    this.#nextReqId = id;
    let bytes: Buffer;
    try {
      bytes = encodeRequest(type, id, txId, parts, rawLast);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<Buffer>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, type, what, missing });
      try {
        this.#transport.send(bytes);
      } catch (e) {
        this.#pending.delete(id);
        reject(e);
      }
    });
  };

  /** Whether the connection is closed (every call rejects with ENOTCONN). */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Call `handler` once when the connection closes, with why. Returns an unsubscribe function. */
  onClose(handler: (err: XenError) => void): () => void {
    if (this.#closed) {
      const err = this.#closed;
      queueMicrotask(() => handler(err));
      return () => undefined;
    }
    this.#closeHandlers.add(handler);
    return () => this.#closeHandlers.delete(handler);
  }

  close(): void {
    this.#transport.close();
    this.#fail(new XenError('ENOTCONN', 'xenstore connection closed by this end'));
  }

  /**
   * Run `fn` in a transaction and commit it; a conflicting commit (EAGAIN) runs `fn` again in a
   * new transaction, up to maxAttempts times. If `fn` throws, the transaction is aborted.
   */
  async transaction<T>(fn: (tx: XsTransaction) => Promise<T>, opts: XsTransactionOptions = {}): Promise<T> {
    const maxAttempts = opts.maxAttempts ?? 16;
    for (let attempt = 1; ; attempt++) {
      const id = Number(str(await this.call(XS_TRANSACTION_START, 0, '', [''])));
      if (!Number.isInteger(id) || id <= 0 || id > 0xffffffff) {
        throw new XenError('EIO', 'XS_TRANSACTION_START: xenstored sent a bad transaction id');
      }
      const tx = new XsTransaction(this.call, id);
      const end = (commit: boolean): Promise<Buffer> => this.call(XS_TRANSACTION_END, id, `transaction ${id}`, [commit ? 'T' : 'F']);
      let result: T;
      try {
        result = await fn(tx);
      } catch (e) {
        await end(false).catch(() => undefined);
        if (isXenError(e, 'EAGAIN') && attempt < maxAttempts) continue;
        throw e;
      }
      try {
        await end(true);
        return result;
      } catch (e) {
        if (!isXenError(e, 'EAGAIN')) throw e;
        if (attempt >= maxAttempts) {
          throw new XenError('EAGAIN', `transaction conflicted with other writers ${attempt} times; giving up`);
        }
      }
    }
  }

  /**
   * Watch `path` and everything below it. xenstored fires one event at once, then one per change.
   * Without a callback the events are read by iterating the returned XsWatch.
   */
  watch(path: string, token?: string): Promise<XsWatch>;
  watch(path: string, handler: (ev: XsWatchEvent) => void, token?: string): Promise<XsWatch>;
  async watch(path: string, a?: string | ((ev: XsWatchEvent) => void), b?: string): Promise<XsWatch> {
    const handler = typeof a === 'function' ? a : undefined;
    const token = (typeof a === 'string' ? a : b) ?? `xenode/${++this.#nextToken}`;
    if (this.#watches.has(token)) throw new XenError('EEXIST', `watch token "${token}" is already in use on this connection`);
    const w = new XsWatch(path, token, (x) => this.#unwatch(x), handler, 65536);
    // Registered before the request: the first event follows the reply immediately.
    this.#watches.set(token, w);
    try {
      await this.call(XS_WATCH, 0, path, [path, token]);
    } catch (e) {
      this.#watches.delete(token);
      w.end(null);
      throw e;
    }
    return w;
  }

  /** Remove a watch by path and token. */
  async unwatch(path: string, token: string): Promise<void> {
    const w = this.#watches.get(token);
    if (w && w.path === path) return w.unwatch();
    await this.call(XS_UNWATCH, 0, path, [path, token]);
  }

  async #unwatch(w: XsWatch): Promise<void> {
    if (this.#watches.get(w.token) === w) this.#watches.delete(w.token);
    if (this.#closed) return;
    await this.call(XS_UNWATCH, 0, w.path, [w.path, w.token]);
  }

  /**
   * Resolve with the value of `path` (undefined: absent) once `predicate` accepts it, checking
   * now and after every change. Rejects with ETIMEDOUT after opts.timeout milliseconds.
   */
  async wait(path: string, predicate: (value: string | undefined) => boolean, opts: XsWaitOptions = {}): Promise<string | undefined> {
    const w = await this.watch(path);
    const timer = opts.timeout === undefined ? undefined : setTimeout(() => {
      w.end(new XenError('ETIMEDOUT', `waited ${opts.timeout} ms for ${path}`));
    }, opts.timeout);
    try {
      for await (const ev of w) {
        void ev;
        const value = await this.readOptional(path);
        if (predicate(value)) return value;
      }
      throw new XenError('ENOTCONN', `wait ${path}: the watch ended`);
    } finally {
      clearTimeout(timer);
      await w.unwatch().catch(() => undefined);
    }
  }

  /** The home path xenstored gives a domain (normally /local/domain/<domid>). */
  async getDomainPath(domid: number): Promise<string> {
    return str(await this.call(XS_GET_DOMAIN_PATH, 0, `domain ${domid}`, [String(domid)]));
  }

  /** Tell xenstored about a domain's ring (dom0 only): its frame and event channel port. */
  async introduce(domid: number, mfn: number, port: number): Promise<void> {
    await this.call(XS_INTRODUCE, 0, `domain ${domid}`, [String(domid), String(mfn), String(port)]);
  }

  /** Tell xenstored a domain is gone (dom0 only): its nodes and watches go, @releaseDomain fires. */
  async release(domid: number): Promise<void> {
    await this.call(XS_RELEASE, 0, `domain ${domid}`, [String(domid)]);
  }

  async isIntroduced(domid: number): Promise<boolean> {
    return str(await this.call(XS_IS_DOMAIN_INTRODUCED, 0, `domain ${domid}`, [String(domid)])) === 'T';
  }

  /** XS_CONTROL: a xenstored-specific command (for instance `help`, `log`, `quota`). */
  async control(...args: string[]): Promise<string> {
    return str(await this.call(XS_CONTROL, 0, args[0] ?? '', args));
  }

  #onData(chunk: Uint8Array): void {
    try {
      this.#frames.push(chunk);
    } catch (e) {
      this.#transport.close();
      this.#fail(e as XenError);
    }
  }

  #dispatch(type: number, reqId: number, payload: Buffer): void {
    if (type === XS_WATCH_EVENT) {
      const [path, token] = strings(payload);
      if (path !== undefined && token !== undefined) this.#watches.get(token)?.deliver({ path, token });
      return;
    }
    const p = this.#pending.get(reqId);
    // A reply to nothing we asked (late, duplicated, or forged) is dropped.
    if (!p) return;
    this.#pending.delete(reqId);
    if (type === XS_ERROR) {
      if (p.missing && str(payload) === 'ENOENT') p.resolve(p.missing);
      else p.reject(errorFromReply(payload, p.type, p.what));
    }
    else if (type !== p.type) p.reject(new XenError('EIO', `${typeName(p.type)} ${p.what}: xenstored replied with type ${type}`));
    else p.resolve(payload);
  }

  #fail(err: XenError): void {
    if (this.#closed) return;
    this.#closed = err;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(new XenError('ENOTCONN', `${typeName(p.type)} ${p.what}: ${err.message}`));
    const watches = [...this.#watches.values()];
    this.#watches.clear();
    for (const w of watches) w.end(err);
    for (const h of this.#closeHandlers) h(err);
    this.#closeHandlers.clear();
  }
}
