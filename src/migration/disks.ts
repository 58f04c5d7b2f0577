// xenode migrate --with-disks (Storage XenMotion across hosts): each writable VDI disk of the
// domain goes over a connection of its own to the receiving host. The first is authenticated
// with the host's migration token, takes one of the receiver's slots for the whole migration and
// announces how many disks the migration moves; the receiver answers with a token of this
// migration's own, which the other disks' connections and the memory stream show instead, each
// then belonging to this migration (no slot of its own): its other disks and one memory stream.
// The receiver makes a VDI of the same size in the chosen SR (the vdi map's, or its default
// SR); the guest's backend switches to a MirrorDisk (storage/mirror.ts) whose
// target is that connection, so every write from then on is acknowledged to the guest only once
// the destination has it; meanwhile the disk is read through the very disk the guest uses and
// copied as "base" records. Order does not matter: the receiver remembers which sectors a
// mirrored write reached and a base record never overwrites them (a mirrored write is always at
// least as new as what a base read saw). At the stop-and-copy (the guest suspended, no I/O),
// "done" flushes and closes the destination image; the configuration the destination builds
// from names the new VDIs. Only the sender's "commit", after the destination reports the domain
// running, keeps the VDI there: a connection that ends without it deletes the VDI (unless a
// domain there uses it), and the sender puts its guest back on its plain disk.
//
// Raw, VHD and qcow2 VDIs move, each into a new image of its own format at the destination:
// what the guest sees (a VHD chain or a qcow2 backing chain read through) is copied into one
// image, its zero chunks left unallocated. A raw image may be opened by the receiving domain's
// backend while the copy still writes to it (no metadata to go stale); a VHD's block table or
// qcow2's tables would be cached by that second handle as they were then, and a VHD handle
// opened in the middle of a block allocation would even rewrite the footer. So the incoming
// domain is built without its VHD and qcow2 disks being received (deferredDisks), and they are
// attached once the stream is in (attachDeferred): every disk "done" (flushed and closed here),
// the guest suspended at the source, before it may run here.
//
// Records, sender to receiver: type (1 octet), id (u32), sector (u48), length (u32), data.
// Answers: id (u32), status (0 ok, 1 failed). The opening exchange is a length-prefixed JSON
// object each way.
import type { Socket } from 'node:net';
import { XenError, isXenError } from '../errors.js';
import { SECTOR_SIZE, type Disk } from '../storage/disk.js';
import { MirrorDisk, type MirrorTarget } from '../storage/mirror.js';
import { RAM_TARGET_PREFIX, openDisk, parseParams } from '../storage/open.js';
import type { LiveDisk } from '../storage/snapshot.js';
import type { DomainConfig } from '../toolstack/domconfig.js';
import type { DiskSpec } from '../toolstack/diskspec.js';
import type { Host } from '../toolstack/host.js';
import { VDI_TARGET_PREFIX } from '../toolstack/devices.js';
import { SectorMap } from './sectormap.js';
import { ByteSource } from './source.js';
import { AUTH_REFUSED, DISK_AUTH_PREFIX, authLine, isToken, send } from './wire.js';

const REC_HEADER = 15;
const ACK = 5;
const MAX_JSON = 4096;
/** Largest record the receiver takes (a base chunk; a guest's write is smaller). */
const MAX_DATA = 4 << 20;
const BASE_CHUNK = 1 << 20;
/** The most disks a migration announces: the connections its token opens beyond its first. */
const MAX_MIGRATION_DISKS = 64;
const enum Rec { Mirror = 0x4d, Base = 0x42, Flush = 0x46, Done = 0x44, Commit = 0x43 }
/** Image formats whose VDIs move (into a new image of the same format). */
const MOVABLE_FORMATS: readonly string[] = ['raw', 'vhd', 'qcow2'];

interface Offer {
  readonly vdi: string; readonly name: string; readonly sr: string | null; readonly size: number; readonly format: string;
  /** The first disk's offer only: how many disks the migration moves (MAX_MIGRATION_DISKS at most). */
  readonly disks?: number;
}

async function sendJson(sock: Socket, v: unknown): Promise<void> {
  const body = Buffer.from(JSON.stringify(v));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length);
  await send(sock, [len, body]);
}

async function readJson(src: ByteSource, what: string): Promise<Record<string, unknown>> {
  const head = await src.read(4, what);
  if (head.equals(Buffer.from(AUTH_REFUSED.slice(0, 4), 'latin1'))) throw new XenError('EACCES', 'the target refused the migration token');
  const n = head.readUInt32LE(0);
  if (n > MAX_JSON) throw new XenError('EINVAL', `${what}: ${n} octets is too long`);
  const v: unknown = JSON.parse((await src.read(n, what)).toString('utf8'));
  if (typeof v !== 'object' || v === null) throw new XenError('EINVAL', `${what} is not an object`);
  return v as Record<string, unknown>;
}

