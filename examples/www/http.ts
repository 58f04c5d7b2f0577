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

/** Bytes allowed in a field name and a method (RFC 9110 §5.6.2's tchar). */
const TCHAR = byteClass((c) => /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(String.fromCharCode(c)));
/** Bytes allowed in a field value (RFC 9110 §5.5: VCHAR, obs-text, SP and HTAB). */
const FIELD_VALUE = byteClass((c) => c === 9 || (c >= 0x20 && c !== 0x7f));
/** Bytes allowed in an origin-form target (visible ASCII). */
const TARGET = byteClass((c) => c >= 0x21 && c <= 0x7e);
const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;
/** "HTTP/1." */
const HTTP1 = [72, 84, 84, 80, 47, 49, 46];

function byteClass(ok: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = ok(c) ? 1 : 0;
  return t;
}

/** Whether b[from..to) are all in `cls`, and not empty. */
function allIn(cls: Uint8Array, b: Uint8Array, from: number, to: number): boolean {
  if (from >= to) return false;
  for (let i = from; i < to; i++) if (cls[b[i]!] === 0) return false;
  return true;
}

/** The end of the header block: where its CRLFCRLF starts, or -1. */
function headerEnd(b: Uint8Array, from: number, to: number): number {
  for (let i = from; i + 3 < to; i++) {
    if (b[i + 3] !== LF) continue;
    if (b[i] === CR && b[i + 1] === LF && b[i + 2] === CR) return i;
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

  /**
   * Add bytes from the connection; returns the requests they completed. Throws HttpError.
   * Neither the parser nor the requests keep `chunk` past the call (a copy-free reader's bytes
   * are valid only during its call): most requests arrive whole, in one chunk, and are parsed
   * where they are; the part of one that is not whole yet, and bodies, are copied.
   */
  push(chunk: Uint8Array): HttpRequest[] {
    if (this.#failed) throw new HttpError(400, 'the connection already failed');
    const cap = this.limits.maxHeaderBytes + this.limits.maxBody;
    if (this.#buf.length + chunk.length > cap + this.limits.maxHeaderBytes) return this.#fail(413, 'too much data in one go');
    if (this.#buf.length === 0) this.#buf = chunk;
    else {
      const b = new Uint8Array(this.#buf.length + chunk.length);
      b.set(this.#buf);
      b.set(chunk, this.#buf.length);
      this.#buf = b;
    }
    const out: HttpRequest[] = [];
    try {
      for (;;) {
        const r = this.#one();
        if (!r) break;
        out.push(r);
      }
    } finally {
      // What is left of `chunk` is kept as a copy of its own.
      if (this.#buf.length === 0) this.#buf = EMPTY;
      else if (this.#buf.buffer === chunk.buffer) this.#buf = this.#buf.slice();
    }
    return out;
  }

  #fail(status: number, msg: string): never {
    this.#failed = true;
    this.#buf = EMPTY;
    throw new HttpError(status, msg);
  }

  #one(): HttpRequest | undefined {
    const b = this.#buf;
    // Clients may send empty lines before a request (RFC 9112 §2.2).
    let start = 0;
    while (start + 1 < b.length && b[start] === CR && b[start + 1] === LF) start += 2;
    const scanTo = Math.min(b.length, start + this.limits.maxHeaderBytes);
    const end = headerEnd(b, start, scanTo);
    if (end < 0) {
      if (b.length - start >= this.limits.maxHeaderBytes) this.#fail(431, 'the request header block is too large');
      return undefined;
    }
    // The lines, each ended by CRLF: a LF without its CR is a bare one (RFC 9112 §2.2).
    let fields = 0;
    for (let i = start; i < end; i++) {
      if (b[i] !== LF) continue;
      if (b[i - 1] !== CR) this.#fail(400, 'a line ends in a bare LF');
      fields++;
    }
    // Strings are cut from the block decoded once: its character i is byte start + i.
    const text = latin1(b, start, end);
    // The request line: method SP target SP HTTP/1.x.
    const lineEnd = fields === 0 ? end : indexOfByte(b, CR, start, end, LF);
    const sp1 = indexOfByte(b, SP, start, lineEnd);
    const sp2 = sp1 < 0 ? -1 : indexOfByte(b, SP, sp1 + 1, lineEnd);
    if (sp1 <= start || sp2 <= sp1 + 1 || !isHttp1(b, sp2 + 1, lineEnd)) {
      if (sp1 > start && sp2 > sp1 + 1 && startsHttpDigit(b, sp2 + 1, lineEnd)) this.#fail(505, 'only HTTP/1.0 and HTTP/1.1 are served');
      this.#fail(400, 'malformed request line');
    }
    if (!allIn(TCHAR, b, start, sp1)) this.#fail(400, 'malformed method');
    if (sp2 - sp1 - 1 > this.limits.maxTarget) this.#fail(414, 'the target is too long');
    if (!(b[sp1 + 1] === 0x2f && allIn(TARGET, b, sp1 + 1, sp2)) && !(sp2 === sp1 + 2 && b[sp1 + 1] === 0x2a)) this.#fail(400, 'malformed target');
    if (fields > this.limits.maxHeaders) this.#fail(431, 'too many header fields');
    const method = text.slice(0, sp1 - start);
    const target = text.slice(sp1 + 1 - start, sp2 - start);
    const version = b[lineEnd - 1] === 0x31 ? '1.1' : '1.0';
    // The fields the parser acts on are told by their bytes; the map of all fields is made only
    // when the program asks for it (Request.headers), from the block's text.
    let host = false;
    let te = false;
    let cl: string | undefined;
    let connection: string | undefined;
    for (let line = lineEnd + 2; line < end + 2;) {
      const eol = indexOfByte(b, CR, line, end, LF);
      if (b[line] === SP || b[line] === HTAB) this.#fail(400, 'obsolete line folding');
      const colon = indexOfByte(b, COLON, line, eol);
      if (colon <= line) this.#fail(400, 'malformed header field');
      if (!allIn(TCHAR, b, line, colon)) this.#fail(400, 'malformed header field name');
      // OWS (SP and HTAB) around the value is not part of it.
      let v0 = colon + 1;
      let v1 = eol;
      while (v0 < v1 && (b[v0] === SP || b[v0] === HTAB)) v0++;
      while (v1 > v0 && (b[v1 - 1] === SP || b[v1 - 1] === HTAB)) v1--;
      for (let i = v0; i < v1; i++) if (FIELD_VALUE[b[i]!] === 0) this.#fail(400, 'control characters in a header field');
      if (isName(b, line, colon, HOST)) host = true;
      else if (isName(b, line, colon, TRANSFER_ENCODING)) te = true;
      else if (isName(b, line, colon, CONTENT_LENGTH)) cl = joined(cl, text.slice(v0 - start, v1 - start));
      else if (isName(b, line, colon, CONNECTION)) connection = joined(connection, text.slice(v0 - start, v1 - start));
      line = eol + 2;
    }
    if (version === '1.1' && !host) this.#fail(400, 'HTTP/1.1 requests need a Host field');
    if (te) this.#fail(501, 'Transfer-Encoding is not supported: send Content-Length');
    let length = 0;
    if (cl !== undefined) {
      const values = new Set(cl.split(',').map((v) => v.trim()));
      const [v] = [...values];
      if (values.size !== 1 || !/^[0-9]{1,10}$/.test(v!)) this.#fail(400, 'malformed Content-Length');
      length = Number(v);
      if (length > this.limits.maxBody) this.#fail(413, 'the body is too large');
    }
    const bodyStart = end + 4;
    if (b.length < bodyStart + length) return undefined;
    const body = length === 0 ? EMPTY : b.slice(bodyStart, bodyStart + length);
    this.#buf = b.subarray(bodyStart + length);
    const conn = connection === undefined ? [] : connection.toLowerCase().split(',').map((s) => s.trim());
    const keepAlive = version === '1.1' ? !conn.includes('close') : conn.includes('keep-alive');
    return new Request(method, target, version, body, keepAlive, text);
  }
}

class Request implements HttpRequest {
  /** The header block, checked: its field lines are well formed. */
  readonly #block: string;
  #headers: Map<string, string> | undefined;

  constructor(
    readonly method: string,
    readonly target: string,
    readonly version: '1.0' | '1.1',
    readonly body: Uint8Array,
    readonly keepAlive: boolean,
    block: string,
  ) {
    this.#block = block;
  }

  get headers(): ReadonlyMap<string, string> {
    if (!this.#headers) {
      this.#headers = new Map();
      for (const line of this.#block.split('\r\n').slice(1)) {
        const colon = line.indexOf(':');
        const k = line.slice(0, colon).toLowerCase();
        const value = line.slice(colon + 1).replace(OWS_AROUND, '');
        const had = this.#headers.get(k);
        this.#headers.set(k, had === undefined ? value : `${had}, ${value}`);
      }
    }
    return this.#headers;
  }
}

/** SP and HTAB at either end of a field value. */
const OWS_AROUND = /^[ \t]+|[ \t]+$/g;
const lower = (name: string) => Uint8Array.from(name, (c) => c.charCodeAt(0));
const HOST = lower('host');
const TRANSFER_ENCODING = lower('transfer-encoding');
const CONTENT_LENGTH = lower('content-length');
const CONNECTION = lower('connection');

/**
 * b[from..to), a field name already checked to be tchars, is `name` in any case: a letter and
 * its capital differ by 0x20, and of the bytes that 0x20 maps to `name`'s (letters and '-'),
 * only the letters are tchars.
 */
function isName(b: Uint8Array, from: number, to: number, name: Uint8Array): boolean {
  if (to - from !== name.length) return false;
  for (let i = 0; i < name.length; i++) if ((b[from + i]! | 0x20) !== name[i]) return false;
  return true;
}

/** Repeated fields joined with ", " (RFC 9110 §5.3). */
const joined = (had: string | undefined, value: string): string => (had === undefined ? value : `${had}, ${value}`);

const EMPTY = new Uint8Array(0);

/** b[from..to) as a string, a byte a character. */
function latin1(b: Uint8Array, from: number, to: number): string {
  return Buffer.from(b.buffer, b.byteOffset + from, to - from).toString('latin1');
}

/** Where `byte` first is in b[from..to), followed by `next` if given; `to` if nowhere. */
function indexOfByte(b: Uint8Array, byte: number, from: number, to: number, next?: number): number {
  for (let i = from; i < to; i++) if (b[i] === byte && (next === undefined || b[i + 1] === next)) return i;
  return next === undefined ? -1 : to;
}

/** b[from..to) is "HTTP/1.0" or "HTTP/1.1". */
function isHttp1(b: Uint8Array, from: number, to: number): boolean {
  if (to - from !== 8) return false;
  for (let i = 0; i < 7; i++) if (b[from + i] !== HTTP1[i]) return false;
  return b[from + 7] === 0x30 || b[from + 7] === 0x31;
}

/** b[from..to) starts with "HTTP/" and a digit. */
function startsHttpDigit(b: Uint8Array, from: number, to: number): boolean {
  if (to - from < 6) return false;
  for (let i = 0; i < 5; i++) if (b[from + i] !== HTTP1[i]) return false;
  return b[from + 5]! >= 0x30 && b[from + 5]! <= 0x39;
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
