// xenstored's Unix-domain socket, for dom0 tools and Xen's own clients (XENSTORED_PATH). Every
// client is dom0, as in Xen, so the socket is mode 0600. What one read's requests produce leaves
// as soon as they are served (no microtask per reply: Node makes an async resource for each): the
// read's first replies in a write each (EARLY_WRITES), the rest in one write per connection at
// the read's end, in the order the connections were first sent to; output produced elsewhere
// (watch events of a scheduled turn) leaves at the end of its turn. A client that does not read
// its replies, or whose connection holds as much unprocessed input as it takes, stops being read
// (the kernel then blocks its writes), and one that lets watch events pile up is dropped by the
// connection's bound.
//
// Every connection reads into one buffer (net's `onread`) instead of through the stream's
// 'data' events: no Buffer, stream push and nextTick per read, which at one request in flight
// are a large part of the daemon's own CPU per request (docs/PERFORMANCE.md, xenstored). After
// answering, the listener polls its sockets for a short adaptive window (poll-window.ts), so a
// client that sends its next request soon is read without waking a sleeping daemon.
import { Buffer } from 'node:buffer';
import { chmod, lstat, unlink } from 'node:fs/promises';
import { type Server, type Socket, createServer } from 'node:net';
import { readingInto } from '../../readinto.js';
import { PollWindow } from './poll-window.js';
import type { CloseReason, ConnectionSink, SendBytes } from './transport.js';

/** Small messages held for a peer that does not read are merged this many at a time. */
const MERGE_BATCH = 256;
/** The one read buffer: a read's bytes are handled, or copied, before the next read. */
const READ_BUFFER_BYTES = 64 * 1024;
/**
 * A read's first replies leave at once, one write each, when no other connection's output waits
 * before them; the rest of what the read produced leaves in one write at its end. A client with
 * several requests in flight on another CPU then works on the first replies while the daemon
 * makes the rest, instead of waiting for all of them, as cxenstored's one request per poll pass
 * lets it. Only while the CPUs are not busy (the poll window's gate): on a busy machine the
 * client is woken on the daemon's CPU, preempts it at every such write, and one write per read
 * was 1.8x as fast (docs/PERFORMANCE.md, xenstored, xs16). Deeper pipelines still get most
 * replies in one write.
 */
const EARLY_WRITES = 4;

export type AcceptConnection = (send: SendBytes, onDrop: (reason: CloseReason) => void) => ConnectionSink;

const NOTHING = Buffer.alloc(0);

/**
 * A connection's output waiting for its write: most often one reply, held without an array. While
 * the peer does not read, small messages are merged MERGE_BATCH at a time, so that a backlog of
 * many small events costs few objects.
 */
class Outbox {
  bytes = 0;
  #one: Uint8Array | undefined;
  /** Two or more messages; many[0..merged) are merged chunks. */
  #many: Uint8Array[] | undefined;
  #merged = 0;

