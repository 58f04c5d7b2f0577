// xl migrate-receive as a host service (`xenode host --listen ADDRESS:PORT`): a TCP listener
// that takes one migration per connection. The sender proves it may send with the host's
// migration token before anything else is read; once the configuration is read the domain is
// built paused as NAME--incoming and the stream's frames go into it as they arrive
// (incoming.ts), and the sender is told once it is built and parked (MIGRATE_XENODE_BUILT); only the sender's permission to go lets it run, under its own name. A failure
// before that (a bad or broken stream included) destroys the copy here, before the connection
// closes, so the sender's stays the only one. A connection whose preamble says it carries a
// disk (--with-disks) is served by disks.ts; the first disk of a migration opens it (one slot)
// and is given its token, which the migration's other connections show instead of the host's;
// the slot is held until they have all ended.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { XenError } from '../errors.js';
import type { BuiltDomain } from '../toolstack/builder.js';
import type { Host } from '../toolstack/host.js';
import { MIGRATE_PERMISSION_TO_GO, MIGRATE_RECEIVER_BANNER, MIGRATE_RECEIVER_READY, MIGRATE_REPORT, MIGRATE_XENODE_BUILT, MIGRATE_XENODE_SYNCED } from './format.js';
import { readDeadline } from './deadline.js';
import { receiveDisk } from './disks.js';
import { readImage } from './image.js';
import { IncomingDomain, checkNameFree } from './incoming.js';
import { PendingConnections } from './pending.js';
import { ByteSource } from './source.js';
import { AUTH_BYTES, AUTH_REFUSED, DISK_AUTH_PREFIX, authentic, lingerAndClose, readFixed, refuse, send } from './wire.js';

/** Migrations received at once, by senders with the token (a migration's disks are its own). */
const MAX_INCOMING = 4;
/**
 * Connections yet to show the token, in all and from one address: past these the oldest is
 * dropped (pending.ts), and each must show it within AUTH_MS in all (not per octet), so that a
 * client without the token holds no slot of a migration, and a host fd only for so long.
 */
const MAX_UNAUTHENTICATED = 64;
const MAX_UNAUTHENTICATED_PER_ADDRESS = 8;
const AUTH_MS = 5_000;
const STALL_MS = 30_000;

export interface ReceiverOptions {
  readonly address: string;
  readonly port: number;
  /** Where the token is written (mode 0600) for senders that may use it. */
  readonly tokenFile: string;
  readonly log: (line: string) => void;
  readonly stallMs?: number;
  /** How long a connection has to show the token (AUTH_MS). */
  readonly authMs?: number;
}

/**
 * A migration of its own: one of the MAX_INCOMING slots, held until every connection that is
 * part of it (its first, and those joined with its token) has ended.
 */
interface Slot { refs: number }

/**
 * A migration opened by its first disk: its token, which only the opener's address may show
 * (a token seen on the wire is no use elsewhere), for at most its other disks and exactly one memory stream, while the first disk's
 * connection lasts; the connections joined with it, cut if the first disk fails.
 */
interface Opened {
  readonly token: string;
  readonly address: string | undefined;
  readonly slot: Slot;
  disks: number;
  memory: number;
  readonly joined: Set<Socket>;
}

export class MigrationReceiver {
  #active = 0;
  /** Migrations opened by a first disk whose connection is being served (at most MAX_INCOMING). */
  readonly #opened = new Set<Opened>();
  readonly #unauthenticated = new PendingConnections(MAX_UNAUTHENTICATED, MAX_UNAUTHENTICATED_PER_ADDRESS);

  private constructor(readonly server: Server, readonly token: string) {}

