// xl save and the sending half of a migration: suspend the guest (its runtime hands over its
// state and quiesces), take its image (populated RAM frames, shared_info, the place of its
// suspend record, its own xenstore data), then destroy it, or with a checkpoint let it run on.
// A save that fails resumes the guest in place ("Failed to save domain, resuming domain").
import { close, fchmod, fdatasync, ftruncate, writev, type Stats } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { promisify } from 'node:util';
import { PAGE_SIZE } from '../abi/xen.js';
import { XenError, isXenError } from '../errors.js';
import type { Domain } from '../hypervisor/hypervisor.js';
import { PFN_SHARED_INFO, firstRamPfn } from '../hypervisor/layout.js';
import { NamedFileError, openNamed } from '../storage/named.js';
import type { DomainConfig } from '../toolstack/domconfig.js';
import type { SaveResult } from '../toolstack/contract.js';
import type { Host } from '../toolstack/host.js';
import type { XenstoreClient } from '../xenstore/client/client.js';
import { MAX_BATCH_PAGES } from './format.js';
import { encodeHeaders, encodePages, encodeTrailer } from './image.js';

/** Bounds on the guest's xenstore data a save carries. */
const MAX_XENSTORE_NODES = 1024;

/** The guest's own `data/` subtree, relative keys, bounded. */
export async function guestData(xs: XenstoreClient, domid: number): Promise<[string, string][]> {
  const out: [string, string][] = [];
  const walk = async (rel: string): Promise<void> => {
    if (out.length >= MAX_XENSTORE_NODES) return;
    const path = `/local/domain/${domid}/${rel}`;
    const [value, children] = await Promise.all([xs.readOptional(path), xs.directory(path).catch(() => [] as string[])]);
    if (value && rel !== 'data') out.push([rel, value]);
    for (const c of children) await walk(`${rel}/${c}`);
  };
  await walk('data');
  return out;
}

/** The domain's populated RAM frames (every pfn below its high-water mark). */
export function populatedPfns(d: Domain): number[] {
  const first = firstRamPfn(d.view.geometry);
  const hwm = d.view.ramHwm;
  const pfns: number[] = [];
  for (let p = first; p < hwm; p++) pfns.push(p);
  return pfns;
}

/** What follows the memory of a suspended domain: shared_info, its suspend record's place, its xenstore data. */
export async function trailerOf(host: Host, d: Domain): Promise<Buffer[]> {
  const record = d.suspendRecord;
  if (!record) throw new XenError('EINVAL', `domain ${d.domid} is not suspended by its runtime (no suspend record)`);
  const sharedInfo = new Uint8Array(host.guestMemory(d), PFN_SHARED_INFO * PAGE_SIZE, PAGE_SIZE).slice();
  return encodeTrailer({ sharedInfo, suspendRecord: record, xenstore: await guestData(host.xs, d.domid) });
}

/** Where a save's image goes, one piece after the other. */
export interface ImageSink {
  writev(chunks: Buffer[]): Promise<unknown>;
}

/** Frames a save writes in one piece: a destroy waits for one piece's write at most (a regular file's). */
const SAVE_PIECE_PAGES = MAX_BATCH_PAGES;

/**
 * Write the image of a suspended domain, in pieces of SAVE_PIECE_PAGES frames, each read from its
 * memory only while no destroy has begun (Host.guestMemory). To a regular file a piece is written
 * from the memory as it is, read by a libuv thread until its write settles: a destroy meanwhile
 * reaps the domain, but its memory stays out of the domheap until then, as Xen frees a page only
 * once libxc's mapping of it goes too (a copy made a 6 MiB image's write take 12 ms, not 5). To a
 * FIFO, whose reader may stop reading and leave a write pending for ever, a piece is a copy, and a destroy fails the save (ESRCH) without waiting for that write, which holds the
 * file and the copy, not the domain's memory or its domid (docs/SECURITY.md). Exported for its
 * unit test, which holds a write.
 */
export async function writeImage(host: Host, d: Domain, config: DomainConfig, sink: ImageSink, regular: boolean): Promise<Pick<SaveResult, 'info' | 'bytes' | 'pages'>> {
  // Watched from the start: a destroy that ends during the trailer's reads is not missed.
  const { destroyed, stopWatching } = regular ? { destroyed: undefined, stopWatching: () => {} } : destroyOf(host, d);
  destroyed?.catch(() => {});
  let bytes = 0;
  const write = async (chunks: Buffer[], fromMemory: boolean) => {
    const written = sink.writev(chunks);
    if (fromMemory) host.hv.linger(d.domid, written);
    for (const c of chunks) bytes += c.length;
    await (destroyed ? Promise.race([written, destroyed]) : written);
  };
  try {
    const trailer = await trailerOf(host, d);
    const pfns = populatedPfns(d);
    const headers = encodeHeaders(config);
    await write(headers, false);
    for (let i = 0; i < pfns.length; i += SAVE_PIECE_PAGES) {
      await write(encodePages(host.guestMemory(d), pfns.slice(i, i + SAVE_PIECE_PAGES), { copy: !regular }).chunks, regular);
    }
    await write(trailer, false);
    const xl = headers[0]!;
    return { info: [xl.readUInt32LE(36), 0, xl.readUInt32LE(44)], bytes, pages: pfns.length };
  } finally {
    stopWatching();
  }
}

