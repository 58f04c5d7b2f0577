// xl migrate, the sending half: connect to the receiving host and authenticate, send the
// configuration, pre-copy the guest's RAM while it runs (every populated frame, then rounds of
// the frames that changed; the guest is stopped only once the receiver says its copy is built
// and parked, and that it has read the pre-copy: a sync record and its answer), stop and copy (suspend, the last changed frames, the suspend
// record's place), then xl's handshake: the receiver says it has the domain, the sender renames
// its copy NAME--migratedaway and gives permission to go, the receiver reports, the sender
// destroys its copy (once the target's guest has had its first answers' boost, RESUME_BOOST_MS).
// "Migration successful."
//
// There is no dirty bit for guest frames in a SharedArrayBuffer, so changed frames are found by
// comparing each populated frame with the copy sent last (memcmp of every frame per round, and
// one copy of the populated RAM held on the sender for the length of the migration, carved from
// slabs). What is sent of a frame is that copy, not the frame as it is when the stream gets to
// it (the guest runs on meanwhile): so the receiver holds exactly what the next comparison is
// made against, and a frame changed and changed back between two rounds cannot leave it with
// bytes the guest no longer has. A pre-copy round compares all its frames first (the count is
// what the dirty threshold judges), then encodes and writes them, each pass a slice of frames at a
// time, letting dom0's loop run between slices: that loop is also every other domain's netback,
// switch and xenstored, and a whole round at once held it for 100-650 ms under load (the bench's
// first round, 13 MiB), during which the guest's own clients went unanswered. A cancel or a
// refusal can arrive between slices: each slice checks the connection first. The stop-and-copy
// goes in one piece: the guest is suspended then.
//
// The invariant: the domain runs in exactly one place. Until the receiver has acknowledged the
// whole stream, any failure resumes it here; after the permission to go is sent, the sender
// never resumes it unless the receiver reports failure and hands it back (xl's protocol), or the
// connection breaks and a new one to the target is refused: the receiver lives and dies with its
// host process and its domains, so nothing listening means no copy there. Otherwise (the target
// may live, unreachable) the copy here stays suspended as NAME--migratedaway and the error says
// to check both ends, as xl's does.
import { connect, type Socket } from 'node:net';
import { RESUME_BOOST_MS } from '../hypervisor/sched.js';
import { XenError, isXenError } from '../errors.js';
import type { MigrateResult } from '../toolstack/contract.js';
import type { Host } from '../toolstack/host.js';
import { MIGRATE_PERMISSION_TO_GO, MIGRATE_RECEIVER_BANNER, MIGRATE_RECEIVER_READY, MIGRATE_REPORT, MIGRATE_XENODE_SYNCED } from './format.js';
import { encodeFrames, encodeHeaders, encodeSync } from './image.js';
import { populatedPfns, trailerOf } from './save.js';
import { DiskMigration } from './disks.js';
import { SentFrames } from './sentframes.js';
import { ByteSource } from './source.js';
import { assertOpen, authLine, readBanner, readBuilt, readFixed, send } from './wire.js';

/** xc's defaults: stop and copy once fewer frames than this changed in a round, or after this many rounds. */
export const DIRTY_THRESHOLD = 50;
export const MAX_ROUNDS = 5;
const STALL_MS = 30_000;

export interface MigrateOptions {
  /** The receiving host's migration token. */
  readonly token: string;
  readonly maxRounds?: number;
  readonly dirtyThreshold?: number;
  /** How long the guest gets to suspend. */
  readonly suspendTimeoutMs?: number;
  /** How long the receiver may stay silent. */
  readonly stallMs?: number;
  /** Storage XenMotion: mirror and copy the domain's VDI disks to the destination (disks.ts). */
  readonly withDisks?: boolean;
  /** VDI uuid -> destination SR (uuid or name); default the destination's default SR. */
  readonly vdiMap?: Readonly<Record<string, string>>;
  /** xl's sender messages, as they happen. */
  readonly say?: (line: string) => void;
  /**
   * Aborted: the migration stops if it is still before the target's ready message (the guest
   * runs on here); past it the move goes on, since the target may already run the guest.
   */
  readonly signal?: AbortSignal;
}

export function parseTarget(target: string): { host: string; port: number } {
  const m = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):([0-9]{1,5})$/.exec(target);
  const port = Number(m?.[2]);
  if (!m || !(port > 0 && port < 65536)) throw new XenError('EINVAL', `the destination must be HOST:PORT, not '${target}'`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

function dial(host: string, port: number, ms: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new XenError('ETIMEDOUT', `no answer from ${host}:${port} within ${ms} ms`));
    }, ms);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.off('error', onError);
      sock.setNoDelay(true);
      resolve(sock);
    });
    const onError = (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new XenError(e.code === 'ECONNREFUSED' ? 'ECONNREFUSED' : 'EIO', `cannot reach the migration receiver at ${host}:${port}: ${e.message}`));
    };
    sock.once('error', onError);
  });
}

