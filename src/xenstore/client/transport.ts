// Byte transports under the xenstore client library. The client speaks the xsd_sockmsg wire
// format over any of them: xenstored's Unix socket (dom0 tools), a guest's ring page (ring.ts),
// or an in-process connection to a Xenstored in the same thread (dom0 code in the host).
import type { Socket } from 'node:net';
import { XENSTORE_ERROR_NONE } from '../../abi/xs_wire.js';
import { XenError } from '../../errors.js';
import { ringErrorName } from '../common/ring.js';

/** A byte pipe to xenstored, as the client library drives it. */
export interface XsClientTransport {
  /**
   * Begin delivery: `onData` gets xenstored's bytes in order (any chunking), then `onClose` is
   * called once when the pipe is gone, with why. Bytes that arrived earlier are delivered now.
   */
  start(onData: (bytes: Uint8Array) => void, onClose: (err: XenError) => void): void;
  /** Queue bytes to xenstored; throws a XenError if the pipe is closed. */
  send(bytes: Uint8Array): void;
  /** Close the pipe; `onClose` follows. */
  close(): void;
}

/**
 * What connectLocal needs of a xenstored in this thread (server/daemon.ts's Xenstored is one),
 * so the client library does not depend on the daemon.
 */
export interface LocalXenstored {
  connect(domid: number, send: (bytes: Uint8Array) => number | void, opts: LocalConnectOptions): LocalConnection;
}

export interface LocalConnectOptions {
  /** dom0 rights (default: domid 0 is privileged, others are not). */
  privileged?: boolean;
  /** Called when xenstored drops the connection, with the XENSTORE_ERROR_* reason (0: domain released). */
  onClose?: (reason: number) => void;
}

/** One in-process connection: request bytes go in through `receive`. */
export interface LocalConnection {
  receive(bytes: Uint8Array): void;
  close(): void;
}

/**
 * Connect to xenstored's Unix socket (XENSTORED_PATH for Xen's own tools). node:net is loaded
 * here, not with this module: every guest's runtime has this client and never opens a socket,
 * and net costs a fresh vCPU thread 0.6-1.3 ms of its start (docs/PERFORMANCE.md, issue 17).
 */
export async function connectSocket(path: string): Promise<XsClientTransport> {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const sock = connect({ path });
    const refused = (e: NodeJS.ErrnoException): void => {
      reject(new XenError('ECONNREFUSED', `no xenstored at ${path} (${e.code ?? e.message})`));
    };
    sock.once('error', refused);
    sock.once('connect', () => {
      sock.off('error', refused);
      resolve(new SocketTransport(sock, path));
    });
  });
}

class SocketTransport implements XsClientTransport {
  #lastError: Error | undefined;
  #corked = false;
  #onClose: ((err: XenError) => void) | undefined;
  #closedErr: XenError | undefined;

  constructor(readonly sock: Socket, readonly path: string) {
    // Keep errors (EPIPE, ECONNRESET) for the close report; 'close' always follows.
    sock.on('error', (e) => { this.#lastError = e; });
    sock.on('close', () => {
      const why = this.#lastError ? `: ${this.#lastError.message}` : '';
      this.#closedErr ??= new XenError('ENOTCONN', `connection to xenstored at ${this.path} closed${why}`);
      this.#onClose?.(this.#closedErr);
    });
    // Paused until start(), so nothing is lost before a handler exists.
    sock.pause();
  }

  start(onData: (bytes: Uint8Array) => void, onClose: (err: XenError) => void): void {
    this.#onClose = onClose;
    if (this.#closedErr) {
      onClose(this.#closedErr);
      return;
    }
    this.sock.on('data', onData);
    this.sock.resume();
  }

  send(bytes: Uint8Array): void {
    if (this.#closedErr || this.sock.destroyed) {
      throw new XenError('ENOTCONN', `connection to xenstored at ${this.path} is closed`);
    }
    // Pipelined requests issued in one turn leave in one writev.
    if (!this.#corked) {
      this.#corked = true;
      this.sock.cork();
      queueMicrotask(() => {
        this.#corked = false;
        this.sock.uncork();
      });
    }
    this.sock.write(bytes);
  }

  close(): void {
    this.#closedErr ??= new XenError('ENOTCONN', `connection to xenstored at ${this.path} closed by this end`);
    this.sock.destroy();
  }
}

/**
 * A connection to a Xenstored in this thread (dom0 code in the host process), as domain
 * `domid` (privileged for dom0 unless opts say otherwise).
 */
export function connectLocal(xenstored: LocalXenstored, domid = 0, opts: Omit<LocalConnectOptions, 'onClose'> = {}): XsClientTransport {
  return new LocalTransport(xenstored, domid, opts);
}

class LocalTransport implements XsClientTransport {
  readonly #conn: LocalConnection;
  #onData: ((bytes: Uint8Array) => void) | undefined;
  #onClose: ((err: XenError) => void) | undefined;
  #inbox: Uint8Array[] = [];
  #flushQueued = false;
  #closedErr: XenError | undefined;
  #closeReported = false;

  constructor(xenstored: LocalXenstored, readonly domid: number, opts: Omit<LocalConnectOptions, 'onClose'>) {
    this.#conn = xenstored.connect(domid, (bytes) => this.#fromDaemon(bytes), { ...opts, onClose: (r) => this.#dropped(r) });
  }

  start(onData: (bytes: Uint8Array) => void, onClose: (err: XenError) => void): void {
    this.#onData = onData;
    this.#onClose = onClose;
    this.#queueFlush();
  }

  send(bytes: Uint8Array): void {
    if (this.#closedErr) throw new XenError('ENOTCONN', `xenstore connection of domain ${this.domid} is closed`);
    this.#conn.receive(bytes);
  }

  close(): void {
    if (this.#closedErr) return;
    this.#conn.close();
    this.#end(new XenError('ENOTCONN', 'xenstore connection closed by this end'));
  }

  #fromDaemon(bytes: Uint8Array): number {
    // Delivered on a later microtask, never inside the daemon's call: a watch callback that
    // writes to xenstore must not re-enter xenstored while it is firing watches.
    this.#inbox.push(bytes);
    this.#queueFlush();
    return 0;
  }

  #queueFlush(): void {
    if (this.#flushQueued || !this.#onData) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      const chunks = this.#inbox;
      this.#inbox = [];
      for (const c of chunks) this.#onData!(c);
      if (this.#closedErr && this.#inbox.length === 0) this.#reportClose();
    });
  }

  #reportClose(): void {
    if (this.#closeReported || !this.#onClose) return;
    this.#closeReported = true;
    this.#onClose(this.#closedErr!);
  }

  #dropped(reason: number): void {
    const why = reason === XENSTORE_ERROR_NONE ? '' : ` (${ringErrorName(reason)})`;
    this.#end(new XenError('ENOTCONN', `xenstored dropped the connection of domain ${this.domid}${why}`));
  }

  #end(err: XenError): void {
    if (this.#closedErr) return;
    this.#closedErr = err;
    // After whatever the daemon sent before closing.
    if (this.#inbox.length > 0 && this.#onData) this.#queueFlush();
    else this.#reportClose();
  }
}