/**
 * Saves of each host watching for their domain's destroy, by domid: one 'destroyed' listener a
 * host, however many saves are in flight (one a save passed EventEmitter's warning bound at 11).
 */
const watching = new WeakMap<Host, Map<number, Set<() => void>>>();

/** Rejects (ESRCH) once `d` is destroyed, at once if a destroy of it has begun. */
function destroyOf(host: Host, d: Domain): { destroyed: Promise<never>; stopWatching: () => void } {
  let byDomid = watching.get(host);
  if (!byDomid) {
    const m = new Map<number, Set<() => void>>();
    host.on('destroyed', (domid) => m.get(domid)?.forEach((fail) => fail()));
    watching.set(host, (byDomid = m));
  }
  let fail!: () => void;
  const destroyed = new Promise<never>((_, reject) => (fail = () => reject(new XenError('ESRCH', 'during its write'))));
  if (host.isBeingDestroyed(d)) fail();
  const saves = byDomid.get(d.domid) ?? new Set();
  byDomid.set(d.domid, saves.add(fail));
  return {
    destroyed,
    stopWatching: () => {
      saves.delete(fail);
      if (saves.size === 0 && byDomid.get(d.domid) === saves) byDomid.delete(d.domid);
    },
  };
}

/**
 * A save file holds all of the guest's memory and its runtime's suspend state (its TCP stack's
 * RFC 6528 secrets among them): its owner's only, whatever the umask (docs/SECURITY.md).
 */
const SAVE_FILE_MODE = 0o600;
/** How long a save to a FIFO waits for its reader (xl save d p & gzip < p), as the suspend's own timeout if one is given. */
const READER_WAIT_MS = 30_000;

const closeP = promisify(close);
const writevP = promisify(writev);
const fdatasyncP = promisify(fdatasync);
const fchmodP = promisify(fchmod);
const ftruncateP = promisify(ftruncate);

/** The path names another user's file: refused, and not removed. */
class ForeignFile extends XenError {}

/** A save's open target: where its image goes, and how it is synced and closed. */
interface SaveTarget {
  readonly sink: ImageSink;
  /** A regular file: made private and emptied first, synced at the end, removed if the save fails. */
  readonly regular: boolean;
  readonly datasync: () => Promise<void>;
  /** Closes once a write left in flight ends (a FIFO's is dropped at once). */
  readonly close: () => Promise<void>;
}

/**
 * Opened as named.ts opens what a client names, holding no thread: a FIFO with no reader is
 * tried again until one comes (xl save d p & gzip < p) within `readerWaitMs`, then ENXIO;
 * anything but a regular file or a FIFO (a device, a socket) is refused before it is opened; a
 * symbolic link another user made in /tmp is not followed, and a new file is made O_EXCL. A
 * FIFO is written through the event loop, as a pipe is, so a reader that stops reading holds no
 * I/O thread either. The file is opened without truncating it: one another user owns (a regular
 * file or a FIFO pre-created in /tmp, say) is refused, left as it is: a chmod would not take it
 * from its owner, who could read the guest's memory. A regular file of ours keeps its mode when
 * opened (a save to the same path before this mode, say): it is made our own only, then
 * emptied, before anything is written.
 */
