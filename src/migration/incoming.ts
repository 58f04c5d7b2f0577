// The domain a migration stream builds while it arrives (xl's receiver creates the domain first
// and applies pages as they come): as soon as the configuration is read, NAME--incoming is
// built with its devices (their backends waiting for the frontends) and its vCPU, whose runtime
// boots as far as a shell's (console, xenstore, timer, the kernel compiled) and parks, the
// domain paused; every frame is written straight into its RAM, which exists early in the build
// (the frames go in while the runtime boots: ready()). Until then the rest of the stream waits
// unread (TCP's backpressure holds the sender's pre-copy). After the stop-and-copy only the
// kernel's hand-over, the runtime's resume and the program's main(os) are left (start()).
//
// All RAM frames count as populated until the runtime resumes and frees what the old runtime
// used (guest/suspend.ts resumeRecord): which frames the sender populated is only known at the
// end. The stream names the suspend record last; start_info is pointed at it then.
//
// But the top of RAM (builder.ts preconnectFrames): the parked runtime connects its vifs there
// before it parks (their backends plugged into the shells' bridge, then where the configuration
// says once the stream is in), so that the resume has no handshake to do. What the stream sends
// there is kept aside: frames of the sender's runtime are dropped (the suspend record moves
// below), and only when the program's own pages are among them is the domain built again from
// the RAM received, its runtime booting at the resume, as a file restore's does.
import { PAGE_SIZE } from '../abi/xen.js';
import { decodeSuspendRecord, ioRangesHold } from '../abi/suspend.js';
import { XenError } from '../errors.js';
import { preconnectFrames, setResumeRecord, type BuiltDomain } from '../toolstack/builder.js';
import type { DiskSpec } from '../toolstack/diskspec.js';
import type { Domain } from '../hypervisor/hypervisor.js';
import type { DomainConfig } from '../toolstack/domconfig.js';
import type { Host } from '../toolstack/host.js';
import { announceVifs, settleVifMacs } from '../toolstack/vifs.js';
import { geometryOf } from './config.js';
import { attachDeferred, deferredDisks } from './disks.js';
import type { DomainImage, FrameSink } from './image.js';

/** The guest's own xenstore data from its image (best effort, as libxl restores it). */
export async function writeGuestData(host: Host, domid: number, data: DomainImage['xenstore']): Promise<void> {
  await Promise.all(data.map(([k, v]) => host.xs.write(`/local/domain/${domid}/${k}`, v).catch(() => {})));
}

/** xl's name clash: a domain of this name runs here already. */
export function checkNameFree(host: Host, name: string): void {
  if (host.hv.liveDomainNamed(name)) throw new XenError('EEXIST', `Domain with name "${name}" already exists.`);
}

/** The stream names the suspend record last (finish). */
const NO_RECORD = { pfn: 0, bytes: 0 };
const ZERO_PAGE = new Uint8Array(PAGE_SIZE);

export class IncomingDomain implements FrameSink {
  readonly #host: Host;
  readonly #config: DomainConfig;
  /** Disks attached only once their copy is done (disks.ts). */
  readonly #deferred: DiskSpec[];
  /** Its RAM's owner, once built (#ram). */
  #domain: Domain | undefined;
  /**
   * Why the first build failed, once it did: its domain is torn down and its RAM back in the
   * heap (to be scrubbed and handed to another domain), so no frame of the stream goes there.
   */
  #failed: { readonly error: unknown } | undefined;
  /** The domain, as built first (parked), or again (#rebuild). */
  built: Promise<BuiltDomain>;
  readonly #ramReady: Promise<unknown>;
  /** Frames from here on are the parked runtime's vifs' (RestoreSpec.preconnect). */
  readonly #kept: number;
  /** What the stream wrote into those, kept out of the runtime's rings until #rebuild puts it in. */
  readonly #aside = new Map<number, Uint8Array>();
  /** Its vifs plugged where the configuration says (finish). */
  #plugged: Promise<void> | undefined;
  /** The guest's xenstore data written (finish). */
  #guestData: Promise<void> | undefined;

