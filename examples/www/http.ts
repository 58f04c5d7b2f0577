// A small, bounded HTTP/1.1 request parser (RFC 9112) for the www unikernel: request line,
// header fields and a Content-Length body, requests pipelined on one connection. Everything
// is bounded (header block, field count, target, body) and anything it does not do
// (Transfer-Encoding, obsolete line folding, bare LF) is refused with the status RFC 9110
// names, so a hostile client gets an error and a closed connection, never a stuck parser.
// No npm parser fits a unikernel here: llhttp needs Node's internals, and the pure ones are
// unmaintained or bring a framework.

export interface HttpLimits {
  /** The request line and header fields, with their CRLFs. */
  readonly maxHeaderBytes: number;
  readonly maxHeaders: number;
  readonly maxTarget: number;
  readonly maxBody: number;
}

export const HTTP_LIMITS: HttpLimits = { maxHeaderBytes: 8192, maxHeaders: 64, maxTarget: 2048, maxBody: 64 * 1024 };

export interface HttpRequest {
  readonly method: string;
  readonly target: string;
  readonly version: '1.0' | '1.1';
  /** Lowercase names; repeated fields joined with ", " (RFC 9110 §5.3). */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Uint8Array;
  /** Whether the connection stays open after the response. */
  readonly keepAlive: boolean;
}

/** A request the server refuses: respond with `status`, then close. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const TARGET = /^(\/[\x21-\x7e]*|\*)$/;
const CRLFCRLF = Uint8Array.of(13, 10, 13, 10);

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number, to: number): number {
  outer: for (let i = from; i + needle.length <= to; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

export class RequestParser {
  #buf: Uint8Array = new Uint8Array(0);
  /** Set once an error was thrown: the connection is done for. */
  #failed = false;

  constructor(private readonly limits: HttpLimits = HTTP_LIMITS) {}

  /** Bytes received so far and not yet part of a whole request. */
  get buffered(): number {
    return this.#buf.length;
  }

  /** Add bytes from the connection; returns the requests they completed. Throws HttpError. */
  push(chunk: Uint8Array): HttpRequest[] {
    if (this.#failed) throw new HttpError(400, 'the connection already failed');
    const cap = this.limits.maxHeaderBytes + this.limits.maxBody;
    if (this.#buf.length + chunk.length > cap + this.limits.maxHeaderBytes) return this.#fail(413, 'too much data in one go');
    // A connection's chunks are its reader's to keep (nothing writes them again): most requests
    // arrive whole, in one chunk, and are parsed where they are.
    if (this.#buf.length === 0) this.#buf = chunk;
    else {
      const b = new Uint8Array(this.#buf.length + chunk.length);
      b.set(this.#buf);
      b.set(chunk, this.#buf.length);
      this.#buf = b;
    }
    const out: HttpRequest[] = [];
    for (;;) {
      const r = this.#one();
      if (!r) break;
      out.push(r);
    }
    return out;
  }

  #fail(status: number, msg: string): never {
    this.#failed = true;
    this.#buf = new Uint8Array(0);
    throw new HttpError(status, msg);
  }

  #one(): HttpRequest | undefined {
    const b = this.#buf;
    // Clients may send empty lines before a request (RFC 9112 §2.2).
    let start = 0;
    while (start + 1 < b.length && b[start] === 13 && b[start + 1] === 10) start += 2;
    const scanTo = Math.min(b.length, start + this.limits.maxHeaderBytes);
    const end = indexOf(b, CRLFCRLF, start, scanTo);
    if (end < 0) {
      if (b.length - start >= this.limits.maxHeaderBytes) this.#fail(431, 'the request header block is too large');
      return undefined;
    }
    const text = Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
    const lines = text.split('\r\n');
    // A LF left after splitting on CRLF is a bare one.
    for (const line of lines) if (line.includes('\n')) this.#fail(400, 'a line ends in a bare LF');
    const requestLine = lines[0]!;
    const m = /^([^ ]+) ([^ ]+) HTTP\/1\.([01])$/.exec(requestLine);
    if (!m) {
      if (/^[^ ]+ [^ ]+ HTTP\/\d/.test(requestLine)) this.#fail(505, 'only HTTP/1.0 and HTTP/1.1 are served');
      this.#fail(400, 'malformed request line');
    }
    const [, method, target, minor] = m;
    if (!TOKEN.test(method!)) this.#fail(400, 'malformed method');
    if (target!.length > this.limits.maxTarget) this.#fail(414, 'the target is too long');
    if (!TARGET.test(target!)) this.#fail(400, 'malformed target');
    if (lines.length - 1 > this.limits.maxHeaders) this.#fail(431, 'too many header fields');
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      if (line.startsWith(' ') || line.startsWith('\t')) this.#fail(400, 'obsolete line folding');
      const colon = line.indexOf(':');
      if (colon <= 0) this.#fail(400, 'malformed header field');
      const name = line.slice(0, colon);
      if (!TOKEN.test(name)) this.#fail(400, 'malformed header field name');
      const value = line.slice(colon + 1).trim();
      if (!FIELD_VALUE.test(value)) this.#fail(400, 'control characters in a header field');
      const k = name.toLowerCase();
      const had = headers.get(k);
      headers.set(k, had === undefined ? value : `${had}, ${value}`);
    }
    const version = minor === '1' ? '1.1' : '1.0';
    if (version === '1.1' && !headers.has('host')) this.#fail(400, 'HTTP/1.1 requests need a Host field');
    if (headers.has('transfer-encoding')) this.#fail(501, 'Transfer-Encoding is not supported: send Content-Length');
    let length = 0;
    const cl = headers.get('content-length');
    if (cl !== undefined) {
      const values = new Set(cl.split(',').map((v) => v.trim()));
      const [v] = [...values];
      if (values.size !== 1 || !/^[0-9]{1,10}$/.test(v!)) this.#fail(400, 'malformed Content-Length');
      length = Number(v);
      if (length > this.limits.maxBody) this.#fail(413, 'the body is too large');
    }
    const bodyStart = end + 4;
    if (b.length < bodyStart + length) return undefined;
    const body = b.subarray(bodyStart, bodyStart + length);
    this.#buf = b.subarray(bodyStart + length);
    const connection = headers.get('connection');
    const conn = connection === undefined ? [] : connection.toLowerCase().split(',').map((s) => s.trim());
    const keepAlive = version === '1.1' ? !conn.includes('close') : conn.includes('keep-alive');
    return { method: method!, target: target!, version, headers, body, keepAlive };
  }
}

const REASONS: Record<number, string> = {
  200: 'OK', 400: 'Bad Request', 404: 'Not Found', 405: 'Method Not Allowed', 413: 'Content Too Large',
  414: 'URI Too Long', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 501: 'Not Implemented',
  505: 'HTTP Version Not Supported',
};

/** A whole response: status line, fields (Content-Length always), body unless `head`. */
export function response(status: number, type: string, body: Uint8Array, opts: { keepAlive: boolean; head?: boolean; extra?: string } = { keepAlive: true }): Uint8Array {
  const head = `HTTP/1.1 ${status} ${REASONS[status] ?? 'Unknown'}\r\nServer: xenode-www\r\nContent-Type: ${type}\r\n` +
    `Content-Length: ${body.length}\r\n${opts.extra ?? ''}Connection: ${opts.keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`;
  const h = Buffer.from(head, 'latin1');
  if (opts.head) return h;
  const out = new Uint8Array(h.length + body.length);
  out.set(h);
  out.set(body, h.length);
  return out;
}