/** The sending end of one disk's connection: a MirrorTarget, and base records beside it. */
class RemoteDisk implements MirrorTarget {
  readonly #sock: Socket;
  readonly #src: ByteSource;
  readonly #pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  #next = 1;
  #error: Error | null = null;

  constructor(sock: Socket, src: ByteSource, readonly destVdi: string) {
    this.#sock = sock;
    this.#src = src;
    void this.#acks();
  }

  async #acks(): Promise<void> {
    try {
      for (;;) {
        const a = await this.#src.read(ACK, 'disk acknowledgement');
        const id = a.readUInt32LE(0);
        const p = this.#pending.get(id);
        if (!p) throw new XenError('EBADMSG', `the destination acknowledged disk record ${id}, which was not sent`);
        this.#pending.delete(id);
        if (a[4] === 0) p.resolve();
        else p.reject(new XenError('EIO', `the destination failed disk record ${id}`));
      }
    } catch (e) {
      this.#fail(e as Error);
    }
  }

  #fail(e: Error): void {
    this.#error ??= e;
    for (const p of this.#pending.values()) p.reject(this.#error);
    this.#pending.clear();
    this.#sock.destroy();
  }

  #record(type: Rec, sector: number, bufs: readonly Uint8Array[]): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    const id = this.#next++;
    let n = 0;
    for (const b of bufs) n += b.byteLength;
    const h = Buffer.alloc(REC_HEADER);
    h[0] = type;
    h.writeUInt32LE(id, 1);
    h.writeUIntLE(sector, 5, 6);
    h.writeUInt32LE(n, 11);
    const acked = new Promise<void>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    send(this.#sock, [h, ...bufs.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength))]).catch((e: unknown) => this.#fail(e as Error));
    return acked;
  }

  write(sector: number, bufs: readonly Uint8Array[]): Promise<void> {
    return this.#record(Rec.Mirror, sector, bufs);
  }

  flush(): Promise<void> {
    return this.#record(Rec.Flush, 0, []);
  }

  base(sector: number, buf: Uint8Array): Promise<void> {
    return this.#record(Rec.Base, sector, [buf]);
  }

  done(): Promise<void> {
    return this.#record(Rec.Done, 0, []);
  }

  commit(): Promise<void> {
    return this.#record(Rec.Commit, 0, []);
  }

  close(): void {
    this.#src.close();
    this.#sock.destroy();
  }
}

interface Moving { readonly vdi: string; readonly remote: RemoteDisk; readonly backend: LiveDisk; mirror?: MirrorDisk }

/** The disks of a migration on their way: the config for the destination, then done, commit or abort. */
export class DiskMigration {
  readonly #disks: Moving[];
  /** The configuration for the destination: each moved disk's target names its new VDI. */
  config: DomainConfig;
  /** Bytes of the disks' contents copied (zeros skipped). */
  copiedBytes = 0;
  /** The migration's own token, which the receiver gave the first disk: the memory stream shows it. */
  token = '';

  private constructor(config: DomainConfig, disks: Moving[]) {
    this.config = config;
    this.#disks = disks;
  }

