// A host: one physical machine's worth of xenode in this process. dom0 is the main thread;
// it runs the hypervisor authority, xenstored, the console daemon and the toolstack, and
// applies each domain's on_poweroff/on_reboot/on_crash action when VIRQ_DOM_EXC says a domain
// shut down, as xl's per-domain daemon does.
import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { VIRQ_DOM_EXC } from '../abi/event_channel.js';
import type { ShutdownReason } from '../abi/xen.js';
import { ConsoleDaemon } from '../drivers/console/daemon.js';
import { XenError } from '../errors.js';
import { Hypervisor, type Domain } from '../hypervisor/hypervisor.js';
import { HALT_POLL_MAX_US, UpcallLoop } from '../hypervisor/upcall.js';
import { GUEST_IMAGE, PCPU_IMAGE, REALM_IMAGE } from '../guest/image.js';
import { Cpupool, POOL0, type CpupoolOptions, type CpupoolSched } from '../hypervisor/cpupool.js';
import { VcpuPool } from '../hypervisor/vcpu.js';
import { Switch } from '../network/switch.js';
import { NetbackDaemon } from '../drivers/net/back/devd.js';
import { eventChannels } from '../drivers/evtchn.js';
import { connectLocal } from '../xenstore/client/transport.js';
import { XenstoreClient } from '../xenstore/client/client.js';
import { Xenstored } from '../xenstore/server/daemon.js';
import { mapGuestRing } from '../xenstore/server/introduce.js';
import { Storage } from '../storage/sr.js';
import { Vdis } from '../storage/vdi.js';
import { buildDomain, claimShell, teardownDomain, type BuildContext, type BuiltDomain } from './builder.js';
import { isShellName, ShellPool } from './shells.js';
import type { DiskDevice, NicDevice, ShutdownOutcome } from './contract.js';
import { attachDisk, detachDisk, vdiUsers } from './devices.js';
import { vdevToDevid, type DiskSpec } from './diskspec.js';
import { attachVif, detachVif, settleVifMacs, type VifHost } from './vifs.js';
import { domainNameProblem, poolNameProblem, type DomainConfig, type DomainVif, type ShutdownAction } from './domconfig.js';
import { hostPaths, resolveStateDir, type HostPaths } from './paths.js';
import type { HostDb } from './db/hostdb.js';
import { seedHost } from './db/seed.js';
import { SqliteHostDb } from './db/sqlite.js';

/** Events per dom0 port per 100 ms before the port is throttled (see UpcallLoop). */
const DOM0_STORM_LIMIT = 20_000;

export interface HostOptions {
  /** Where xenstored listens for Xen's tools; no socket when absent. */
  readonly stateDir?: string;
  /** Pre-started vCPU threads kept ready per heap size. */
  readonly poolSize?: number;
  /** Pre-built domains kept ready for creates of this memory= (shells.ts); none by default. */
  readonly shells?: { readonly count: number; readonly memory: number };
  /** Creates in progress at once before one more is refused with EAGAIN (MAX_CREATES_IN_FLIGHT). */
  readonly maxCreates?: number;
  readonly log?: (line: string) => void;
}

/**
 * Creates in progress at once; one more is refused with EAGAIN, so a storm of creates costs
 * its senders a retry instead of the host its responsiveness.
 */
export const MAX_CREATES_IN_FLIGHT = 64;

export interface HostEvents {
  /** A domain was built (and is running, unless created paused). */
  created: [domid: number, name: string];
  paused: [domid: number, name: string];
  unpaused: [domid: number, name: string];
  renamed: [domid: number, name: string, oldName: string];
  /** A domain shut down; `action` is its on_* setting, `taken` what the host does about it. */
  shutdown: [domid: number, name: string, reason: ShutdownReason, action: ShutdownAction, taken: ShutdownOutcome];
  /** A domain is gone from the host. */
  destroyed: [domid: number, name: string];
  /** A domain was restarted as a new domain (xl gives it a new id). */
  restarted: [oldDomid: number, newDomid: number, name: string];
  /** Its shutdown action said restart, but the new domain could not be created. */
  restartFailed: [domid: number, name: string, error: string];
}

