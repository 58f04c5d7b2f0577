// The host daemon's control socket: serves the command API to local clients over the protocol
// of wire.ts. The socket is 0600 in a 0700 state dir: only the host's user gets in. A command
// runs to completion even if its client goes away (its reply is dropped), so a client that
// disconnects mid-command never leaves a half-done change behind.
//
// Every client is bounded, so that one that floods requests or never reads its replies costs
// itself and not the host or other clients (docs/SECURITY.md, "Control socket"): a few requests
// in flight at a time, its requests left unread while its replies pile up, a cap on what all
// clients together leave unread (the largest is dropped past it), and on how many connect.
import { chmod, lstat, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { XenError } from '../errors.js';
import { decodeRequest, type Args, type Op, type Request, type Result, type StreamOp, type Streams, type Toolstack } from './contract.js';
import { MAX_REQUEST_BYTES, LineBuffer, encodeError, encodeLine, parseRequest, type WireReply } from './wire.js';

export interface ControlLimits {
  /** Connections served at once; more are refused with EAGAIN. */
  readonly maxConnections: number;
  /** Requests of one connection running at once; its further requests wait unread. */
  readonly maxInFlight: number;
  /** Requests of one connection started in one turn of the event loop: others get theirs in between. */
  readonly perTurn: number;
  /** A connection with this much unread output gets no more of its requests read... */
  readonly outputHigh: number;
  /** ...until it has read down to this. */
  readonly outputLow: number;
  /** A console or event stream with this much unread output is dropped (it cannot be paused). */
  readonly streamUnread: number;
  /**
   * What all connections together hold: unread output and requests received but not taken
   * (a partial line, say). Past it the connection holding the most is dropped.
   */
  readonly totalHeld: number;
}

export const CONTROL_LIMITS: ControlLimits = {
  maxConnections: 1024,
  maxInFlight: 64,
  perTurn: 8,
  outputHigh: 1 << 20,
  outputLow: 256 << 10,
  streamUnread: 8 << 20,
  totalHeld: 64 << 20,
};

interface Stream {
  /** The ok reply is out: the stream may flow. */
  start(): void;
  input(data: Buffer): void;
  close(): void;
}

/** One client connection's state. */
class Conn {
  /** rpc: request lines; upgrading: a stream op is being set up, input waits; stream: raw. */
  mode: 'rpc' | 'upgrading' | 'stream' = 'rpc';
  stream: Stream | null = null;
  readonly lines = new LineBuffer(MAX_REQUEST_BYTES);
  /** Requests running. */
  inFlight = 0;
  /** Bytes written to the socket and not yet taken by the client. */
  unread = 0;
  /** Bytes received and not yet taken as requests, as last counted. */
  input = 0;
  /** Above outputHigh, until below outputLow. */
  outputBlocked = false;
  /** The client has ended its side. */
  clientDone = false;
  /** Every complete line received has been taken. */
  linesTaken = true;
  drainScheduled = false;
  closed = false;

  constructor(readonly sock: Socket) {}
}

/** A decoded request's operation, with the arguments typed for it. */
function call<K extends Op>(api: Toolstack, req: { readonly op: K; readonly args: Args<K> }): Promise<Result<K>> {
  return api.call(req.op, req.args);
}

export class ControlServer {
  readonly #conns = new Set<Conn>();
  /** Sum of every connection's unread bytes. */
  #unread = 0;
  /** Sum of every connection's input bytes. */
  #input = 0;

  private constructor(private readonly server: Server, readonly path: string, private readonly api: Toolstack, readonly limits: ControlLimits) {}

  static async listen(path: string, api: Toolstack, limits: Partial<ControlLimits> = {}): Promise<ControlServer> {
    // The caller holds the state dir's lock, so a socket here is a dead host's.
    const st = await lstat(path).catch(() => undefined);
    if (st?.isSocket()) await unlink(path);
    // Half-open: a client may send its requests, end its side, and still read the replies
    // (`socat - UNIX-CONNECT:control.sock < requests`).
    const server = createServer({ allowHalfOpen: true });
    const s = new ControlServer(server, path, api, { ...CONTROL_LIMITS, ...limits });
    server.on('connection', (sock) => s.#accept(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await chmod(path, 0o600);
    return s;
  }

  /** Connections served, and the bytes written to them that they have not read yet. */
  stats(): { connections: number; unreadBytes: number; inputBytes: number } {
    return { connections: this.#conns.size, unreadBytes: this.#unread, inputBytes: this.#input };
  }

  #accept(sock: Socket): void {
    sock.on('error', () => {});
    if (this.#conns.size >= this.limits.maxConnections) {
      const e = new XenError('EAGAIN', `the host serves at most ${this.limits.maxConnections} control connections at once: try again when others have closed`);
      // Closed outright once the line is out: a refused client must not keep a descriptor half open.
      sock.end(encodeLine({ id: 0, ok: false, error: encodeError(e) }), () => sock.destroy());
      return;
    }
    const c = new Conn(sock);
    this.#conns.add(c);
    sock.on('data', (chunk: Buffer) => {
      if (c.mode === 'stream') {
        c.stream!.input(chunk);
        return;
      }
      c.lines.push(chunk);
      this.#drain(c);
    });
    sock.on('end', () => {
      c.clientDone = true;
      // A stream ends with its client; requests still running get their replies first.
      if (c.mode === 'stream') sock.end();
      else this.#maybeEnd(c);
    });
    sock.on('close', () => {
      c.closed = true;
      this.#conns.delete(c);
      this.#unread -= c.unread;
      c.unread = 0;
      this.#input -= c.input;
      c.input = 0;
      c.stream?.close();
    });
  }

  /** Write to a client, counting what it has not read yet against its bounds and the total. */
  #send(c: Conn, data: string | Uint8Array): void {
    if (c.closed || c.sock.destroyed) return;
    const n = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    c.unread += n;
    this.#unread += n;
    c.sock.write(data, () => {
      if (c.closed) return;
      c.unread -= n;
      this.#unread -= n;
      if (c.outputBlocked && c.unread <= this.limits.outputLow) {
        c.outputBlocked = false;
        this.#scheduleDrain(c);
      }
    });
    if (c.mode === 'stream' && c.unread > this.limits.streamUnread) {
      c.sock.destroy();
      return;
    }
    if (c.unread > this.limits.outputHigh) c.outputBlocked = true;
    this.#checkTotal();
    this.#flow(c);
  }

  #checkTotal(): void {
    if (this.#unread + this.#input <= this.limits.totalHeld) return;
    let largest: Conn | undefined;
    for (const c of this.#conns) if (!largest || c.unread + c.input > largest.unread + largest.input) largest = c;
    largest?.sock.destroy();
  }

  /** Read a client's requests only while it may start more, has none waiting, and reads its replies. */
  #flow(c: Conn): void {
    if (c.closed) return;
    // Complete lines still waiting are enough input: what the client sends next stays in its socket.
    const hold = c.mode === 'upgrading' || (c.mode === 'rpc' && (!c.linesTaken || c.inFlight >= this.limits.maxInFlight || c.outputBlocked));
    if (hold && !c.sock.isPaused()) c.sock.pause();
    else if (!hold && c.sock.isPaused()) c.sock.resume();
  }

  /**
   * Go on with a client's requests in a later turn of the event loop, not in the microtask
   * of the reply that made room: a client whose requests complete at once must not keep the
   * loop from everyone else.
   */
  #scheduleDrain(c: Conn): void {
    if (c.drainScheduled) return;
    c.drainScheduled = true;
    setImmediate(() => {
      c.drainScheduled = false;
      this.#drain(c);
      this.#flow(c);
      this.#maybeEnd(c);
    });
  }

  #reply(c: Conn, r: WireReply): void {
    this.#send(c, encodeLine(r));
  }

  /** Hang up once the client has ended its side and every reply is out. */
  #maybeEnd(c: Conn): void {
    if (c.clientDone && c.inFlight === 0 && c.mode === 'rpc' && c.linesTaken) c.sock.end();
  }

  #drain(c: Conn): void {
    try {
      for (let started = 0; c.mode === 'rpc' && !c.closed; started++) {
        if (c.inFlight >= this.limits.maxInFlight || c.outputBlocked) {
          c.linesTaken = false;
          break;
        }
        if (started === this.limits.perTurn) {
          c.linesTaken = false;
          this.#scheduleDrain(c);
          break;
        }
        const line = c.lines.next();
        if (line === undefined) {
          c.linesTaken = true;
          break;
        }
        this.#handle(c, line);
      }
    } catch (e) {
      // A line past the limit: say why, and hang up.
      this.#reply(c, { id: 0, ok: false, error: encodeError(e) });
      c.sock.end();
    }
    if (!c.closed) {
      const input = c.mode === 'stream' ? 0 : c.lines.length;
      this.#input += input - c.input;
      c.input = input;
      this.#checkTotal();
    }
    this.#flow(c);
  }

  #handle(c: Conn, line: string): void {
    let id = 0;
    let req: Request;
    try {
      const w = parseRequest(line);
      id = w.id;
      req = decodeRequest(w.op, w.args);
    } catch (e) {
      this.#reply(c, { id, ok: false, error: encodeError(e) });
      return;
    }
    if (req.kind === 'call') {
      c.inFlight++;
      call(this.api, req).then(
        (result) => this.#reply(c, { id, ok: true, result }),
        (e: unknown) => this.#reply(c, { id, ok: false, error: encodeError(e) }),
      ).finally(() => {
        c.inFlight--;
        this.#scheduleDrain(c);
      });
      return;
    }
    c.mode = 'upgrading';
    this.#upgrade(c, req).then((s) => {
      this.#reply(c, { id, ok: true, result: s.result });
      c.stream = s.stream;
      c.mode = 'stream';
      s.stream.start();
      const rest = c.lines.takeRest();
      this.#input -= c.input;
      c.input = 0;
      if (rest.length) s.stream.input(rest);
      this.#flow(c);
      if (c.clientDone) c.sock.end();
    }, (e: unknown) => {
      this.#reply(c, { id, ok: false, error: encodeError(e) });
      c.mode = 'rpc';
      this.#scheduleDrain(c);
    });
  }

  /** Set up a console or event stream for this connection. */
  async #upgrade(c: Conn, req: Extract<Request, { kind: 'stream' }>): Promise<{ result: Streams[StreamOp]['result']; stream: Stream }> {
    // The stream starts after the ok reply: what comes before (a console's replayed log, an
    // event) waits for it.
    let held: (Uint8Array | string)[] | null = [];
    let endHeld = false;
    const send = (data: Uint8Array | string) => (held ? held.push(data) : this.#send(c, data));
    const end = () => (held ? (endHeld = true) : c.sock.end());
    const started = () => {
      const early = held ?? [];
      held = null;
      for (const data of early) this.#send(c, data);
      if (endHeld) c.sock.end();
    };
    if (req.op === 'events') {
      const sub = await this.api.events((e) => send(encodeLine(e)));
      return { result: {}, stream: { start: started, input: () => {}, close: () => sub.close() } };
    }
    const session = await this.api.console(req.args.domain, { onOutput: send, onEnd: end }, { replay: req.args.replay === true });
    return {
      result: { domid: session.domid, name: session.name },
      stream: { start: started, input: (data) => session.write(data), close: () => session.close() },
    };
  }

  /** Stop listening and hang up on every client once what was written to it is out. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const c of this.#conns) c.sock.end(() => c.sock.destroy());
    await closed;
  }
}