  /**
   * Start mirroring each writable VDI disk of `config` to the host at addr:port and copy its
   * contents; resolves once every disk's base is copied (new writes keep being mirrored).
   */
  static async start(host: Host, config: DomainConfig, addr: string, port: number, token: string,
    vdiMap: Readonly<Record<string, string>>, dial: (addr: string, port: number) => Promise<Socket>, stallMs: number): Promise<DiskMigration> {
    const moving: Moving[] = [];
    const m = new DiskMigration(config, moving);
    try {
      const disks = config.disks.filter((s) => s.access === 'rw' && !s.cdrom && s.target?.startsWith(VDI_TARGET_PREFIX));
      if (disks.length === 0) throw new XenError('EINVAL', `--with-disks: domain '${config.name}' has no writable disk with target=vdi:...`);
      if (disks.length > MAX_MIGRATION_DISKS) throw new XenError('E2BIG', `--with-disks moves at most ${MAX_MIGRATION_DISKS} disks; domain '${config.name}' has ${disks.length}`);
      const targets = new Map<string, string>();
      for (const spec of disks) {
        const { uuid, params } = await host.vdis.diskParams(spec.target!.slice(VDI_TARGET_PREFIX.length), 'rw');
        const vdi = (await host.vdis.list()).find((v) => v.record.uuid === uuid)!.record;
        const { format, target: path } = parseParams(params);
        if (!MOVABLE_FORMATS.includes(format) || path.startsWith(RAM_TARGET_PREFIX)) {
          throw new XenError('EOPNOTSUPP', `--with-disks moves ${MOVABLE_FORMATS.join(', ')} images in directory SRs; VDI ${uuid} is ${format} in a ${path.startsWith(RAM_TARGET_PREFIX) ? 'RAM SR' : 'directory SR'}`);
        }
        const { live, foreign } = await host.vdis.live({ uuid, path });
        if (foreign.length || live.length !== 1) throw new XenError('EBUSY', `VDI ${uuid} is served by ${[...foreign, `${live.length} backends`].join(', ')}: only one backend of dom0 can be mirrored`);
        const sock = await dial(addr, port);
        sock.on('error', () => {});
        const src = new ByteSource(sock, { stallMs });
        const first = m.token === '';
        await send(sock, [authLine(first ? token : m.token, DISK_AUTH_PREFIX)]);
        await sendJson(sock, { vdi: uuid, name: vdi.name_label, sr: vdiMap[uuid] ?? null, size: vdi.virtual_size, format, ...(first && { disks: disks.length }) } satisfies Offer);
        const answer = await readJson(src, 'the destination\'s disk answer').catch((e: unknown) => {
          sock.destroy();
          throw e;
        });
        if (typeof answer['error'] === 'string') {
          sock.destroy();
          throw new XenError('EIO', `the destination cannot take VDI ${uuid}: ${answer['error']}`);
        }
        if (typeof answer['vdi'] !== 'string' || (first && !isToken(String(answer['migration'])))) {
          sock.destroy();
          throw new XenError('EBADMSG', first ? 'the destination named no VDI or no migration token' : 'the destination named no VDI');
        }
        if (first) m.token = answer['migration'] as string;
        const remote = new RemoteDisk(sock, src, answer['vdi']);
        const mv: Moving = { vdi: uuid, remote, backend: live[0]! };
        moving.push(mv);
        targets.set(spec.vdev, `${VDI_TARGET_PREFIX}${remote.destVdi}`);
        // From this switch on every write of the guest reaches both sides before it is acknowledged.
        await mv.backend.switchDisk(async (old) => (mv.mirror = new MirrorDisk(old, remote)));
        m.copiedBytes += await copyBase(mv.mirror!.source, remote);
        await mv.mirror!.flush();
        m.#check(mv);
      }
      m.config = { ...config, disks: config.disks.map((s) => (targets.has(s.vdev) ? { ...s, target: targets.get(s.vdev)! } : s)) };
      return m;
    } catch (e) {
      await m.abort();
      throw e;
    }
  }

  #check(mv: Moving): void {
    if (mv.mirror?.broken) throw new XenError('EIO', `the destination failed while mirroring VDI ${mv.vdi}: ${mv.mirror.broken.message}`);
  }

  /** At the stop-and-copy (no guest I/O): every destination image flushed and closed. */
  async done(): Promise<void> {
    for (const mv of this.#disks) {
      this.#check(mv);
      await mv.remote.done();
    }
  }

  /** The destination runs the domain: its VDIs stay. Returns the source VDIs' uuids. */
  async commit(): Promise<string[]> {
    for (const mv of this.#disks) {
      await mv.remote.commit().catch(() => {});
      mv.remote.close();
    }
    return this.#disks.map((mv) => mv.vdi);
  }

  /** The guest stays here: its backends back on their own disks; the destination deletes its VDIs. */
  async abort(): Promise<void> {
    for (const mv of this.#disks) {
      const m = mv.mirror;
      if (m) await mv.backend.switchDisk(async () => m.source).catch(() => {});
      mv.remote.close();
    }
  }
}

/**
 * Base chunks in flight at once, each read, sent and written at the receiver independently of
 * the others: the copy is bound by the latency of those steps (both ends' disks are read and
 * written by one thread each), not by the bandwidth of any.
 */
const BASE_WINDOW = 8;

/** Every non-zero chunk of `disk` as base records (the destination's new image reads zeros). */
async function copyBase(disk: Disk, remote: RemoteDisk): Promise<number> {
  const per = BASE_CHUNK / SECTOR_SIZE;
  const zero = new Uint8Array(BASE_CHUNK);
  let next = 0;
  let bytes = 0;
  const lane = async (): Promise<void> => {
    while (next < disk.sectors) {
      const sector = next;
      next += per;
      const buf = new Uint8Array(Math.min(per, disk.sectors - sector) * SECTOR_SIZE);
      await disk.read(sector, [buf]);
      if (Buffer.compare(buf, zero.subarray(0, buf.length)) === 0) continue;
      await remote.base(sector, buf);
      bytes += buf.length;
    }
  };
  // One lane's failure ends the copy; the others stop at their next chunk.
  const lanes = Array.from({ length: BASE_WINDOW }, lane);
  try {
    await Promise.all(lanes);
  } finally {
    next = disk.sectors;
    await Promise.allSettled(lanes);
  }
  return bytes;
}