async function openTarget(file: string, readerWaitMs: number): Promise<SaveTarget> {
  const { fd, stats } = await openNamed(file, { what: 'save file', kind: 'save', create: SAVE_FILE_MODE, readerWaitMs }).catch((e: unknown) => {
    // Its errno kept (ENOSPC, EDQUOT, EMFILE...): the path is said once.
    const why = e instanceof NamedFileError ? e.why : (e as Error).message;
    throw new XenError(isXenError(e) ? e.errno : 'EACCES', `Failed to open temp file ${file} for writing: ${why}`);
  });
  try {
    await keepPrivate(fd, stats, file);
  } catch (e) {
    await closeP(fd).catch(() => {});
    if (e instanceof ForeignFile) throw e;
    await rmQuietly(file);
    throw new XenError('EACCES', `Failed to make ${file} private: ${(e as Error).message}`);
  }
  if (stats.isFIFO()) {
    // libuv writes it as the reader takes it; a write that cannot go on waits on the loop.
    const pipe = new Socket({ fd, readable: false, writable: true });
    pipe.on('error', () => {}); // each write's callback has it
    return {
      sink: {
        writev: (chunks) => new Promise<void>((resolve, reject) => {
          if (chunks.length === 0) resolve();
          chunks.forEach((c, i) => pipe.write(c, i < chunks.length - 1 ? undefined : (e) => (e ? reject(e) : resolve())));
        }),
      },
      regular: false,
      datasync: async () => {},
      close: async () => void pipe.destroy(),
    };
  }
  // The write last begun (writes go one at a time): the descriptor is closed only after it, so
  // that a write still queued for an I/O thread never reaches another file given its number.
  let last: Promise<unknown> = Promise.resolve();
  // Closed once: a second close(2) could close a file the daemon opened meanwhile under the number.
  let closing: Promise<void> | undefined;
  return {
    sink: { writev: (chunks) => (last = writevP(fd, chunks)) },
    regular: true,
    datasync: () => fdatasyncP(fd),
    close: () => (closing ??= last.catch(() => {}).then(() => closeP(fd))),
  };
}

/** A regular file or a FIFO must be ours; a regular file is then made ours only and emptied. */
async function keepPrivate(fd: number, st: Stats, file: string): Promise<void> {
  if (st.uid !== process.geteuid?.()) throw new ForeignFile('EACCES', `Failed to open temp file ${file} for writing: it is owned by another user (uid ${st.uid})`);
  if (!st.isFile()) return;
  if (st.mode & 0o077) await fchmodP(fd, SAVE_FILE_MODE);
  await ftruncateP(fd, 0);
}

export interface SaveOptions {
  /** xl save -c: the domain runs on afterwards. */
  readonly checkpoint?: boolean;
  /** xl save -p: the domain is left paused afterwards. */
  readonly paused?: boolean;
  readonly timeoutMs?: number;
}

export async function saveDomain(host: Host, domid: number, file: string, opts: SaveOptions = {}): Promise<SaveResult> {
  const config = host.config(domid);
  if (!config) throw new XenError('EINVAL', `domain ${domid} has no configuration to save (Domain-0, or still being created)`);
  // The file first: a path that cannot be written costs the guest nothing.
  const target = await openTarget(file, opts.timeoutMs ?? READER_WAIT_MS);
  const { regular } = target;
  // Only a file the save wrote goes when it fails: a FIFO the path names stays.
  const discard = () => (regular ? rmQuietly(file) : Promise.resolve());
  const t0 = performance.now();
  let d: Domain;
  try {
    d = await host.suspend(domid, opts.timeoutMs);
  } catch (e) {
    await target.close();
    await discard();
    throw e;
  }
  const t1 = performance.now();
  let written: Pick<SaveResult, 'info' | 'bytes' | 'pages'>;
  let t2: number;
  try {
    written = await writeImage(host, d, config, target.sink, regular);
    t2 = performance.now();
    // On stable storage before the domain goes: a crash after the save reports success must
    // not lose the only copy of the guest (xl closes the file without a sync). A FIFO has none
    // to reach (fdatasync fails EINVAL).
    if (regular) await target.datasync();
    await target.close();
    if (host.isBeingDestroyed(d)) throw new XenError('ESRCH', 'after its image was written');
  } catch (e) {
    // A write left in flight by a destroy (a reader that stopped reading) holds the file until
    // it ends: the close waits for it, the save does not.
    const closed = target.close().catch(() => {});
    if (!host.isBeingDestroyed(d)) await closed;
    await discard();
    // Destroyed under the save (xl destroy meanwhile): nothing to resume, and no file kept of it.
    if (host.isBeingDestroyed(d)) throw new XenError('ESRCH', `Failed to save domain ${domid}: it was destroyed while it was being saved (${(e as Error).message})`);
    host.resume(domid);
    throw new XenError(isXenError(e) ? e.errno : 'EIO', `Failed to save domain, resuming domain: ${(e as Error).message}`);
  }
  const t3 = performance.now();
  if (opts.checkpoint || opts.paused) {
    if (opts.paused) host.pause(domid);
    host.resume(domid);
  } else {
    await host.destroy(domid);
  }
  return {
    ...written,
    ms: { suspend: t1 - t0, image: t2 - t1, sync: t3 - t2 },
  };
}

async function rmQuietly(file: string): Promise<void> {
  await rm(file, { force: true }).catch(() => {});
}
