// The control socket's protocol: newline-delimited JSON. A client sends requests
// {"id":N,"op":"list","args":{...}} and gets one reply per request, in any order:
// {"id":N,"ok":true,"result":...} or {"id":N,"ok":false,"error":{"name","message","errno"?}}.
// Two operations turn the connection into a stream once their ok reply is out: "console"
// (raw bytes both ways, as a pty would carry them) and "events" (one HostEvent per line).
import { XEN_ERRNO, XenError, type XenErrnoName } from '../errors.js';

/** Requests are small; anything longer is garbage or hostile. */
export const MAX_REQUEST_BYTES = 1 << 20;
/** Replies can be large (list -l of a thousand domains), but not unbounded. */
export const MAX_REPLY_BYTES = 256 << 20;

export interface WireRequest {
  readonly id: number;
  readonly op: string;
  readonly args?: unknown;
}

export interface WireError {
  readonly name: string;
  readonly message: string;
  /** For XenError: its errno name and the detail without the name. */
  readonly errno?: XenErrnoName;
  readonly detail?: string;
}

export type WireReply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: WireError };

export function encodeError(e: unknown): WireError {
  if (e instanceof XenError) return { name: e.name, message: e.message, errno: e.errno, detail: e.detail };
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

/** The error as the server threw it: a XenError stays one, so callers can test its errno. */
export function decodeError(w: WireError): Error {
  if (w.errno !== undefined && Object.hasOwn(XEN_ERRNO, w.errno)) return new XenError(w.errno, w.detail ?? w.message);
  const e = new Error(String(w.message));
  e.name = String(w.name);
  return e;
}

/** Parse a request line; a malformed one is EINVAL (with the id, if one could be read). */
export function parseRequest(line: string): WireRequest {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new XenError('EINVAL', 'malformed request: not JSON');
  }
  const r = v as Partial<WireRequest> | null;
  if (typeof r !== 'object' || r === null || !Number.isSafeInteger(r.id) || typeof r.op !== 'string') {
    throw new XenError('EINVAL', 'malformed request: want {"id": integer, "op": string, "args": object}');
  }
  return { id: r.id!, op: r.op, args: r.args };
}

export function encodeLine(message: object): string {
  return `${JSON.stringify(message)}\n`;
}

/** Splits a byte stream into lines, refusing a line longer than `limit`. */
export class LineBuffer {
  #buf: Buffer = Buffer.alloc(0);

  constructor(readonly limit: number) {}

  push(chunk: Buffer): void {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
  }

  /** The next complete line without its newline, or undefined; E2BIG if a line runs past the limit. */
  next(): string | undefined {
    const nl = this.#buf.indexOf(0x0a);
    if (nl < 0) {
      if (this.#buf.length > this.limit) throw new XenError('E2BIG', `a line of more than ${this.limit} bytes`);
      return undefined;
    }
    if (nl > this.limit) throw new XenError('E2BIG', `a line of more than ${this.limit} bytes`);
    const line = this.#buf.subarray(0, nl).toString('utf8');
    this.#buf = this.#buf.subarray(nl + 1);
    return line;
  }

  /** Everything after the last line taken (where a stream starts); empties the buffer. */
  takeRest(): Buffer {
    const rest = this.#buf;
    this.#buf = Buffer.alloc(0);
    return rest;
  }
}