/**
 * The receiving end of one disk's connection (after its authentication preamble). `announce`,
 * for a connection with the host's token: its offer's count of disks opens the migration, whose
 * token (returned) the answer carries.
 */
export async function receiveDisk(host: Host, sock: Socket, src: ByteSource, log: (line: string) => void, announce?: (disks: number) => string): Promise<void> {
  const o = await readJson(src, 'the disk offer').catch(() => ({}));
  const { vdi, name, sr, size, format, disks } = o as Partial<Offer>;
  const badCount = disks !== undefined && !(announce && Number.isSafeInteger(disks) && disks >= 1 && disks <= MAX_MIGRATION_DISKS);
  if (typeof vdi !== 'string' || typeof name !== 'string' || (sr !== null && typeof sr !== 'string') || typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0 || size % SECTOR_SIZE !== 0 || typeof format !== 'string' || !MOVABLE_FORMATS.includes(format) || badCount) {
    await sendJson(sock, { error: 'a malformed disk offer' });
    throw new XenError('EINVAL', 'a malformed disk offer');
  }
  let made: { uuid: string; disk: Disk } | undefined;
  try {
    const srName = sr ?? await defaultSrUuid(host);
    const v = await host.vdis.create({ sr: srName, name, size: size % 1024 === 0 ? `${size / 1024}K` : String(size), format });
    made = { uuid: v.record.uuid, disk: undefined as unknown as Disk };
    made.disk = await openDisk((await host.vdis.diskParams(v.record.uuid, 'rw')).params, { readOnly: false });
  } catch (e) {
    // Dropped before the answer: a peer that is gone fails the send.
    if (made) await host.vdis.destroy(made.uuid).catch(() => {});
    await sendJson(sock, { error: (e as Error).message }).catch(() => {});
    throw e;
  }
  const disk = made.disk;
  let open = true;
  let committed = false;
  const ack = (id: number, status: number) => {
    const a = Buffer.alloc(ACK);
    a.writeUInt32LE(id, 0);
    a[4] = status;
    return send(sock, [a]);
  };
  const bases = new BaseWrites(sock);
  // From here on a failure drops the VDI (the finally below).
  try {
    log(`migration target: receiving VDI ${vdi} as ${made.uuid}`);
    if (format !== 'raw') receiving(host).set(made.uuid, 'copying');
    await sendJson(sock, { vdi: made.uuid, ...(disks !== undefined && { migration: announce!(disks) }) });
    const mirrored = new SectorMap();
    while (!committed) {
      const h = await src.read(REC_HEADER, 'a disk record');
      bases.check();
      const type = h[0]!;
      const id = h.readUInt32LE(1);
      const sector = h.readUIntLE(5, 6);
      const n = h.readUInt32LE(11);
      if (n > MAX_DATA || n % SECTOR_SIZE !== 0 || sector + n / SECTOR_SIZE > disk.sectors) throw new XenError('EINVAL', `disk record ${id}: ${n} octets at sector ${sector} do not fit the disk`);
      const data = n ? await src.read(n, 'disk record data') : Buffer.alloc(0);
      if ((type === Rec.Mirror || type === Rec.Base || type === Rec.Flush) && !open) throw new XenError('EINVAL', `disk record ${id} after done`);
      if (type === Rec.Mirror) {
        // Marked before it is written, so a base record from now on leaves its sectors alone; a
        // base write already under way there finishes first.
        const end = sector + n / SECTOR_SIZE;
        mirrored.mark(sector, end);
        await bases.overlapping(sector, end);
        await disk.write(sector, [data]);
      } else if (type === Rec.Base) {
        // Base records never overlap one another: up to BASE_WINDOW are written at once, each
        // acknowledged when it is done, while the next records are read.
        await bases.start(sector, sector + n / SECTOR_SIZE, () => writeUnmirrored(disk, mirrored, sector, data), () => ack(id, 0));
        continue;
      } else if (type === Rec.Flush) {
        await bases.all();
        await disk.flush();
      } else if (type === Rec.Done) {
        await bases.all();
        await disk.flush();
        await disk.close();
        open = false;
        if (receiving(host).has(made.uuid)) receiving(host).set(made.uuid, 'done');
      } else if (type === Rec.Commit) {
        if (open) throw new XenError('EINVAL', 'commit before done');
        committed = true;
      } else {
        throw new XenError('EINVAL', `unknown disk record type ${type}`);
      }
      await ack(id, 0);
    }
    log(`migration target: VDI ${made.uuid} committed (${mirrored.bytes} bytes of bits for its mirrored sectors)`);
  } finally {
    await bases.all().catch(() => {});
    receiving(host).delete(made.uuid);
    if (open) await disk.close().catch(() => {});
    if (!committed) await dropVdi(host, made.uuid, log);
  }
}