  constructor(host: Host, config: DomainConfig, name: string) {
    this.#host = host;
    this.#deferred = deferredDisks(host, config);
    let ramBuilt!: () => void;
    const ram = new Promise<void>((resolve) => (ramBuilt = resolve));
    const disks = config.disks.filter((s) => !this.#deferred.includes(s));
    // A rebuild (#rebuild) keeps the MACs the first build chose.
    this.#config = { ...config, name, disks, vifs: settleVifMacs(config.vifs) };
    const { end } = geometryOf(config);
    this.#kept = end - preconnectFrames(config);
    this.built = host.create(this.#config, {
      paused: true,
      restore: { hwm: this.#kept, record: NO_RECORD, fill: (d) => {
        this.#domain = d;
        ramBuilt();
      }, parked: true, preconnect: this.#kept < end },
    });
    // Also awaited by ready, finish or abort.
    this.built.catch((error: unknown) => {
      this.#failed = { error };
      this.#domain = undefined;
    });
    this.#ramReady = Promise.race([ram, this.built]);
  }

  /** Its RAM exists: frames may go in while its runtime still boots. */
  ready(): Promise<unknown> {
    return this.#failed ? Promise.reject(this.#failed.error) : this.#ramReady;
  }

  get(pfn: number): Uint8Array | undefined {
    if (pfn >= this.#kept) return this.#aside.get(pfn);
    return this.#ram().subarray(pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE);
  }

  /** The stream's frames go straight into RAM; those kept for the vifs are set aside (set). */
  frame(pfn: number): Uint8Array | undefined {
    // #ram() checks for a failed build; a frame set aside goes through set(), which checks.
    return pfn < this.#kept ? this.#ram().subarray(pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE) : undefined;
  }

  set(pfn: number, data: Uint8Array): void {
    if (pfn >= this.#kept) {
      this.#check();
      this.#aside.set(pfn, data.slice());
    } else this.#ram().set(data, pfn * PAGE_SIZE);
  }

  delete(pfn: number): void {
    if (pfn >= this.#kept) this.#aside.set(pfn, new Uint8Array(PAGE_SIZE));
    else this.#ram().fill(0, pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE);
  }

  /** The build failed: the stream stops (readImage's sink throws). */
  #check(): void {
    if (this.#failed) throw this.#failed.error;
  }

  /**
   * Its RAM, for a read or write that starts now. Refused (ESRCH) once a destroy of the domain has
   * begun (`xenode destroy` of NAME--incoming, or a host that stops): reaped, its RAM goes back to
   * the heap, to be scrubbed and handed to the next domain of its size.
   */
  #ram(): Uint8Array {
    this.#check();
    const d = this.#domain;
    if (!d) throw new Error('IncomingDomain: a frame before the domain was built (readImage awaits ready())');
    if (this.#host.isBeingDestroyed(d)) throw new XenError('ESRCH', `domain ${d.domid} (${this.#config.name}) was destroyed while the stream came in`);
    return d.view.mem8;
  }

  /** The whole stream has been read and checked: the domain, ready to be unpaused. */
  async finish(image: DomainImage): Promise<BuiltDomain> {
    let built = await this.built;
    let record: DomainImage['suspendRecord'] | undefined = image.suspendRecord;
    if (this.#aside.size > 0) {
      record = this.#keepOut(record);
      if (!record) {
        record = image.suspendRecord;
        built = await this.#rebuild(built);
      }
    }
    await attachDeferred(this.#host, built.domain.domid, this.#deferred);
    setResumeRecord(built.domain, record);
    // The vifs go where the configuration says, and the guest's data into xenstore, while the
    // sender is asked for its permission (the source is suspended now): start() waits for them
    // (a vif's failure fails the start), abort() for the data.
    this.#plugged = built.plugVifs?.();
    this.#plugged?.catch(() => {});
    this.#guestData = writeGuestData(this.#host, built.domain.domid, image.xenstore);
    return built;
  }

  /**
   * The stream wrote frames kept for the vifs. Those of the sender's runtime (its own rings and
   * buffers: anything but the program's I/O pages, which resumeRecord frees) are of no use here;
   * the suspend record moves into RAM that is (frames below the kept ones that are not the
   * program's). The record to resume from, or undefined when the program's pages are among them
   * (or no room was found): then the domain must be built again (#rebuild).
   */
  #keepOut(record: DomainImage['suspendRecord']): DomainImage['suspendRecord'] | undefined {
    const { first, end } = geometryOf(this.#config);
    const n = Math.ceil(record.bytes / PAGE_SIZE);
    const bytes = new Uint8Array(n * PAGE_SIZE);
    for (let i = 0; i < n; i++) bytes.set(this.get(record.pfn + i) ?? ZERO_PAGE, i * PAGE_SIZE);
    // readImage checked it already (checkSuspendRecord): its ranges are in order and disjoint.
    const { io } = decodeSuspendRecord(bytes.subarray(0, record.bytes), first, end);
    for (const pfn of this.#aside.keys()) if (ioRangesHold(io, pfn)) return undefined;
    if (record.pfn + n <= this.#kept) return record;
    let p = first;
    for (const [start, count] of [...io, [this.#kept, 0] as const]) {
      if (Math.min(start, this.#kept) - p >= n) {
        this.#ram().set(bytes, p * PAGE_SIZE);
        return { pfn: p, bytes: record.bytes };
      }
      p = Math.max(p, start + count);
    }
    return undefined;
  }

  /**
   * The parked runtime's vifs are in frames the stream wrote with the program's pages: it goes,
   * and the domain is built again (not parked) from the RAM received, every frame of it counted
   * as populated.
   */
  async #rebuild(old: BuiltDomain): Promise<BuiltDomain> {
    const { first, end } = geometryOf(this.#config);
    const ram = this.#ram().slice(first * PAGE_SIZE, this.#kept * PAGE_SIZE);
    await this.#host.destroy(old.domain.domid);
    const fill = (d: Domain) => {
      d.view.mem8.set(ram, first * PAGE_SIZE);
      for (const [pfn, data] of this.#aside) d.view.mem8.set(data, pfn * PAGE_SIZE);
    };
    this.built = this.#host.create(this.#config, { paused: true, restore: { hwm: end, record: NO_RECORD, fill } });
    this.built.catch(() => {}); // abort() awaits it too
    return this.built;
  }

  /**
   * The sender's permission to go: the domain takes its name and runs. The rename's checks and
   * the new name come at once (Host.beginRename; a refusal throws: nothing runs); its record in
   * the host database, a synced transaction like the unpause's, is bookkeeping that the guest,
   * in the downtime, need not wait for.
   */
  async start(built: BuiltDomain, name: string): Promise<void> {
    const renamed = this.#host.beginRename(built.domain.domid, name);
    renamed.catch(() => {}); // awaited below, unless the vifs failed
    await this.#guestData;
    await this.#plugged;
    built.handKernel?.();
    const running = Promise.all([renamed, this.#host.unpause(built.domain.domid)]);
    running.catch(() => {}); // awaited below, after the announcement
    // The network learns where the guest is now while it resumes, not once its stack's
    // gratuitous ARP is out (the source's bridge kept sending its peers' frames to the old copy).
    await announceVifs(this.#host, built.domain.domid, this.#config.vifs).catch(() => {});
    await running;
  }

  /** The stream failed: nothing of the domain is left here. */
  async abort(): Promise<void> {
    // Its data's writes first: none may land after the domain's directory is gone.
    await this.#guestData;
    const built = await this.built.catch(() => undefined);
    if (built) await this.#host.destroy(built.domain.domid).catch(() => {});
  }
}
