// The host daemon's control socket: serves the command API (api.ts) to local clients over the
// protocol of wire.ts. The socket is 0600 in a 0700 state dir: only the host's user gets in.
// A command runs to completion even if its client goes away (its reply is dropped), so a
// client that disconnects mid-command never leaves a half-done change behind.
import { chmod, lstat, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { XenError } from '../errors.js';
import type { ToolstackApi } from './api.js';
import {
  MAX_REQUEST_BYTES, LineBuffer, STREAM_OPS, encodeError, encodeLine, parseRequest, type StreamOp, type WireReply,
  type WireRequest,
} from './wire.js';

/** A viewer or subscriber that lets this much output pile up unread is dropped. */
const MAX_UNREAD_BYTES = 8 << 20;

interface Stream {
  /** The ok reply is out: the stream may flow. */
  start(): void;
  input(data: Buffer): void;
  close(): void;
}

export class ControlServer {
  readonly #sockets = new Set<Socket>();

  private constructor(private readonly server: Server, readonly path: string, private readonly api: ToolstackApi) {}

  static async listen(path: string, api: ToolstackApi): Promise<ControlServer> {
    // The caller holds the state dir's lock, so a socket here is a dead host's.
    const st = await lstat(path).catch(() => undefined);
    if (st?.isSocket()) await unlink(path);
    // Half-open: a client may send its requests, end its side, and still read the replies
    // (`socat - UNIX-CONNECT:control.sock < requests`).
    const server = createServer({ allowHalfOpen: true });
    const s = new ControlServer(server, path, api);
    server.on('connection', (sock) => s.#serve(sock));
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

  #serve(sock: Socket): void {
    this.#sockets.add(sock);
    const lines = new LineBuffer(MAX_REQUEST_BYTES);
    // rpc: request lines; upgrading: a stream op is being set up, input waits; stream: raw.
    let mode: 'rpc' | 'upgrading' | 'stream' = 'rpc';
    let stream: Stream | null = null;
    const held: Buffer[] = [];

    let pending = 0;
    let clientDone = false;
    const reply = (r: WireReply) => {
      if (!sock.destroyed) sock.write(encodeLine(r));
    };
    /** Hang up once the client has ended its side and every reply is out. */
    const maybeEnd = (): void => {
      if (clientDone && pending === 0 && mode === 'rpc') sock.end();
    };
    const handle = (line: string) => {
      let req: WireRequest;
      try {
        req = parseRequest(line);
      } catch (e) {
        reply({ id: 0, ok: false, error: encodeError(e) });
        return;
      }
      if (!(STREAM_OPS as readonly string[]).includes(req.op)) {
        pending++;
        this.api.dispatch(req.op, req.args).then(
          (result) => reply({ id: req.id, ok: true, result }),
          (e: unknown) => reply({ id: req.id, ok: false, error: encodeError(e) }),
        ).finally(() => {
          pending--;
          maybeEnd();
        });
        return;
      }
      mode = 'upgrading';
      this.#upgrade(sock, req, req.op as StreamOp).then((s) => {
        reply({ id: req.id, ok: true, result: s.result });
        s.stream.start();
        stream = s.stream;
        mode = 'stream';
        for (const b of [lines.takeRest(), ...held.splice(0)]) if (b.length) stream.input(b);
        if (clientDone) sock.end();
      }, (e: unknown) => {
        reply({ id: req.id, ok: false, error: encodeError(e) });
        mode = 'rpc';
        for (const b of held.splice(0)) lines.push(b);
        drain();
        maybeEnd();
      });
    };
    const drain = () => {
      try {
        while (mode === 'rpc') {
          const line = lines.next();
          if (line === undefined) return;
          handle(line);
        }
      } catch (e) {
        // A line past the limit: say why, and hang up.
        reply({ id: 0, ok: false, error: encodeError(e) });
        sock.end();
      }
    };

    sock.on('data', (chunk: Buffer) => {
      if (mode === 'stream') stream!.input(chunk);
      else if (mode === 'upgrading') held.push(chunk);
      else {
        lines.push(chunk);
        drain();
      }
    });
    sock.on('end', () => {
      clientDone = true;
      // A stream ends with its client; requests still running get their replies first.
      if (mode === 'stream') sock.end();
      else maybeEnd();
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      this.#sockets.delete(sock);
      stream?.close();
    });
  }

  /** Set up a console or event stream for this connection. */
  async #upgrade(sock: Socket, req: WireRequest, op: StreamOp): Promise<{ result: unknown; stream: Stream }> {
    // The stream starts after the ok reply: what comes before (a console's replayed log, an
    // event) waits for it.
    let held: (Uint8Array | string)[] | null = [];
    const write = (data: Uint8Array | string) => {
      if (sock.destroyed) return;
      if (sock.writableLength > MAX_UNREAD_BYTES) sock.destroy();
      else sock.write(data);
    };
    let endHeld = false;
    const send = (data: Uint8Array | string) => (held ? held.push(data) : write(data));
    const end = () => (held ? (endHeld = true) : sock.end());
    const started = () => {
      for (const data of held ?? []) write(data);
      held = null;
      if (endHeld) sock.end();
    };
    const args = (typeof req.args === 'object' && req.args !== null ? req.args : {}) as Record<string, unknown>;
    if (op === 'events') {
      const sub = await this.api.events((e) => send(encodeLine(e)));
      return { result: {}, stream: { start: started, input: () => {}, close: () => sub.close() } };
    }
    if (args['replay'] !== undefined && typeof args['replay'] !== 'boolean') throw new XenError('EINVAL', 'console: replay must be true or false');
    const session = await this.api.console(args['domain'] as string | number, {
      onOutput: (data) => send(data),
      onEnd: end,
    }, { replay: args['replay'] === true });
    return {
      result: { domid: session.domid, name: session.name },
      stream: { start: started, input: (data) => session.write(data), close: () => session.close() },
    };
  }

  /** Stop listening and hang up on every client once what was written to it is out. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const sock of this.#sockets) sock.end(() => sock.destroy());
    await closed;
  }
}