/** Per host: the VHD and qcow2 VDIs being received, until their connection ends. */
const received = new WeakMap<Host, Map<string, 'copying' | 'done'>>();

function receiving(host: Host): Map<string, 'copying' | 'done'> {
  let m = received.get(host);
  if (!m) received.set(host, (m = new Map()));
  return m;
}

const vdiOf = (spec: DiskSpec): string | undefined => (spec.target?.startsWith(VDI_TARGET_PREFIX) ? spec.target.slice(VDI_TARGET_PREFIX.length) : undefined);

/** The disks of an incoming domain that wait for their copy to finish (see the top of this file). */
export function deferredDisks(host: Host, config: DomainConfig): DiskSpec[] {
  const m = receiving(host);
  return config.disks.filter((spec) => m.has(vdiOf(spec) ?? ''));
}

/** With the whole stream in: attach the deferred disks, each copy having finished. */
export async function attachDeferred(host: Host, domid: number, disks: readonly DiskSpec[]): Promise<void> {
  for (const spec of disks) {
    const uuid = vdiOf(spec)!;
    if (receiving(host).get(uuid) !== 'done') throw new XenError('EINVAL', `the domain's stream ended before the copy of its disk ${spec.vdev} (VDI ${uuid}) was done`);
    await host.attachDisk(domid, spec);
  }
}

async function defaultSrUuid(host: Host): Promise<string> {
  const ref = await host.storage.defaultSr();
  return host.storage.db.read((tx) => tx.SR.get(ref).uuid);
}

/**
 * The base records being written at the receiver, at most BASE_WINDOW at once (a sender that
 * sends more waits for one to finish). A failed one fails the connection: the next record's
 * check throws its error.
 */
class BaseWrites {
  readonly #sock: Socket;
  readonly #writing = new Map<Promise<void>, { readonly start: number; readonly end: number }>();
  #error: Error | null = null;

  constructor(sock: Socket) {
    this.#sock = sock;
  }

  check(): void {
    if (this.#error) throw this.#error;
  }

  async start(start: number, end: number, write: () => Promise<void>, acked: () => Promise<void>): Promise<void> {
    while (this.#writing.size >= BASE_WINDOW) await Promise.race(this.#writing.keys());
    this.check();
    const p: Promise<void> = write().then(acked).catch((e: unknown) => {
      this.#error ??= e as Error;
      this.#sock.destroy();
    }).finally(() => this.#writing.delete(p));
    this.#writing.set(p, { start, end });
  }

  /** Once the base writes that touch [start, end) are done. */
  async overlapping(start: number, end: number): Promise<void> {
    await Promise.all([...this.#writing].filter(([, r]) => r.start < end && start < r.end).map(([p]) => p));
    this.check();
  }

  async all(): Promise<void> {
    await Promise.all(this.#writing.keys());
    this.check();
  }
}

/** The runs of `data` whose sectors no mirrored write reached. */
async function writeUnmirrored(disk: Disk, mirrored: SectorMap, sector: number, data: Buffer): Promise<void> {
  const n = data.length / SECTOR_SIZE;
  let i = 0;
  while (i < n) {
    while (i < n && mirrored.has(sector + i)) i++;
    const from = i;
    while (i < n && !mirrored.has(sector + i)) i++;
    if (i > from) await disk.write(sector + from, [data.subarray(from * SECTOR_SIZE, i * SECTOR_SIZE)]);
  }
}

/** The migration did not commit: the VDI goes once no domain here uses it (the incoming one is being destroyed). */
async function dropVdi(host: Host, uuid: string, log: (line: string) => void): Promise<void> {
  for (let i = 0; i < 50; i++) {
    try {
      await host.vdis.destroy(uuid);
      log(`migration target: VDI ${uuid} deleted (the migration did not complete)`);
      return;
    } catch (e) {
      if (!isXenError(e, 'EBUSY')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  log(`migration target: VDI ${uuid} kept: a domain here uses it`);
}