/** Whether a new connection to the target is refused (no process listens there). */
async function refused(host: string, port: number): Promise<boolean> {
  try {
    (await dial(host, port, 2000)).destroy();
    return false;
  } catch (e) {
    return isXenError(e, 'ECONNREFUSED');
  }
}

/** Frames a pre-copy round compares, or encodes and writes, before it lets the loop run (1 MiB). */
const PRECOPY_SLICE_FRAMES = 256;
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function migrateDomain(host: Host, domid: number, target: string, opts: MigrateOptions): Promise<MigrateResult> {
  const t0 = performance.now();
  const messages: string[] = [];
  const say = (line: string) => {
    messages.push(line);
    opts.say?.(line);
  };
  const d = host.hv.domain(domid);
  const config = host.config(domid);
  if (!config) throw new XenError('EINVAL', `No config file stored for running domain ${domid} - cannot migrate.`);
  if (d.shutdownReason || d.paused) throw new XenError('EINVAL', `domain ${domid} is not running (${d.shutdownReason ?? 'paused'}): only a running domain migrates`);
  const { host: addr, port } = parseTarget(target);
  authLine(opts.token); // a malformed token is refused before anything is touched
  const stallMs = opts.stallMs ?? STALL_MS;
  opts.signal?.throwIfAborted();
  const disks = opts.withDisks ? await DiskMigration.start(host, config, addr, port, opts.token, opts.vdiMap ?? {}, (a, p) => dial(a, p, stallMs), stallMs) : undefined;
  if (disks) say(`migration sender: disks mirrored to the target, ${disks.copiedBytes} bytes copied.`);
  try {
    return await migrateMemory(host, domid, target, addr, port, { ...opts, stallMs }, disks, say, t0, messages);
  } catch (e) {
    // The guest runs here (or, if the handshake broke, is suspended here): its disks are its own again.
    await disks?.abort();
    throw e;
  }
}