interface Managed {
  config: DomainConfig;
  handled: boolean;
}

export class Host extends EventEmitter<HostEvents> {
  readonly hv: Hypervisor;
  readonly loop: UpcallLoop;
  readonly xenstored: Xenstored;
  readonly xs: XenstoreClient;
  readonly consoled: ConsoleDaemon;
  readonly pool: VcpuPool;
  readonly shells: ShellPool;
  readonly paths: HostPaths | null;
  /** The host database (in memory for a host without a state dir). */
  readonly db: HostDb;
  readonly storage: Storage;
  readonly vdis: Vdis;
  #managed = new Map<number, Managed>();
  /** Names of domains being built: a name is taken from the moment its create starts. */
  #creating = new Set<string>();
  #destroying = new Map<number, Promise<void>>();
  #log: (line: string) => void;
  readonly #maxCreates: number;
  #closed = false;
  /** Set while the host shuts its guests down: their shutdown actions no longer restart them. */
  #stopping = false;
  #switch: Switch | undefined;
  /** Shared cpupools by name; Pool-0 (a thread per vCPU) is `pool`. */
  readonly #cpupools = new Map<string, Cpupool>();

  private constructor(opts: HostOptions, parts: { hv: Hypervisor; loop: UpcallLoop; xenstored: Xenstored; xs: XenstoreClient; db: HostDb }) {
    super();
    this.hv = parts.hv;
    this.loop = parts.loop;
    this.xenstored = parts.xenstored;
    this.xs = parts.xs;
    this.#log = opts.log ?? (() => {});
    this.#maxCreates = opts.maxCreates ?? MAX_CREATES_IN_FLIGHT;
    this.consoled = new ConsoleDaemon(this.hv.dom0Hypercalls, this.loop);
    this.consoled.on('broken', (domid, why) => this.#log(`d${domid}: console detached: ${why}`));
    this.pool = new VcpuPool({ size: opts.poolSize ?? 0, image: GUEST_IMAGE });
    this.shells = new ShellPool(() => this.#ctx, opts.shells ?? { count: 0, memory: 0 }, this.#log);
    this.paths = opts.stateDir ? hostPaths(opts.stateDir) : null;
    this.db = parts.db;
    this.storage = new Storage(this.db, this.#imagesDir);
    this.vdis = new Vdis(this.storage, (vdi) => vdiUsers(this.devices, vdi));
  }

  /** The default SR's directory, where bare-name disk targets live. */
  get #imagesDir(): string {
    return join(this.paths?.stateDir ?? resolveStateDir(), 'images');
  }

  static async start(opts: HostOptions = {}): Promise<Host> {
    const hv = new Hypervisor();
    const log = opts.log ?? (() => {});
    const stormed = new Set<number>();
    const loop = new UpcallLoop(hv.dom0.view, {
      pausable: false,
      haltPollUs: HALT_POLL_MAX_US,
      onError: (e, port) => log(`dom0: handler of port ${port} failed: ${(e as Error)?.stack ?? e}`),
      stormLimit: DOM0_STORM_LIMIT,
      onStorm: (port) => {
        if (stormed.has(port)) return;
        stormed.add(port);
        log(`dom0: event storm on port ${port}: throttling it`);
      },
    });
    loop.start();
    const hc = hv.dom0Hypercalls;
    const xenstored = new Xenstored({
      introduce: mapGuestRing(hc, loop),
      // SET_PERMS may name only domains the hypervisor has (XSA-322's class).
      domainExists: (domid) => hv.findDomain(domid) !== undefined,
      log,
    });
    const xs = new XenstoreClient(connectLocal(xenstored, 0));
    const paths = opts.stateDir ? hostPaths(opts.stateDir) : null;
    if (paths) await mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
    let db: HostDb | undefined;
    try {
      db = SqliteHostDb.open(paths?.hostDb ?? ':memory:');
      await seedHost(db);
    } catch (e) {
      await db?.close();
      xs.close();
      await xenstored.close();
      loop.stop();
      throw e;
    }
    const host = new Host(opts, { hv, loop, xenstored, xs, db });
    if (host.paths) {
      await xenstored.listen(host.paths.xenstoredSocket);
    }
    const domExc = await hc.evtchnBindVirq(VIRQ_DOM_EXC);
    loop.on(domExc, () => void host.#onDomainException());
    host.shells.fill();
    return host;
  }

  get #ctx(): BuildContext {
    return { hv: this.hv, xs: this.xs, consoled: this.consoled, pool: this.pool, onLog: this.#log, loop: this.loop, cpupools: this.#cpupools,
      ...(this.paths && { imagesDir: `${this.paths.stateDir}/images` }), vdis: this.vdis, ...this.#netback };
  }

  /** Create and start a domain (xl create); `paused` leaves it paused, as xl create -p. */
  async create(config: DomainConfig, opts: { paused?: boolean } = {}): Promise<BuiltDomain> {
    if (this.#closed || this.#stopping) throw new XenError('EINVAL', 'the host is shutting down');
    if (this.#creating.size >= this.#maxCreates) {
      throw new XenError('EAGAIN', `${this.#creating.size} creates are in progress on this host: try again when one has finished`);
    }
    this.#checkNameFree(config.name);
    this.#creating.add(config.name);
    try {
      config = { ...config, vifs: settleVifMacs(config.vifs) };
      // Shells are Pool-0 domains: a create for a shared cpupool builds its domain there.
      const inPool0 = config.pool === undefined || config.pool === POOL0;
      const fromShell = !opts.paused && inPool0 && this.shells.fits(config) ? await claimShell(this.#ctx, () => this.shells.take(), config) : undefined;
      const built = fromShell ?? (await buildDomain(this.#ctx, config, opts));
      const { domid } = built.domain;
      this.#managed.set(domid, { config, handled: false });
      this.emit('created', domid, config.name);
      // A crash during the build was signalled before the domain was ours to handle.
      if (built.domain.shutdownReason) void this.#onDomainException();
      return built;
    } finally {
      this.#creating.delete(config.name);
    }
  }

  #checkNameFree(name: string): void {
    if (this.#creating.has(name)) throw new XenError('EEXIST', `a domain named '${name}' is being created`);
    for (const d of this.hv.domains()) {
      if (d.name === name && !d.dying) throw new XenError('EEXIST', `a domain named '${name}' already exists (id ${d.domid})`);
    }
  }

  /** The domains users see, in domid order: every domain but the shells (shells.ts). */
  domains(): Domain[] {
    return this.hv.domains().filter((d) => !isShellName(d.name));
  }

  /** The domain `domid` if users may see it (not a shell). */
  findDomain(domid: number): Domain | undefined {
    const d = this.hv.findDomain(domid);
    return d && !isShellName(d.name) ? d : undefined;
  }

  /** The configuration a domain was created from (undefined for dom0 and domains still being built). */
  config(domid: number): DomainConfig | undefined {
    return this.#managed.get(domid)?.config;
  }

  /** A guest the toolstack manages, for an operation `what`; dom0 and domains being built are refused. */
  #guest(domid: number, what: string): Domain {
    const d = this.hv.domain(domid);
    if (domid === 0) throw new XenError('EPERM', `Domain-0 cannot be ${what}`);
    if (d.dying || this.#destroying.has(domid)) throw new XenError('ESRCH', `domain ${domid} is being destroyed`);
    if (!this.#managed.has(domid)) throw new XenError('EBUSY', `domain ${domid} is still being created: try again when its create returns`);
    return d;
  }

  /**
   * Ask the guest to shut down (xl shutdown / xl reboot): it sees control/shutdown. A guest
   * that has already shut down, or is paused, could not act on the request.
   */
  async requestShutdown(domid: number, request: 'poweroff' | 'reboot'): Promise<void> {
    const d = this.#guest(domid, request === 'reboot' ? 'rebooted' : 'shut down');
    if (d.shutdownReason) throw new XenError('EINVAL', `domain ${domid} has already shut down (${d.shutdownReason}): destroy it with \`xenode destroy ${domid}\``);
    if (d.paused) throw new XenError('EINVAL', `domain ${domid} is paused and cannot act on a ${request} request: unpause it first, or destroy it`);
    await this.xs.write(`/local/domain/${domid}/control/shutdown`, request);
  }

  /** xl pause: pauses nest, as Xen's controller pause count does. */
  pause(domid: number): void {
    const d = this.#guest(domid, 'paused');
    this.hv.pause(domid);
    this.emit('paused', domid, d.name);
  }

  unpause(domid: number): void {
    const d = this.#guest(domid, 'unpaused');
    if (!d.paused) throw new XenError('EINVAL', `domain ${domid} is not paused`);
    this.hv.unpause(domid);
    this.emit('unpaused', domid, d.name);
  }

  /** xl rename: the domain's name in the hypervisor, in xenstore, and in the config it restarts with. */
  async rename(domid: number, name: string): Promise<void> {
    const d = this.#guest(domid, 'renamed');
    const problem = domainNameProblem(name);
    if (problem !== undefined) throw new XenError('EINVAL', `invalid domain name: ${problem}`);
    if (name === d.name) return;
    this.#checkNameFree(name);
    const old = d.name;
    d.name = name;
    const m = this.#managed.get(domid)!;
    m.config = { ...m.config, name };
    await this.xs.transaction(async (t) => {
      await t.write(`/local/domain/${domid}/name`, name);
      await t.write(`/vm/${d.uuid}/name`, name);
    });
    this.emit('renamed', domid, name, old);
  }

  /** xl cpupool-create: a shared pool of `cpus` pCPU threads. */
  async createCpupool(name: string, cpus: number, sched: CpupoolSched = 'credit', opts: Pick<CpupoolOptions, 'watchdogMs' | 'heapMb'> = {}): Promise<Cpupool> {
    const problem = poolNameProblem(name);
    if (problem) throw new XenError('EINVAL', `invalid pool name: ${problem}`);
    if (name === POOL0 || this.#cpupools.has(name)) throw new XenError('EEXIST', `a cpupool named ${name} already exists`);
    const pool = new Cpupool({ name, cpus, sched, image: PCPU_IMAGE, realmImage: REALM_IMAGE, onLog: this.#log, ...opts });
    this.#cpupools.set(name, pool);
    try {
      await pool.ready();
    } catch (e) {
      this.#cpupools.delete(name);
      await pool.destroy().catch(() => {});
      throw new XenError('EIO', `cpupool ${name}: its pCPU threads did not start: ${(e as Error).message}`);
    }
    return pool;
  }

  /** xl cpupool-destroy: only an empty pool goes (as xl's, whose CPUs must be removed first). */
  async destroyCpupool(name: string): Promise<void> {
    if (name === POOL0) throw new XenError('EPERM', `${POOL0} cannot be destroyed`);
    const pool = this.#cpupools.get(name);
    if (!pool) throw new XenError('ENOENT', `no cpupool named ${name}`);
    await pool.destroy();
    this.#cpupools.delete(name);
  }

  /** The shared pools (Pool-0 not among them). */
  get cpupools(): ReadonlyMap<string, Cpupool> {
    return this.#cpupools;
  }

  /** The name of the pool a domain runs in (dom0 and Pool-0 guests: Pool-0). */
  poolOf(domid: number): string {
    for (const [name, pool] of this.#cpupools) if (pool.hosts(domid)) return name;
    return POOL0;
  }

  /**
   * xl cpupool-migrate. Moving to the pool it is in is nothing to do; anything else is refused
   * for a domain that runs: its vCPU's JavaScript heap (its realm's, or its thread's) cannot be
   * copied to another thread, as DESIGN.md §6 says for migration.
   */
  migrateToCpupool(domid: number, pool: string): void {
    const d = this.#guest(domid, 'moved');
    if (pool !== POOL0 && !this.#cpupools.has(pool)) throw new XenError('ENOENT', `no cpupool named ${pool}`);
    const from = this.poolOf(domid);
    if (from === pool) return;
    throw new XenError('EOPNOTSUPP', `domain ${d.name} (id ${domid}) runs in ${from}: a running domain's JavaScript heap cannot move to ` +
      `another thread, so it cannot change pools; shut it down and create it again with pool="${pool}" in its configuration`);
  }

  /** dom0's virtual switch (src/network), made when something first plugs into it. */
  get switch(): Switch {
    return (this.#switch ??= new Switch());
  }

  /** What the device code needs of this host. */
  get devices(): VifHost {
    return { hv: this.hv, xs: this.xs, loop: this.loop, log: this.#log, ...(this.paths && { imagesDir: `${this.paths.stateDir}/images` }), vdis: this.vdis, ...this.#netback };
  }

  /** How dom0's netback service starts: plugging vifs into this host's switch. */
  get #netback(): Pick<VifHost, 'startNetback'> {
    const hc = this.hv.dom0Hypercalls;
    const ctx = { hc, evtchn: eventChannels(hc, this.loop), xs: this.xs, log: this.#log };
    return { startNetback: () => NetbackDaemon.start(ctx, 0, { switch: this.switch }) };
  }

  /** xl network-attach: hot-plug a vif. It stays in the configuration the domain restarts with, as libxl keeps it. */
  async attachVif(domid: number, vif: DomainVif): Promise<NicDevice> {
    this.#guest(domid, 'given a vif');
    const dev = await attachVif(this.devices, domid, vif);
    const m = this.#managed.get(domid);
    if (m) m.config = { ...m.config, vifs: [...m.config.vifs.filter((x) => x.devid !== vif.devid), { ...vif, mac: dev.mac }] };
    return dev;
  }

  /** xl network-detach DEVID|MAC [-f]. */
  async detachVif(domid: number, which: string, force: boolean): Promise<void> {
    this.#guest(domid, 'relieved of a vif');
    const devid = await detachVif(this.devices, domid, which, { force });
    const m = this.#managed.get(domid);
    if (m) m.config = { ...m.config, vifs: m.config.vifs.filter((x) => x.devid !== devid) };
  }

  /** xl block-attach: hot-plug a disk. It stays in the configuration the domain restarts with, as libxl keeps it. */
  async attachDisk(domid: number, spec: DiskSpec): Promise<DiskDevice> {
    this.#guest(domid, 'given a disk');
    const dev = await attachDisk(this.devices, domid, spec);
    const m = this.#managed.get(domid);
    if (m) m.config = { ...m.config, disks: [...m.config.disks.filter((x) => x.devid !== spec.devid), spec] };
    return dev;
  }

  /** xl block-detach [-f]. */
  async detachDisk(domid: number, vdev: string, force: boolean): Promise<void> {
    this.#guest(domid, 'relieved of a disk');
    await detachDisk(this.devices, domid, vdev, { force });
    const devid = /^[0-9]+$/.test(vdev) ? Number(vdev) : vdevToDevid(vdev);
    const m = this.#managed.get(domid);
    if (m) m.config = { ...m.config, disks: m.config.disks.filter((x) => x.devid !== devid) };
  }

  /** True from the moment a destroy of the domain starts until it is done. */
  isDestroying(domid: number): boolean {
    return this.#destroying.has(domid);
  }

  /**
   * xl destroy. Destroys of one domain that overlap share one teardown (a shutdown action and
   * a user's destroy can meet here); `destroyed` is emitted once.
   */
  destroy(domid: number): Promise<void> {
    const pending = this.#destroying.get(domid);
    if (pending) return pending;
    let d: Domain;
    try {
      d = this.hv.domain(domid);
      if (domid === 0) throw new XenError('EPERM', 'dom0 cannot be destroyed');
      if (d.dying) throw new XenError('ESRCH', `domain ${domid} is already dying`);
    } catch (e) {
      return Promise.reject(e);
    }
    const done = (async () => {
      this.#managed.delete(domid);
      await teardownDomain(this.#ctx, domid);
      this.emit('destroyed', domid, d.name);
    })().finally(() => this.#destroying.delete(domid));
    this.#destroying.set(domid, done);
    return done;
  }

  async #onDomainException(): Promise<void> {
    this.shells.reap();
    for (const d of this.hv.domains()) {
      const m = this.#managed.get(d.domid);
      if (!m || m.handled || !d.shutdownReason) continue;
      m.handled = true;
      const reason = d.shutdownReason;
      const c = m.config;
      const action = reason === 'crash' ? c.onCrash : reason === 'reboot' ? c.onReboot : reason === 'watchdog' ? c.onWatchdog
        : reason === 'soft_reset' ? c.onSoftReset : c.onPoweroff;
      this.consoled.drain(d.domid);
      // Decided here, once: the event tells everyone what happens next.
      const taken = this.#stopping || this.#destroying.has(d.domid) ? 'destroy' : outcomeOf(action);
      this.emit('shutdown', d.domid, d.name, reason, action, taken);
      try {
        await this.#apply(d.domid, d.name, m, taken);
      } catch (e) {
        this.#log(`d${d.domid}: ${taken} after ${reason} failed: ${(e as Error).message}`);
      }
    }
  }

  async #apply(domid: number, name: string, m: Managed, action: ShutdownOutcome): Promise<void> {
    // Someone is destroying it already: that wins over the configured action.
    if (this.#destroying.has(domid)) return;
    if (action === 'preserve') return;
    if (action === 'rename-restart') {
      this.hv.domain(domid).name = `${name}-${domid}`;
      await this.xs.write(`/local/domain/${domid}/name`, `${name}-${domid}`);
    } else {
      await this.destroy(domid);
    }
    if (action === 'restart' || action === 'rename-restart') {
      let built: BuiltDomain;
      try {
        built = await this.create(m.config);
      } catch (e) {
        this.emit('restartFailed', domid, name, (e as Error).message);
        throw e;
      }
      this.emit('restarted', domid, built.domain.domid, name);
    }
  }

  /**
   * Ask every running guest to power off, wait up to `graceMs` for them to go, then close the
   * host (which destroys whatever is left). Paused guests cannot answer and are just destroyed.
   */
  async shutdownAll(graceMs: number): Promise<void> {
    this.#stopping = true;
    const guests = this.hv.domains().filter((d) => d.domid !== 0 && !d.dying && !d.shutdownReason && !d.paused && this.#managed.has(d.domid));
    const left = new Set(guests.map((d) => d.domid));
    let allGone!: () => void;
    const done = new Promise<void>((resolve) => (allGone = resolve));
    const gone = (domid: number) => {
      if (left.delete(domid) && left.size === 0) allGone();
    };
    this.on('shutdown', gone);
    this.on('destroyed', gone);
    await Promise.all(guests.map((d) => this.requestShutdown(d.domid, 'poweroff').catch(() => gone(d.domid))));
    if (left.size) {
      const timer = setTimeout(allGone, graceMs);
      await done;
      clearTimeout(timer);
    }
    this.off('shutdown', gone);
    this.off('destroyed', gone);
    await this.close();
  }

  /** Destroy every domain and stop the host's services. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.shells.close();
    await Promise.all(this.hv.domains().filter((d) => d.domid !== 0 && !d.dying).map((d) => this.destroy(d.domid).catch(() => {})));
    await this.pool.close();
    await Promise.all([...this.#cpupools.values()].map((p) => p.destroy().catch(() => {})));
    this.#cpupools.clear();
    this.#switch?.close();
    this.xs.close();
    await this.xenstored.close();
    await this.db.close();
    this.loop.stop();
  }
}

/**
 * What the host does after a shutdown. xenode writes no core dumps, so the coredump-* actions
 * act as their plain counterparts; soft-reset restarts.
 */
function outcomeOf(a: ShutdownAction): ShutdownOutcome {
  switch (a) {
    case 'coredump-destroy':
      return 'destroy';
    case 'coredump-restart':
    case 'soft-reset':
      return 'restart';
    default:
      return a;
  }
}
