// The migration connection between two hosts: xenode's authentication preamble (xl relies on
// ssh for it) and xl's fixed handshake messages, each read with the stream's stall timeout.
import { timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { XEN_ERRNO, XenError, isXenError, type XenErrnoName } from '../errors.js';
import { MIGRATE_XENODE_BUILT, MIGRATE_XENODE_REFUSED } from './format.js';
import type { ByteSource } from './source.js';

/** What the sender writes first: this prefix and the receiving host's token (64 hex digits), then a newline. */
const AUTH_PREFIX = 'xenode-migrate ';
/** The same for a connection that carries one disk of a migration (--with-disks): same length. */
export const DISK_AUTH_PREFIX = 'xenode-migdisk ';
export const TOKEN_HEX = 64;
export const AUTH_BYTES = AUTH_PREFIX.length + TOKEN_HEX + 1;
export const AUTH_REFUSED = 'xenode migration receiver: authentication failed\n';

export function isToken(s: string): boolean {
  return new RegExp(`^[0-9a-f]{${TOKEN_HEX}}$`).test(s);
}

export function authLine(token: string, prefix = AUTH_PREFIX): Buffer {
  if (!isToken(token)) throw new XenError('EINVAL', `a migration token is ${TOKEN_HEX} lowercase hex digits`);
  return Buffer.from(`${prefix}${token}\n`, 'latin1');
}

/** Whether the preamble carries `token` (in constant time). */
export function authentic(preamble: Buffer, token: string, prefix = AUTH_PREFIX): boolean {
  const want = Buffer.from(`${prefix}${token}\n`, 'latin1');
  return preamble.length === want.length && timingSafeEqual(preamble, want);
}

/** Read one of xl's fixed messages; EBADMSG if something else came. */
export async function readFixed(src: ByteSource, msg: Buffer, what: string): Promise<void> {
  checkFixed(await src.read(msg.length, what), msg, what);
}

function checkFixed(got: Buffer, msg: Buffer, what: string): void {
  if (!got.equals(msg)) {
    throw new XenError('EBADMSG', `expected the ${what} but got '${got.toString('latin1').replace(/[^\x20-\x7e]/g, '.').slice(0, 80)}'`);
  }
}

/** The longest refusal text (the receiver cuts its own to fit; a sender reads no more). */
const MAX_REFUSAL = 1024;

/**
 * The receiver will not build the domain: tell the sender why (MIGRATE_XENODE_REFUSED, with the
 * error's errno name and text) and half-close. lingerAndClose then takes the connection down.
 */
export function refuse(sock: Socket, e: unknown): void {
  if (sock.destroyed || sock.writableEnded) return;
  const errno = isXenError(e) ? e.errno : 'EIO';
  const text = (isXenError(e) ? e.detail : e instanceof Error ? e.message : String(e)).replace(/[^\x20-\x7e]/g, ' ').slice(0, MAX_REFUSAL - 20);
  sock.end(Buffer.concat([MIGRATE_XENODE_REFUSED, Buffer.from(`${errno} ${text}\n`, 'latin1')]));
}

/**
 * Close a connection our side has half-closed (refuse) once the peer closes its side, reading
 * and dropping what it still sends, so that the close is not a reset that could lose what we
 * wrote last on its way; at most `ms` later it is closed anyway.
 */
export function lingerAndClose(sock: Socket, ms: number): void {
  const timer = setTimeout(() => sock.destroy(), ms);
  sock.once('close', () => clearTimeout(timer));
  sock.once('end', () => sock.destroy());
  sock.on('data', () => {});
  sock.resume();
}

/**
 * The receiver's built message, or its refusal (refuse): then the error it gave, as a XenError
 * of its errno (EIO if the name is not one of Xen's).
 */
export async function readBuilt(src: ByteSource): Promise<void> {
  // The refusal's fixed part is the shorter: either message starts with that many octets.
  const head = await src.read(MIGRATE_XENODE_REFUSED.length, "target's built message");
  if (head.equals(MIGRATE_XENODE_REFUSED)) {
    const line: number[] = [];
    for (;;) {
      const c = (await src.read(1, "target's refusal"))[0]!;
      if (c === 0x0a) break;
      if (line.length === MAX_REFUSAL) throw new XenError('EBADMSG', `the target's refusal is longer than ${MAX_REFUSAL} octets`);
      line.push(c);
    }
    // Printable only: the text goes to the sender's terminal and log, and the peer may be hostile.
    const text = Buffer.from(line).toString('latin1').replace(/[^\x20-\x7e]/g, ' ');
    const m = /^([A-Z0-9]+) (.*)$/.exec(text);
    const errno = m && m[1]! in XEN_ERRNO ? (m[1] as XenErrnoName) : 'EIO';
    throw new XenError(errno, `the target refused the domain: ${m ? m[2] : text}`);
  }
  const rest = await src.read(MIGRATE_XENODE_BUILT.length - head.length, "target's built message");
  checkFixed(Buffer.concat([head, rest]), MIGRATE_XENODE_BUILT, "target's built message");
}

/** The wait for a socket's next drain, shared by every writer waiting on it. */
const draining = new WeakMap<Socket, Promise<void>>();

function drained(sock: Socket): Promise<void> {
  let p = draining.get(sock);
  if (!p) {
    p = new Promise<void>((resolve, reject) => {
      const settle = () => {
        sock.off('drain', onDrain);
        sock.off('close', onClose);
        draining.delete(sock);
      };
      const onDrain = () => {
        settle();
        resolve();
      };
      const onClose = () => {
        settle();
        reject(new XenError('ENOTCONN', 'the migration connection closed while sending'));
      };
      sock.on('drain', onDrain);
      sock.on('close', onClose);
    });
    draining.set(sock, p);
  }
  return p;
}

/**
 * Write the chunks together (so that records sent concurrently never interleave), then wait for
 * the socket to drain if it asks to.
 */
export async function send(sock: Socket, chunks: readonly Buffer[]): Promise<void> {
  assertOpen(sock);
  let full = false;
  for (const c of chunks) full = !sock.write(c);
  if (full) await drained(sock);
}

/** What the next write would throw once the connection is destroyed (a cancel, a refusal, a break). */
export function assertOpen(sock: Socket): void {
  if (sock.destroyed) throw new XenError('ENOTCONN', 'the migration connection is closed');
}

/** The receiver's banner, or its refusal of our token (which is shorter than the banner). */
export async function readBanner(src: ByteSource, banner: Buffer): Promise<void> {
  const refusal = Buffer.from(AUTH_REFUSED, 'latin1');
  const head = await src.read(refusal.length, 'receiver banner');
  if (head.equals(refusal)) throw new XenError('EACCES', 'the target refused the migration token');
  const rest = await src.read(banner.length - refusal.length, 'receiver banner');
  if (!Buffer.concat([head, rest]).equals(banner)) throw new XenError('EBADMSG', 'the target did not answer with the migration receiver banner');
}