  static async listen(host: Host, opts: ReceiverOptions): Promise<MigrationReceiver> {
    const token = randomBytes(32).toString('hex');
    await writeFile(opts.tokenFile, `${token}\n`, { mode: 0o600 });
    const server = createServer();
    const r = new MigrationReceiver(server, token);
    server.on('connection', (sock) => void r.#serve(host, sock, opts));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return r;
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async #serve(host: Host, sock: Socket, opts: ReceiverOptions): Promise<void> {
    sock.on('error', () => {});
    // Counted until it shows the token, or else until it is closed (a refusal lingers).
    this.#unauthenticated.admit(sock);
    const stallMs = opts.stallMs ?? STALL_MS;
    const authMs = opts.authMs ?? AUTH_MS;
    const src = new ByteSource(sock, { stallMs });
    const peer = `${sock.remoteAddress}:${sock.remotePort}`;
    const log = (line: string) => opts.log(`migration from ${peer}: ${line}`);
    let preamble: Buffer;
    const cancelDeadline = readDeadline(authMs, () => sock.destroy(new XenError('ETIMEDOUT', `no authentication preamble within ${authMs} ms`)));
    try {
      preamble = await src.read(AUTH_BYTES, 'the authentication preamble');
    } catch (e) {
      log((e as Error).message);
      src.close();
      sock.destroy();
      return;
    } finally {
      cancelDeadline();
    }
    // The host's token: a migration of its own (a slot). An opened migration's: one of its connections.
    const own = authentic(preamble, this.token, DISK_AUTH_PREFIX) ? 'disk' : authentic(preamble, this.token) ? 'memory' : undefined;
    const joined = own ? undefined : this.#join(preamble, sock);
    // Refused or busy: the sender reads why, and the connection goes soon after.
    const turnAway = (why: string): void => {
      src.close();
      sock.end(why);
      lingerAndClose(sock, authMs);
    };
    if (!own && !joined) {
      log('refused: authentication failed (nothing was created)');
      turnAway(AUTH_REFUSED);
      return;
    }
    this.#unauthenticated.release(sock);
    if (own && this.#active >= MAX_INCOMING) {
      turnAway('xenode migration receiver: busy\n');
      return;
    }
    const slot = joined?.opened.slot ?? this.#take();
    let opened: Opened | undefined;
    let failed = false;
    try {
      if ((own ?? joined!.kind) === 'memory') await receive(host, sock, src, log);
      else await receiveDisk(host, sock, src, log, own ? (disks) => (opened = this.#open(sock, slot, disks)).token : undefined);
    } catch (e) {
      failed = true;
      log((e as Error).message);
    } finally {
      // A first disk's end ends its migration's joins; a failed one cuts those it let in.
      if (opened) {
        this.#opened.delete(opened);
        if (failed) for (const s of opened.joined) s.destroy();
      }
      joined?.opened.joined.delete(sock);
      this.#leave(slot);
      src.close();
      // Refused: the sender reads why before the connection goes.
      if (sock.writableEnded && !sock.destroyed) lingerAndClose(sock, stallMs);
      else sock.destroy();
    }
  }

  #take(): Slot {
    this.#active++;
    return { refs: 1 };
  }

  #leave(slot: Slot): void {
    if (--slot.refs === 0) this.#active--;
  }

  /** A migration's first disk announced `disks`: its other disks and its memory stream may follow with the token returned, while `sock` is served. */
  #open(sock: Socket, slot: Slot, disks: number): Opened {
    // Gone before its answer, or more than the slots allow (it could not be: each has one).
    if (sock.destroyed) throw new XenError('ENOTCONN', 'the first disk\'s connection closed before its answer');
    if (this.#opened.size >= MAX_INCOMING) throw new XenError('EBUSY', 'too many migrations opened');
    const opened: Opened = { token: randomBytes(32).toString('hex'), address: sock.remoteAddress, slot, disks: disks - 1, memory: 1, joined: new Set() };
    this.#opened.add(opened);
    return opened;
  }

  /** Which of an opened migration's connections `sock` is, if its preamble shows the token, from the opener's address, and the migration may open one more of its kind. */
  #join(preamble: Buffer, sock: Socket): { opened: Opened; kind: 'disk' | 'memory' } | undefined {
    for (const opened of this.#opened) {
      const kind = authentic(preamble, opened.token, DISK_AUTH_PREFIX) ? 'disk' : authentic(preamble, opened.token) ? 'memory' : undefined;
      if (!kind) continue;
      if (sock.remoteAddress !== opened.address) return undefined;
      const left = kind === 'disk' ? opened.disks : opened.memory;
      if (left === 0) return undefined;
      if (kind === 'disk') opened.disks--;
      else opened.memory--;
      opened.slot.refs++;
      opened.joined.add(sock);
      return { opened, kind };
    }
    return undefined;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function receive(host: Host, sock: Socket, src: ByteSource, log: (line: string) => void): Promise<void> {
  log('migration target: Ready to receive domain.');
  await send(sock, [MIGRATE_RECEIVER_BANNER]);
  let incoming: IncomingDomain | undefined;
  let built: BuiltDomain;
  let name = '';
  /** The sender waits for this before it suspends the guest (MIGRATE_XENODE_BUILT). */
  let builtSent: Promise<void> | undefined;
  let saidBuilt = false;
  let buildError: unknown;
  /** The answers to the sender's sync records, each after the built message. */
  let synced: Promise<void> = Promise.resolve();
  const onSync = () => {
    synced = synced.then(() => builtSent).then(() => send(sock, [MIGRATE_XENODE_SYNCED]));
    synced.catch(() => {}); // a broken connection fails the stream's reads
  };
  try {
    const image = await readImage(src, (config) => {
      name = config.name;
      // Its own name must be free here, or it could never run here: refuse before building it.
      checkNameFree(host, name);
      incoming = new IncomingDomain(host, config, `${name}--incoming`);
      // A failed build is refused at once: the sender, waiting for the built message before
      // it suspends the guest, fails with our reason, the guest still running there.
      builtSent = incoming.built.then(() => {
        saidBuilt = true;
        return send(sock, [MIGRATE_XENODE_BUILT]);
      }, (e: unknown) => {
        buildError ??= e;
        refuse(sock, e);
        throw e;
      });
      builtSent.catch(() => {}); // awaited below
      return incoming;
    }, onSync);
    built = await incoming!.finish(image);
    await builtSent;
  } catch (e) {
    // Before the built message the sender waits for it (its guest runs on): it hears why.
    if (!saidBuilt) refuse(sock, buildError ?? e);
    await incoming?.abort();
    throw buildError ?? e;
  }
  const { domid } = built.domain;
  let rc = 0;
  try {
    log('migration target: Transfer complete, requesting permission to start domain.');
    await send(sock, [MIGRATE_RECEIVER_READY]);
    await readFixed(src, MIGRATE_PERMISSION_TO_GO, 'GO message');
  } catch (e) {
    // The sender keeps (or resumes) its copy: ours must go.
    await incoming!.abort();
    throw e;
  }
  log('migration target: Got permission, starting domain.');
  try {
    await incoming!.start(built, name);
    log('migration target: Domain started successsfully.');
  } catch (e) {
    log(`migration target: ${(e as Error).message}`);
    rc = 1;
  }
  await send(sock, [MIGRATE_REPORT, Buffer.from([rc])]);
  if (rc) {
    log('migration target: Failure, destroying our copy.');
    await host.destroy(domid).catch(() => {});
    log('migration target: Cleanup OK, granting sender permission to resume.');
    await send(sock, [MIGRATE_PERMISSION_TO_GO]);
  }
}