async function migrateMemory(host: Host, domid: number, target: string, addr: string, port: number, opts: MigrateOptions & { stallMs: number },
  disks: DiskMigration | undefined, say: (line: string) => void, t0: number, messages: string[]): Promise<MigrateResult> {
  const d = host.hv.domain(domid);
  const config = disks?.config ?? host.config(domid)!;
  // With disks, the stream belongs to the migration their first connection opened (disks.ts).
  const auth = authLine(disks?.token ?? opts.token);
  const { stallMs } = opts;
  const sock = await dial(addr, port, stallMs);
  sock.on('error', () => {}); // reported through the reads and writes that fail
  const src = new ByteSource(sock, { stallMs });
  const rounds: number[] = [];
  let bytes = 0;
  const out = async (chunks: Buffer[]) => {
    for (const c of chunks) bytes += c.length;
    await send(sock, chunks);
  };
  let suspended = false;
  /** Why the target will not build the domain (readBuilt), if it said so. */
  let refusal: unknown;
  let tSuspend = 0;
  let tSuspended = 0;
  let tDisksDone = 0;
  let tCompared = 0;
  let tSent = 0;
  let tAcked = 0;
  let tRenamed = 0;
  let tGo = 0;
  // A cancel breaks the stream: what is under way fails as a broken migration does, the guest resumed here.
  const cancel = () => sock.destroy(opts.signal?.reason as Error);
  try {
    // Before the guest is touched: a receiver that refuses costs it nothing.
    try {
      opts.signal?.throwIfAborted();
      opts.signal?.addEventListener('abort', cancel, { once: true });
      await send(sock, [auth]);
      await readBanner(src, MIGRATE_RECEIVER_BANNER);
      // The target says when its domain is built and parked: the guest stops here only then.
      let isBuilt = false;
      const built = readBuilt(src).then(() => (isBuilt = true));
      // A refusal (or no built message) stops the pre-copy at once, and its reason is the error.
      built.catch((e: unknown) => {
        refusal = e;
        sock.destroy();
      });
      await out(encodeHeaders(config));
      const sent = new SentFrames();
      const sentFrame = (pfn: number) => sent.frame(pfn);
      const maxRounds = opts.maxRounds ?? MAX_ROUNDS;
      const threshold = opts.dirtyThreshold ?? DIRTY_THRESHOLD;
      /** One pre-copy round, a slice at a time; false when few enough frames changed to leave them to the stop-and-copy. */
      const round = async (first: boolean): Promise<boolean> => {
        const all = populatedPfns(d);
        const pfns: number[] = [];
        for (let i = 0; i < all.length; i += PRECOPY_SLICE_FRAMES) {
          if (i > 0) await yieldToLoop();
          assertOpen(sock); // cancelled or refused meanwhile: no more comparing and copying
          // Its memory as it is now: a destroy meanwhile stops the migration (guestMemory).
          sent.changed(host.guestMemory(d), all, i, Math.min(i + PRECOPY_SLICE_FRAMES, all.length), pfns);
        }
        if (!first && pfns.length < threshold) {
          // Few enough: they go with the stop-and-copy, which must see them as unsent.
          sent.forget(pfns);
          return false;
        }
        rounds.push(pfns.length);
        // The copies as compared (a frame written since goes next round). A copy is changed
        // only by a later comparison that finds its frame changed, which sends it again (or
        // leaves it to the stop-and-copy): if the socket had not taken all of it yet, what it
        // took next is mended later in the stream.
        for (let i = 0; i < pfns.length; i += PRECOPY_SLICE_FRAMES) {
          await out(encodeFrames(sentFrame, pfns.slice(i, i + PRECOPY_SLICE_FRAMES), { copy: false }).chunks);
          await yieldToLoop();
        }
        return true;
      };
      for (let i = 0; i < maxRounds && (await round(i === 0)); i++);
      if (!isBuilt) {
        await built;
        // The guest ran on while the target built: what it changed meanwhile goes before the stop.
        await round(false);
      }
      // The target has read all of that before the guest stops: what the sockets' buffers still
      // held of the pre-copy (up to several MiB, traced under load) was read in the downtime,
      // ahead of the stop-and-copy. What changes meanwhile goes with the stop-and-copy.
      await out(encodeSync());
      await readFixed(src, MIGRATE_XENODE_SYNCED, 'synced message');
      tSuspend = performance.now();
      await host.suspend(domid, opts.suspendTimeoutMs);
      suspended = true;
      tSuspended = performance.now();
      await disks?.done();
      tDisksDone = performance.now();
      const last = sent.changed(host.guestMemory(d), populatedPfns(d));
      tCompared = performance.now();
      rounds.push(last.length);
      await out([...encodeFrames(sentFrame, last, { copy: false }).chunks, ...(await trailerOf(host, d))]);
      tSent = performance.now();
      await readFixed(src, MIGRATE_RECEIVER_READY, 'ready message');
      opts.signal?.removeEventListener('abort', cancel);
      tAcked = performance.now();
    } catch (e) {
      opts.signal?.removeEventListener('abort', cancel);
      if (host.isBeingDestroyed(d)) throw destroyedAtSender(e);
      if (!suspended) {
        if (refusal !== undefined) throw failed(refusal, 'Migration failed; the domain runs on at the sender.');
        throw failed(e, isXenError(e, 'ETIMEDOUT') && tSuspend ? 'Migration failed, failed to suspend at sender.' : 'Migration failed; the domain runs on at the sender.');
      }
      host.resume(domid);
      throw failed(e, 'Migration failed, resuming at sender.');
    }
    say('migration sender: Target has acknowledged transfer.');
    const name = d.name;
    // The rename's checks and the new name come at once (Host.beginRename; a refusal throws);
    // its record in the host database, a synced transaction, is written while the target
    // starts, not in the downtime before the permission.
    const away = `${name}--migratedaway`;
    let renamed: Promise<void>;
    try {
      renamed = host.beginRename(domid, away);
    } catch (e) {
      if (host.isBeingDestroyed(d)) throw destroyedAtSender(e);
      host.resume(domid);
      throw failed(e, 'Migration failed, resuming at sender.');
    }
    renamed.catch(() => {}); // awaited below
    // As xl: the guest resumes here even if its old name cannot be had back (taken meanwhile);
    // the rename away's records are written first, so the two renames do not interleave. One
    // destroyed meanwhile has nothing to resume, and its domid may name another domain by then.
    const renameBackAndResume = async (why: string) => {
      await renamed.catch(() => {});
      try {
        if (!host.isBeingDestroyed(d)) await host.rename(domid, name);
      } catch (e) {
        say(`migration sender: Failed to rename domain back to '${name}': ${(e as Error).message}`);
      }
      if (host.isBeingDestroyed(d)) throw destroyedAtSender(new Error(why));
      host.resume(domid);
    };
    tRenamed = performance.now();
    say('migration sender: Giving target permission to start.');
    let status: number;
    try {
      await send(sock, [MIGRATE_PERMISSION_TO_GO]);
      tGo = performance.now();
      await readFixed(src, MIGRATE_REPORT, 'success/failure report message');
      status = (await src.read(1, 'success/failure status'))[0]!;
    } catch (e) {
      // A target whose host process died took its domains with it, and nothing listens at its
      // address any more: then, and only then, ours is the only copy and runs on here.
      if (await refused(addr, port)) {
        await renameBackAndResume('the target died during the final handshake');
        throw failed(e, `Migration failed: the target died during the final handshake (nothing listens at ${target} any more); resumed at sender.`);
      }
      throw failed(e, '** Migration failed during final handshake **\nDomain state is now undefined !\n'
        + `Please CHECK AT BOTH ENDS for running instances, before renaming and resuming at most one instance (here: '${name}--migratedaway', suspended).`);
    }
    if (status !== 0) {
      say(`migration sender: Target reports startup failure (status code ${status}).`);
      await readFixed(src, MIGRATE_PERMISSION_TO_GO, 'permission for sender to resume').catch((e: unknown) => {
        throw failed(e, `** Migration failed during final handshake **\nthe target did not hand the domain back: '${name}--migratedaway' stays suspended here`);
      });
      say('migration sender: Trying to resume at our end.');
      await renameBackAndResume(`the target reported a failed start (status code ${status})`);
      say('migration sender: Resumed OK.');
      throw new XenError('EIO', 'Migration failed due to problems at target.');
    }
    const tReport = performance.now();
    await renamed.catch((e: unknown) => say(`migration sender: the host database kept the old name of '${away}': ${(e as Error).message}`));
    const downtimeMs = tReport - tSuspend;
    const downtimePartsMs = {
      suspend: tSuspended - tSuspend, ...(disks && { disks: tDisksDone - tSuspended }), lastRound: tAcked - tDisksDone, handshake: tReport - tAcked,
    };
    const epoch = (t: number) => performance.timeOrigin + t;
    const sender: Record<string, number> = {
      suspend: epoch(tSuspend), suspended: epoch(tSuspended), ...(disks && { disks: epoch(tDisksDone) }), compared: epoch(tCompared),
      lastRoundSent: epoch(tSent), acked: epoch(tAcked), renamed: epoch(tRenamed), go: epoch(tGo), report: epoch(tReport),
    };
    const reported = d.vcpu?.marks?.('suspend');
    const guest = reported && (reported.asked ?? 0) >= sender.suspend ? reported : undefined; // not an earlier suspend's
    const timeline = { sender, ...(guest && { guest }) };
    say('migration sender: Target reports successful startup.');
    const moved = await disks?.commit();
    // The old copy stays suspended (it never runs again) while the target's guest resumes and
    // gives its first answers at the host's priority: its teardown (vifs, xenstore, the vCPU
    // thread's end: 5-17 ms of this host's loop, which carries the guest's clients here, and a
    // thread's teardown on the same cores) ran right then, and the client's answer came as it
    // ended in most runs traced.
    // A host that is stopping destroys its domains itself: no boost is worth delaying that.
    if (!host.stopping) await new Promise((r) => setTimeout(r, RESUME_BOOST_MS));
    sender.destroying = epoch(performance.now());
    // The old copy may be gone already (the host closed meanwhile, destroying every domain, or
    // an operator destroyed it): the guest runs at the target all the same, and its source
    // VDIs, moved there, still go.
    await host.destroy(domid).catch((e: unknown) => {
      if (!isXenError(e, 'ESRCH')) throw e;
      say(`migration sender: '${away}' was destroyed already (${(e as Error).message}).`);
    });
    sender.destroyed = epoch(performance.now());
    for (const uuid of moved ?? []) {
      await host.vdis.destroy(uuid).catch((e: unknown) => say(`migration sender: source VDI ${uuid} kept: ${(e as Error).message}`));
    }
    say('Migration successful.');
    return { messages, rounds, bytes, downtimeMs, downtimePartsMs, timeline, totalMs: performance.now() - t0 };
  } finally {
    src.close();
    sock.destroy();
  }
}

function failed(e: unknown, what: string): XenError {
  const errno = isXenError(e) ? e.errno : 'EIO';
  return new XenError(errno, `${what} (${(e as Error).message})`);
}

/** A destroy at the sender meanwhile, whatever it broke on the way (a wait timed out, a disk's copy): ESRCH. */
function destroyedAtSender(e: unknown): XenError {
  return new XenError('ESRCH', `Migration failed: the domain was destroyed at the sender meanwhile. (${(e as Error).message})`);
}
