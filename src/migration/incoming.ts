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
// says once the stream is in), so that the resume has no handshake to do. A sender whose guest
// grew into those frames meanwhile spoils that: what the stream sends there is kept aside, and
// the domain is built again from the RAM received, its runtime booting at the resume, as a file
// restore's does.
import { PAGE_SIZE } from '../abi/xen.js';
import { XenError } from '../errors.js';
import { preconnectFrames, setResumeRecord, type BuiltDomain } from '../toolstack/builder.js';
import type { DiskSpec } from '../toolstack/diskspec.js';
import type { Domain } from '../hypervisor/hypervisor.js';
import type { DomainConfig } from '../toolstack/domconfig.js';
import type { Host } from '../toolstack/host.js';
import { settleVifMacs } from '../toolstack/vifs.js';
import { geometryOf } from './config.js';
import { attachDeferred, deferredDisks } from './disks.js';
import type { DomainImage, FrameSink } from './image.js';

/** The guest's own xenstore data from its image (best effort, as libxl restores it). */
export async function writeGuestData(host: Host, domid: number, data: DomainImage['xenstore']): Promise<void> {
  await Promise.all(data.map(([k, v]) => host.xs.write(`/local/domain/${domid}/${k}`, v).catch(() => {})));
}

/** xl's name clash: a domain of this name runs here already. */
export function checkNameFree(host: Host, name: string): void {
  if (host.hv.domains().some((d) => d.name === name && !d.dying)) throw new XenError('EEXIST', `Domain with name "${name}" already exists.`);
}

/** The stream names the suspend record last (finish). */
const NO_RECORD = { pfn: 0, bytes: 0 };

export class IncomingDomain implements FrameSink {
  readonly #host: Host;
  readonly #config: DomainConfig;
  /** Disks attached only once their copy is done (disks.ts). */
  readonly #deferred: DiskSpec[];
  #mem: Uint8Array | undefined;
  /** The domain, as built first (parked), or again (#rebuild). */
  built: Promise<BuiltDomain>;
  readonly #ramReady: Promise<unknown>;
  /** Frames from here on are the parked runtime's vifs' (RestoreSpec.preconnect). */
  readonly #kept: number;
  /** What the stream wrote into those, kept out of the runtime's rings until #rebuild puts it in. */
  readonly #aside = new Map<number, Uint8Array>();
  /** Its vifs plugged where the configuration says (finish). */
  #plugged: Promise<void> | undefined;

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
        this.#mem = d.view.mem8;
        ramBuilt();
      }, parked: true, preconnect: this.#kept < end },
    });
    this.built.catch(() => {}); // awaited by ready, finish or abort
    this.#ramReady = Promise.race([ram, this.built]);
  }

  /** Its RAM exists: frames may go in while its runtime still boots. */
  ready(): Promise<unknown> {
    return this.#ramReady;
  }

  get(pfn: number): Uint8Array | undefined {
    if (pfn >= this.#kept) return this.#aside.get(pfn);
    return this.#ram().subarray(pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE);
  }

  set(pfn: number, data: Uint8Array): void {
    if (pfn >= this.#kept) this.#aside.set(pfn, data.slice());
    else this.#ram().set(data, pfn * PAGE_SIZE);
  }

  delete(pfn: number): void {
    if (pfn >= this.#kept) this.#aside.set(pfn, new Uint8Array(PAGE_SIZE));
    else this.#ram().fill(0, pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE);
  }

  #ram(): Uint8Array {
    if (!this.#mem) throw new Error('IncomingDomain: a frame before the domain was built (readImage awaits ready())');
    return this.#mem;
  }

  /** The whole stream has been read and checked: the domain, ready to be unpaused. */
  async finish(image: DomainImage): Promise<BuiltDomain> {
    let built = await this.built;
    if (this.#aside.size > 0) built = await this.#rebuild(built);
    await attachDeferred(this.#host, built.domain.domid, this.#deferred);
    setResumeRecord(built.domain, image.suspendRecord);
    // The vifs go where the configuration says while the sender is asked for its permission
    // (the source is suspended now); start() waits for them, and a failure fails the start.
    this.#plugged = built.plugVifs?.();
    this.#plugged?.catch(() => {});
    await writeGuestData(this.#host, built.domain.domid, image.xenstore);
    return built;
  }

  /**
   * The parked runtime's vifs are in frames the stream wrote: it goes, and the domain is built
   * again (not parked) from the RAM received, every frame of it counted as populated.
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
   * the new name come at once (Host.rename sets it before its first wait); its record in the
   * host database, a synced transaction like the unpause's, is bookkeeping that the guest, in
   * the downtime, need not wait for.
   */
  async start(built: BuiltDomain, name: string): Promise<void> {
    const renamed = this.#host.rename(built.domain.domid, name);
    if (built.domain.name !== name) return renamed; // refused: nothing runs
    renamed.catch(() => {}); // awaited below, unless the vifs failed
    await this.#plugged;
    built.handKernel?.();
    await Promise.all([renamed, this.#host.unpause(built.domain.domid)]);
  }

  /** The stream failed: nothing of the domain is left here. */
  async abort(): Promise<void> {
    const built = await this.built.catch(() => undefined);
    if (built) await this.#host.destroy(built.domain.domid).catch(() => {});
  }
}
