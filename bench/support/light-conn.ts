// The connections of bench/xenstore.ts's many-clients test: as cheap for this process as a Node
// client gets, so that the daemons, not the load generator, set the rate. With the client
// library's socket transport (a Buffer, a stream push and a nextTick per read; a cork and a
// microtask per write) this process spent about as much CPU per request as the daemons did, and
// at 1,000 clients on a quiet machine it was the one at 100% (docs/PERFORMANCE.md, xenstored,
// xsc17). Every connection reads into one buffer (net's `onread`, as xenstored and the echo
// server read) and writes its one request in flight straight to the socket.
import { Buffer } from 'node:buffer';
import { type Socket, connect } from 'node:net';
import { readingInto } from '../../src/readinto.js';
import { XsFrameReader } from '../../src/xenstore/common/frames.js';

/** Shared by every connection: a read's replies are cut (and a partial one copied) before the next read. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** cxenstored listens with a backlog of 1: a burst of connects gets EAGAIN until it accepts. */
const CONNECT_TRIES = 1000;

export class LightConn {
  /** Each reply's type, in order. */
  onReply: ((type: number) => void) | undefined;
  /** The daemon dropped the connection: whatever waits on it fails instead of hanging. */
  onClose: ((e: Error) => void) | undefined;
  #closing = false;
  #lastError: Error | undefined;
  /** Why the daemon's side is gone: a send after it fails at once (the waiter set up after the close would wait forever). */
  #closed: Error | undefined;
  readonly #sock: Socket;

  private constructor(connected: Socket, path: string) {
    const frames = new XsFrameReader((h) => this.onReply?.(h.type));
    this.#sock = readingInto(connected, READ_BUFFER, (n, buf) => {
      frames.push(buf.subarray(0, n));
      return true;
    });
    this.#sock.on('error', (e) => {
      this.#lastError = e;
    });
    this.#sock.on('close', () => {
      if (this.#closing) return;
      this.#closed = new Error(`connection to ${path} closed${this.#lastError ? `: ${this.#lastError.message}` : ''}`);
      this.onClose?.(this.#closed);
    });
  }

  static async open(path: string): Promise<LightConn> {
    for (let tries = 0; ; tries++) {
      try {
        return new LightConn(await connected(path), path);
      } catch (e) {
        if (tries >= CONNECT_TRIES || (e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
  }

  send(packet: Uint8Array): void {
    if (this.#closed) throw this.#closed;
    this.#sock.write(packet);
  }

  close(): void {
    this.#closing = true;
    this.#sock.destroy();
  }
}

/** A socket connected to `path`, paused from its creation (readingInto takes its handle). */
function connected(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ path });
    sock.pause();
    sock.once('error', reject);
    sock.once('connect', () => {
      sock.off('error', reject);
      resolve(sock);
    });
  });
}