  add(bytes: Uint8Array, merge: boolean): void {
    this.bytes += bytes.byteLength;
    const many = this.#many;
    if (many === undefined) {
      if (this.#one === undefined) {
        this.#one = bytes;
        return;
      }
      this.#many = [this.#one, bytes];
      this.#one = undefined;
      return;
    }
    many.push(bytes);
    if (merge && many.length - this.#merged >= MERGE_BATCH) {
      many.push(Buffer.concat(many.splice(this.#merged)));
      this.#merged = many.length;
    }
  }

  /** Everything waiting, in one buffer; the outbox is empty afterwards. */
  take(): Uint8Array {
    const out = this.#many !== undefined ? Buffer.concat(this.#many, this.bytes) : (this.#one ?? NOTHING);
    this.#one = undefined;
    this.#many = undefined;
    this.#merged = 0;
    this.bytes = 0;
    return out;
  }
}

export class UnixSocketListener {
  readonly #sockets = new Set<Socket>();
  /**
   * Flushes of connections with output waiting, dirty[0..dirtyCount) in the order their output
   * arrived. The list is kept from batch to batch: a new array per batch (one batch per read)
   * was a measurable share of the daemon's garbage at 1,000 clients.
   */
  readonly #dirty: ((() => void) | undefined)[] = [];
  #dirtyCount = 0;
  #flushQueued = false;
  /** Inside a connection's 'data' handler: its end flushes, no microtask needed. */
  #reading = false;

  #markDirty(flush: () => void): void {
    this.#dirty[this.#dirtyCount++] = flush;
    if (this.#reading || this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(this.#flushAll);
  }

  readonly #flushAll = (): void => {
    this.#flushQueued = false;
    // A flush may serve a connection that was waiting for its peer to read (outputPending), whose
    // replies are then marked behind: the loop takes them too.
    const dirty = this.#dirty;
    for (let i = 0; i < this.#dirtyCount; i++) {
      const f = dirty[i]!;
      dirty[i] = undefined;
      f();
    }
    this.#dirtyCount = 0;
  };

  private constructor(
    private readonly server: Server,
    readonly path: string,
    /** Halt-polling after answers (poll-window.ts): a client with one request in flight is read without a wake-up. */
    private readonly poll: PollWindow,
  ) {}

  /** `cpusBusy`: whether other tasks want the CPUs (default: poll-window.ts's look at the run queue). */
  static async listen(path: string, accept: AcceptConnection, log: (line: string) => void, cpusBusy?: () => boolean): Promise<UnixSocketListener> {
    // A socket left by a daemon that died would make bind fail; anything else at the path stays.
    const st = await lstat(path).catch(() => undefined);
    if (st?.isSocket()) await unlink(path);
    const server = createServer({ pauseOnConnect: true });
    const l = new UnixSocketListener(server, path, new PollWindow(undefined, undefined, cpusBusy));
    server.on('connection', (sock) => l.#attach(sock, accept));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        // Later errors (accept failing for lack of file descriptors) cost one client, not the daemon.
        server.on('error', (e) => log(`xenstored socket ${path}: ${e.message}`));
        resolve();
      });
    });
    await chmod(path, 0o600);
    return l;
  }

  readonly #readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);

  #attach(accepted: Socket, accept: AcceptConnection): void {
    // Assigned below, before the socket's first read (a later turn) calls back.
    let conn!: ConnectionSink;
    const sock = readingInto(accepted, this.#readBuffer, (n, buf) => {
      this.poll.input();
      this.#reading = true;
      early = this.poll.cpusFree ? EARLY_WRITES : 0;
      try {
        conn.receive(buf.subarray(0, n));
      } finally {
        this.#reading = false;
        early = 0;
      }
      if (this.#dirtyCount > 0) this.#flushAll();
      this.poll.answered();
      // false stops reading (net's onread): held input or unread output.
      return !throttled && conn.wantsInput !== false;
    });
    this.#sockets.add(sock);
    const outbox = new Outbox();
    /**
     * The socket closed, or xenstored dropped it: output goes nowhere. Kept here rather than read
     * from the socket's `destroyed` getter at every write (about 1% of the daemon's CPU at 1,000
     * clients). A socket Node destroys itself (a read error) emits 'error' first: it is gone from then.
     */
    let gone = false;
    let flushQueued = false;
    let throttled = false;
    /** Replies of this connection's current read that may still leave at once (EARLY_WRITES). */
    let early = 0;
    /** Writes what waits; true when the kernel refused some of it and reading stopped. */
    const write = (): boolean => {
      const out = outbox.take();
      if (gone || out.length === 0 || sock.write(out) || throttled) return false;
      throttled = true;
      sock.pause();
      return true;
    };
    // A batch at the end of a read or a turn: no send is running, so the backlog is reported here.
    // An early write inside send and the write at 'drain' leave that to send's return and to the
    // 'drain' handler, so the connection hears of each backlog once, never from inside its send.
    const flush = (): void => {
      flushQueued = false;
      if (write()) conn.outputPending?.(sock.writableLength);
    };
    const send: SendBytes = (bytes) => {
      if (gone) return 0;
      // While the peer is not reading, output waits here until 'drain', merged.
      outbox.add(bytes, throttled);
      if (!flushQueued && !throttled) {
        if (early > 0 && this.#dirtyCount === 0) {
          early--;
          write();
        } else {
          flushQueued = true;
          this.#markDirty(flush);
        }
      }
      // What the peer has not taken: bytes the kernel refused (the batch leaves this turn).
      return throttled ? sock.writableLength + outbox.bytes : sock.writableLength;
    };
    conn = accept(send, () => {
      gone = true;
      sock.destroy();
    });
    const reading = (): void => {
      if (throttled || conn.wantsInput === false) sock.pause();
      else sock.resume();
    };
    conn.onInputSpace = reading;
    sock.on('drain', () => {
      if (!throttled) return;
      throttled = false;
      if (outbox.bytes > 0) write();
      conn.outputPending?.(sock.writableLength + outbox.bytes);
      reading();
    });
    // 'close' follows every error (EPIPE, ECONNRESET) and does the rest; output stops here.
    sock.on('error', () => {
      gone = true;
    });
    sock.on('close', () => {
      gone = true;
      this.#sockets.delete(sock);
      conn.close();
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    await closed;
    await unlink(this.path).catch(() => undefined);
  }
}
