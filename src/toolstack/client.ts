// The command API of a host daemon, reached through its control socket: the same Toolstack
// interface as an in-process ToolstackApi, so a command does not care where its host runs.
import { connect, type Socket } from 'node:net';
import { XenError } from '../errors.js';
import type {
  Args, ConsoleHandlers, ConsoleSession, DomainId, DomainRef, HostEvent, Op, Result, StreamOp, Streams, Subscription, Toolstack,
} from './contract.js';
import { displayPath, hostPaths } from './paths.js';
import { LineBuffer, MAX_REPLY_BYTES, decodeError, encodeLine, type WireReply } from './wire.js';

/** Nothing answers on the state dir's control socket. */
export class HostNotRunning extends Error {
  override name = 'HostNotRunning';
  constructor(readonly stateDir: string) {
    super(`no host running on ${displayPath(stateDir)}: start one with \`xenode host\``);
  }
}

function open(stateDir: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(hostPaths(stateDir).controlSocket);
    sock.once('connect', () => {
      sock.off('error', reject);
      resolve(sock);
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? new HostNotRunning(stateDir) : e);
    });
  });
}

const hostGone = () => new XenError('ENOTCONN', 'the host closed the connection (it stopped, or dropped this client)');

export class RemoteToolstack implements Toolstack {
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  #nextId = 1;

  private constructor(readonly stateDir: string, private readonly sock: Socket) {
    const lines = new LineBuffer(MAX_REPLY_BYTES);
    sock.on('data', (chunk: Buffer) => {
      lines.push(chunk);
      for (let line = lines.next(); line !== undefined; line = lines.next()) {
        const r = JSON.parse(line) as WireReply;
        const p = this.#pending.get(r.id);
        this.#pending.delete(r.id);
        if (r.ok) p?.resolve(r.result);
        else p?.reject(decodeError(r.error));
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      for (const p of this.#pending.values()) p.reject(hostGone());
      this.#pending.clear();
    });
  }

  /** The host on `stateDir`; HostNotRunning if there is none. */
  static async connect(stateDir: string): Promise<RemoteToolstack> {
    return new RemoteToolstack(stateDir, await open(stateDir));
  }

  call<K extends Op>(op: K, args: Args<K>): Promise<Result<K>> {
    if (this.sock.destroyed) return Promise.reject(hostGone());
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.sock.write(encodeLine({ id, op, args }));
    });
  }

  /**
   * A connection of its own for a stream op: its reply comes first, then the stream, whose
   * bytes go to `onData`. `onEnd` runs when the host ends the stream, not when we close it.
   */
  async #stream<K extends StreamOp>(op: K, args: Streams[K]['args'], onData: (b: Buffer) => void, onEnd: () => void): Promise<{ result: unknown; write(b: Uint8Array): void; close(): void }> {
    const sock = await open(this.stateDir);
    const lines = new LineBuffer(MAX_REPLY_BYTES);
    let streaming = false;
    let closing = false;
    const result = await new Promise<unknown>((resolve, reject) => {
      const onReply = (chunk: Buffer) => {
        lines.push(chunk);
        const line = lines.next();
        if (line === undefined) return;
        sock.off('data', onReply);
        const r = JSON.parse(line) as WireReply;
        if (!r.ok) {
          sock.destroy();
          reject(decodeError(r.error));
          return;
        }
        resolve(r.result);
        streaming = true;
        sock.on('data', onData);
        const rest = lines.takeRest();
        if (rest.length) onData(rest);
      };
      sock.on('data', onReply);
      sock.on('error', () => {});
      sock.on('close', () => {
        reject(hostGone());
        if (streaming && !closing) onEnd();
      });
      sock.write(encodeLine({ id: 1, op, args }));
    });
    return {
      result,
      write: (b) => void sock.write(b),
      close: () => {
        closing = true;
        sock.end();
      },
    };
  }

  async console(domain: DomainRef, handlers: ConsoleHandlers, opts: { replay?: boolean } = {}): Promise<ConsoleSession> {
    const s = await this.#stream('console', { domain, replay: opts.replay === true }, (b) => handlers.onOutput(b), () => handlers.onEnd());
    return { ...(s.result as DomainId), write: s.write, close: s.close };
  }

  async events(onEvent: (e: HostEvent) => void, onEnd: () => void = () => {}): Promise<Subscription> {
    const lines = new LineBuffer(MAX_REPLY_BYTES);
    const s = await this.#stream('events', {}, (b) => {
      lines.push(b);
      for (let line = lines.next(); line !== undefined; line = lines.next()) onEvent(JSON.parse(line) as HostEvent);
    }, onEnd);
    return { close: s.close };
  }

  /**
   * Hang up. With every reply in, at once: nothing more can come, and ending politely would
   * wait a round trip for the host to close its side (a command's exit waited for it).
   */
  close(): void {
    if (this.#pending.size === 0) this.sock.destroy();
    else this.sock.end();
  }
}
