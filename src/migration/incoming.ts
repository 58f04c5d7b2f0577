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
import { PAGE_SIZE } from '../abi/xen.js';
import { XenError } from '../errors.js';
import type { BuiltDomain } from '../toolstack/builder.js';
import { setResumeRecord } from '../toolstack/builder.js';
import type { DiskSpec } from '../toolstack/diskspec.js';
import type { DomainConfig } from '../toolstack/domconfig.js';
import type { Host } from '../toolstack/host.js';
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

export class IncomingDomain implements FrameSink {
  readonly #host: Host;
  /** Disks attached only once their copy is done (disks.ts). */
  readonly #deferred: DiskSpec[];
  #mem: Uint8Array | undefined;
  readonly built: Promise<BuiltDomain>;
  readonly #ramReady: Promise<unknown>;

  constructor(host: Host, config: DomainConfig, name: string) {
    this.#host = host;
    this.#deferred = deferredDisks(host, config);
    let ramBuilt!: () => void;
    const ram = new Promise<void>((resolve) => (ramBuilt = resolve));
    const disks = config.disks.filter((s) => !this.#deferred.includes(s));
    this.built = host.create({ ...config, name, disks }, {
      paused: true,
      restore: { hwm: geometryOf(config).end, record: { pfn: 0, bytes: 0 }, fill: (d) => {
        this.#mem = d.view.mem8;
        ramBuilt();
      }, parked: true },
    });
    this.built.catch(() => {}); // awaited by ready, finish or abort
    this.#ramReady = Promise.race([ram, this.built]);
  }

  /** Its RAM exists: frames may go in while its runtime still boots. */
  ready(): Promise<unknown> {
    return this.#ramReady;
  }

  get(pfn: number): Uint8Array | undefined {
    return this.#ram().subarray(pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE);
  }

  set(pfn: number, data: Uint8Array): void {
    this.#ram().set(data, pfn * PAGE_SIZE);
  }

  delete(pfn: number): void {
    this.#ram().fill(0, pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE);
  }

  #ram(): Uint8Array {
    if (!this.#mem) throw new Error('IncomingDomain: a frame before the domain was built (readImage awaits ready())');
    return this.#mem;
  }

  /** The whole stream has been read and checked: the domain, ready to be unpaused. */
  async finish(image: DomainImage): Promise<BuiltDomain> {
    const built = await this.built;
    await attachDeferred(this.#host, built.domain.domid, this.#deferred);
    setResumeRecord(built.domain, image.suspendRecord);
    await writeGuestData(this.#host, built.domain.domid, image.xenstore);
    return built;
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
    built.handKernel?.();
    await Promise.all([renamed, this.#host.unpause(built.domain.domid)]);
  }

  /** The stream failed: nothing of the domain is left here. */
  async abort(): Promise<void> {
    const built = await this.built.catch(() => undefined);
    if (built) await this.#host.destroy(built.domain.domid).catch(() => {});
  }
}
