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
import { DomHeap } from '../hypervisor/domheap.js';
import { ThreadScrubber } from '../hypervisor/scrub.js';
import { HALT_POLL_MAX_US, UpcallLoop } from '../hypervisor/upcall.js';
import { GUEST_IMAGE, PCPU_IMAGE, REALM_IMAGE } from '../guest/image.js';
import { within } from '../within.js';
import { Cpupool, POOL0, type CpupoolOptions, type CpupoolSched } from '../hypervisor/cpupool.js';
import { VcpuPool } from '../hypervisor/vcpu.js';
import { Switch } from '../network/switch.js';
import { Gateway } from '../network/gateway/gateway.js';
import { TapPeer } from '../network/tap.js';
import type { ForwardSpec } from '../network/gateway/forwardspec.js';
import { NetbackDaemon } from '../drivers/net/back/devd.js';
import { eventChannels } from '../drivers/evtchn.js';
import { connectLocal } from '../xenstore/client/transport.js';
import { XenstoreClient } from '../xenstore/client/client.js';
import { Xenstored } from '../xenstore/server/daemon.js';
import { mapGuestRing } from '../xenstore/server/introduce.js';
import { Storage } from '../storage/sr.js';
import { Vdis } from '../storage/vdi.js';
import { buildDomain, claimShell, teardownDomain, type BuildContext, type BuiltDomain, type RestoreSpec } from './builder.js';
import { isShellName, ShellPool } from './shells.js';
import { NetworkLockingCache } from './network-locking.js';
import { SummonedForwards } from './summon-forwards.js';
import { Summoner, type SummonDns, type SummonHost } from './summon.js';
import type { DiskDevice, ForwardInfo, NicDevice, ShutdownOutcome } from './contract.js';
import { attachDisk, detachDisk, vdiLiveDisks, vdiUsers } from './devices.js';
import { vdevToDevid, type DiskSpec } from './diskspec.js';
import { DEFAULT_BRIDGE, attachVif, detachVif, setVifLocking, settleVifMacs, type VifHost } from './vifs.js';
import { DomainForwards } from './forwards.js';
import { VifAddresses } from './vif-addresses.js';
import { domainNameProblem, poolNameProblem, type DomainConfig, type DomainVif, type ShutdownAction } from './domconfig.js';
import { hostPaths, resolveStateDir, type HostPaths } from './paths.js';
import type { HostDb } from './db/hostdb.js';
import { seedHost } from './db/seed.js';
import { SqliteHostDb } from './db/sqlite.js';
import type { Ref } from './db/records.js';
import { VmTable, vmConfig, findVm } from './vms.js';

/** How long a suspend waits for the guest to suspend (libxl waits as long). */
export const SUSPEND_TIMEOUT_MS = 60_000;

/** Events per dom0 port per 100 ms before the port is throttled (see UpcallLoop). */
const DOM0_STORM_LIMIT = 20_000;
/**
 * How long a create lets a booting guest reach main() before it writes the VM record. The
 * record's commit (0.3-1 ms of dom0's thread) right after the kernel was posted kept dom0's
 * core busy while the guest's thread (nice 10) waited for a core to take the kernel: the
 * commit waits, dom0's loop idles meanwhile (it still serves the guest), and the guest's
 * thread gets the core. A guest slower to main() than this is committed while it boots.
 */
const COMMIT_AFTER_MAIN_MS = 5;
/**
 * How long close() lets creates under way end before it destroys every domain: a create stuck
 * (a vCPU thread that never reports ready, a parked build's wait of up to 30 s) must not hold
 * the close, whose destroys and pool close are what unstick it.
 */
const CLOSE_CREATES_MS = 3_000;

export interface HostOptions {
  /** Where xenstored listens for Xen's tools; no socket when absent. */
  readonly stateDir?: string;
  /** Pre-started vCPU threads kept ready per heap size. */
  readonly poolSize?: number;
  /**
   * Pre-built domains kept ready for creates of this memory= (shells.ts); none by default.
   * `vifs` more are kept with a vif connected, for configurations with one vif served by dom0.
   */
  readonly shells?: { readonly count: number; readonly memory: number; readonly vifs?: number };
  /** Creates in progress at once before one more is refused with EAGAIN (MAX_CREATES_IN_FLIGHT). */
  readonly maxCreates?: number;
  /** Where the summoning DNS server (summon.ts) listens once a name is summoned; 127.0.0.1, any port, by default. */
  readonly summonDns?: SummonDns;
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

/** What a summon (SummonHost.boot) asks of a create. */
interface SummonHooks {
  /** Its shell is replaced once this settles (the guest's first answer), not at once. */
  readonly refillAfter?: Promise<unknown>;
  /**
   * Called once the domain is built and its kernel handed over, before the create waits for
   * main() and writes the VM record. A promise it returns is waited for (a test holds a create there).
   */
  readonly built?: () => void | Promise<unknown>;
}

/**
 * An on_reboot=restart under way (Host #restart): `begun` once its own destroy of the old domain
 * started; a destroy of the old id after that sets `cancelled`; `settled` when it is over.
 */
interface Restart {
  begun: boolean;
  cancelled: boolean;
  readonly settled: Promise<void>;
}

/** A domain the toolstack manages: its VM's record, and a cache of the configuration stored there. */
interface Managed {
  config: DomainConfig;
  handled: boolean;
  readonly vm: Ref<'VM'>;
}

export class Host extends EventEmitter<HostEvents> {
  readonly hv: Hypervisor;
  readonly loop: UpcallLoop;
  readonly xenstored: Xenstored;
  readonly xs: XenstoreClient;
  readonly consoled: ConsoleDaemon;
  readonly pool: VcpuPool;
  readonly shells: ShellPool;
  /** Pool-0 shells whose vif 0 is connected while they wait (for configurations with one vif). */
  readonly vifShells: ShellPool;
  readonly paths: HostPaths | null;
  /** The host database (in memory for a host without a state dir). */
  readonly db: HostDb;
  /** What a vif plug reads of its network (default_locking_mode), kept per bridge. */
  readonly #networkLocking: NetworkLockingCache;
  readonly storage: Storage;
  readonly vdis: Vdis;
  /** Every domain's VM record (vms.ts): written at each change, before the change is told. */
  readonly vms: VmTable;
  #managed = new Map<number, Managed>();
  /** Names of domains being built: a name is taken from the moment its create starts. */
  #creating = new Set<string>();
  /** Creates under way: close() lets them end before it destroys every domain (theirs among them). */
  readonly #creates = new Set<Promise<void>>();
  #destroying = new Map<number, Promise<void>>();
  /** Restarts, by old domid, from their teardown until the new domain is built (#restart). */
  #restarting = new Map<number, Restart>();
  #log: (line: string) => void;
  readonly #maxCreates: number;
  /** Set while the host shuts its guests down: their shutdown actions no longer restart them. */
  #stopping = false;
  #switch: Switch | undefined;
  /** Shared cpupools by name; Pool-0 (a thread per vCPU) is `pool`. */
  readonly #cpupools = new Map<string, Cpupool>();
  /** Shells parked in shared cpupools (realms waiting for a kernel), by pool name; Pool-0's are `shells`. */
  readonly #poolShells = new Map<string, ShellPool>();
  readonly #gateways = new Map<string, Gateway>();
  readonly #ownPorts: { proto: 'tcp' | 'udp'; port: number }[] = [];
  readonly #taps = new Map<string, TapPeer>();
  /** Host port forwards of domains, through their bridges' gateways. */
  readonly forwards = new DomainForwards((bridge) => this.gateway(bridge));
  /** Names whose guests the first DNS query boots (Jitsu's summoning, summon.ts). */
  readonly summoner: Summoner;
  /** Host ports whose guests the first connection boots (summon-forwards.ts). */
  readonly summonedForwards: SummonedForwards;
  /** Static ip= of vifs, bound to their MACs at their bridges' gateways. */
  readonly #vifAddresses = new VifAddresses((bridge) => {
    const gw = this.#gateways.get(bridge);
    return gw?.closed === false ? gw : undefined;
  });

  private constructor(opts: HostOptions, parts: {
    hv: Hypervisor; loop: UpcallLoop; xenstored: Xenstored; xs: XenstoreClient; db: HostDb; vms: VmTable; scrubber: ThreadScrubber;
  }) {
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
    // Pool-0's shells take restores too (claimShell): their RAM is faulted in while they wait, by
    // the scrubber's thread (scrub.ts), not dom0's.
    const { vifs = 0, ...shells } = opts.shells ?? { count: 0, memory: 0 };
    const prefault = (d: Domain) => void parts.scrubber.prefault(d).catch(() => {});
    this.shells = new ShellPool(() => this.#ctx, { ...shells, prefault }, this.#log);
    this.vifShells = new ShellPool(() => this.#ctx, { count: vifs, memory: shells.memory, vif: true }, this.#log);
    const summoning: SummonHost = {
      running: (name) => this.liveDomainNamed(name) !== undefined,
      boot: async (config, vm, served, built) => {
        const hooks = { refillAfter: served, built };
        await (await (vm === undefined ? this.create(config, hooks) : this.start(vm, hooks))).vcpu.mainCalled;
      },
      log: this.#log,
    };
    this.summoner = new Summoner(summoning, opts.summonDns);
    this.summonedForwards = new SummonedForwards(summoning, (bridge) => this.gateway(bridge));
    this.paths = opts.stateDir ? hostPaths(opts.stateDir) : null;
    this.db = parts.db;
    this.#networkLocking = new NetworkLockingCache(this.db);
    this.vms = parts.vms;
    this.storage = new Storage(this.db, this.#imagesDir);
    this.vdis = new Vdis(this.storage, (vdi) => vdiUsers(this.devices, vdi), (vdi) => vdiLiveDisks(this.devices, vdi));
  }

  /** The default SR's directory, where bare-name disk targets live. */
  get #imagesDir(): string {
    return join(this.paths?.stateDir ?? resolveStateDir(), 'images');
  }

  static async start(opts: HostOptions = {}): Promise<Host> {
    const paths = opts.stateDir ? hostPaths(opts.stateDir) : null;
    if (paths) await mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
    // The database first: dom0's uuid is the one it keeps.
    const db = SqliteHostDb.open(paths?.hostDb ?? ':memory:');
    let vms: VmTable;
    let dom0Uuid: string | undefined;
    try {
      vms = new VmTable(db, (await seedHost(db)).host);
      dom0Uuid = await vms.dom0Uuid();
    } catch (e) {
      await db.close();
      throw e;
    }
    // A destroyed guest's memory is wiped on a thread of its own, not dom0's (scrub.ts).
    const scrubber = new ThreadScrubber();
    const log = opts.log ?? (() => {});
    const hv = new Hypervisor({ ...(dom0Uuid && { dom0Uuid }), heap: new DomHeap({ scrubber }), log });
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
    // dom0 holds two ports per guest (xenstore, console) and more per device: the FIFO ABI's
    // 2^17 ports instead of the 2-level ABI's 4,095, which stopped hosts at 2,047 guests.
    await loop.useFifo(hc);
    const xenstored = new Xenstored({
      introduce: mapGuestRing(hc, loop),
      // SET_PERMS may name only domains the hypervisor has (XSA-322's class).
      domainExists: (domid) => hv.findDomain(domid) !== undefined,
      log,
    });
    const xs = new XenstoreClient(connectLocal(xenstored, 0));
    let partialImages: readonly string[];
    try {
      const dom0 = hv.dom0;
      ({ partialImages } = await vms.rebuild({ domid: 0, uuid: dom0.uuid, name: dom0.name, createdAt: dom0.createdAt }));
    } catch (e) {
      await db.close();
      xs.close();
      await xenstored.close();
      loop.stop();
      throw e;
    }
    const host = new Host(opts, { hv, loop, xenstored, xs, db, vms, scrubber });
    // PBD.plug of every SR: one whose directory others can write in stays unplugged (logged, the fix named).
    await host.storage.plugAll(log);
    // Suspend images a killed host left partial: their VMs are halted now, the files go.
    for (const uuid of partialImages) await host.vdis.destroy(uuid).catch((e: Error) => log(`partial suspend image ${uuid}: ${e.message}`));
    if (host.paths) {
      await xenstored.listen(host.paths.xenstoredSocket);
    }
    const domExc = await hc.evtchnBindVirq(VIRQ_DOM_EXC);
    loop.on(domExc, () => void host.#onDomainException());
    host.shells.fill();
    host.vifShells.fill();
    return host;
  }

  #buildCtx: BuildContext | undefined;
  /** Aborted by close(): its builds' background work stops (BuildContext.closing). */
  readonly #closing = new AbortController();
  /** close() has begun (the one record of it: the abort above). */
  get #closed(): boolean {
    return this.#closing.signal.aborted;
  }
  /** What the builder needs of this host: made once, as every part of it is fixed when the host is made. */
  get #ctx(): BuildContext {
    return (this.#buildCtx ??= { hv: this.hv, xs: this.xs, xenstored: this.xenstored, consoled: this.consoled, pool: this.pool, onLog: this.#log, loop: this.loop, cpupools: this.#cpupools,
      ...(this.paths && { imagesDir: `${this.paths.stateDir}/images` }), vdis: this.vdis, ...this.#netback, closing: this.#closing.signal });
  }

  /**
   * Create and start a domain (xl create); `paused` leaves it paused, as xl create -p. It is a
   * new transient VM, or the persistent VM `vm` (halted until now) booting. `restore`: from a
   * save image (migration/restore.ts), into a shell when one fits (its parked runtime has
   * touched no RAM), except an incoming migration's parked build.
   */
  async create(config: DomainConfig, opts: { paused?: boolean; vm?: Ref<'VM'>; restore?: RestoreSpec } & SummonHooks = {}): Promise<BuiltDomain> {
    if (this.#closed || this.#stopping) throw new XenError('EINVAL', 'the host is shutting down');
    if (this.#creating.size >= this.#maxCreates) {
      throw new XenError('EAGAIN', `${this.#creating.size} creates are in progress on this host: try again when one has finished`);
    }
    this.#checkNameFree(config.name);
    this.#creating.add(config.name);
    // Known to close() without a promise around create's own: its caller sees it settle on the
    // same turn as before (the API's boot waiter must be set before a crash's event comes).
    let ended!: () => void;
    const ending = new Promise<void>((resolve) => (ended = resolve));
    this.#creates.add(ending);
    try {
      if (config.vifs.some((v) => v.mac === undefined)) config = { ...config, vifs: settleVifMacs(config.vifs) };
      // Pool-0's shells have a thread each; a shared cpupool's are realms parked on its pCPUs.
      // A configuration with one vif takes a shell whose vif is connected when one is ready.
      const pool0 = config.pool === undefined || config.pool === POOL0;
      const shells = pool0 && !opts.restore && this.vifShells.ready > 0 && this.vifShells.fits(config) ? this.vifShells
        : pool0 ? this.shells : this.#poolShells.get(config.pool!);
      // A restore goes into Pool-0's shells only (a shared cpupool's realms restore through buildDomain).
      const restoreFits = !opts.restore || (!opts.restore.parked && shells === this.shells);
      const fromShell = !opts.paused && restoreFits && shells?.fits(config)
        ? await claimShell(this.#ctx, (k) => shells.take(k, opts.refillAfter), config, opts.restore)
        : undefined;
      const built = fromShell ?? (await buildDomain(this.#ctx, config, opts));
      const holding = opts.built?.();
      if (holding) await holding;
      const { domid, uuid } = built.domain;
      // close() waits only so long for a create: one that outlived the wait tears its domain
      // down itself, as no VM record, forward or teardown of a closed host would come for it.
      if (this.#closed) {
        await teardownDomain(this.#ctx, built.domain).catch(() => {});
        throw new XenError('EINVAL', `d${domid}: the host closed while the domain was built`);
      }
      // The domain keeps its uuid when it restarts, as libxl's does.
      config = { ...config, uuid };
      let vm: Ref<'VM'>;
      try {
        // A crash of the host before the commit leaves what its restart makes anyway: no
        // record of a transient VM, a persistent one halted (VmTable.rebuild).
        if (!opts.paused && !opts.restore) await within(built.vcpu.mainCalled.catch(() => {}), COMMIT_AFTER_MAIN_MS);
        vm = await this.vms.started(opts.vm, built.domain, config, opts.paused === true, { resume: opts.restore !== undefined });
      } catch (e) {
        await teardownDomain(this.#ctx, built.domain);
        throw e;
      }
      this.#managed.set(domid, { config, handled: false, vm });
      for (const v of config.vifs) this.#vifAddresses.add(domid, v);
      try {
        for (const f of config.forwards ?? []) await this.forwards.add(domid, config.vifs, f);
      } catch (e) {
        await this.destroy(domid).catch(() => {});
        throw e;
      }
      this.emit('created', domid, config.name);
      // A crash during the build was signalled before the domain was ours to handle.
      if (built.domain.shutdownReason) void this.#onDomainException();
      return built;
    } finally {
      this.#creating.delete(config.name);
      this.#creates.delete(ending);
      ended();
    }
  }

  #checkNameFree(name: string): void {
    if (this.#creating.has(name)) throw new XenError('EEXIST', `a domain named '${name}' is being created`);
    // Not hv.domains(): it sorts the whole table, 0.2 ms of every create at 7,000 guests.
    const d = this.hv.liveDomainNamed(name);
    if (d) throw new XenError('EEXIST', `a domain named '${name}' already exists (id ${d.domid})`);
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

  /** The live domain named `name` if users may see it (not a shell): the hypervisor's index, no scan. */
  liveDomainNamed(name: string): Domain | undefined {
    return isShellName(name) ? undefined : this.hv.liveDomainNamed(name);
  }

  /** Boot a halted persistent VM (XAPI's VM.start) with the configuration its record holds. */
  async start(vm: string, opts: { paused?: boolean } & SummonHooks = {}): Promise<BuiltDomain> {
    const { ref, config } = await this.storedConfig(vm);
    return this.create(config, { ...opts, vm: ref });
  }

  /** The configuration a VM (by uuid or name) starts with; a snapshot starts with none. */
  async storedConfig(vm: string): Promise<{ ref: Ref<'VM'>; config: DomainConfig }> {
    const { ref, config, snapshot } = await this.db.read((tx) => {
      const ref = findVm(tx, vm);
      const r = tx.VM.get(ref);
      return { ref, config: vmConfig(r), snapshot: r.is_a_snapshot ? r.uuid : undefined };
    });
    if (!config) throw new XenError('EPERM', 'the control domain is always running');
    if (snapshot) throw new XenError('EPERM', `VM ${snapshot} is a snapshot, which does not start: \`xenode vm-clone\` makes a VM of it, \`xenode vm-revert\` returns its VM to it`);
    return { ref, config };
  }

  /** The VM record of a managed domain. */
  vmOf(domid: number): Ref<'VM'> | undefined {
    return this.#managed.get(domid)?.vm;
  }

  /** A managed domain's configuration changed: the cache and the record, together. */
  async #configure(domid: number, edit: (c: DomainConfig) => DomainConfig): Promise<void> {
    const m = this.#managed.get(domid);
    if (!m) return;
    m.config = edit(m.config);
    await this.vms.configured(m.vm, m.config);
  }

  /** The configuration a domain was created from (undefined for dom0 and domains still being built). */
  config(domid: number): DomainConfig | undefined {
    return this.#managed.get(domid)?.config;
  }

  /** A guest the toolstack manages, for an operation `what`; dom0 and domains being built are refused. */
  #guest(domid: number, what: string): Domain {
    const d = this.hv.domain(domid);
    if (domid === 0) throw new XenError('EPERM', `Domain-0 cannot be ${what}`);
    if (this.isBeingDestroyed(d)) throw new XenError('ESRCH', `domain ${domid} is being destroyed`);
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

  /**
   * Suspend a guest (the first step of xl save and xl migrate): control/shutdown = suspend,
   * then wait until it has shut down with reason suspend. A guest that does not within
   * `timeoutMs` keeps running and the request is withdrawn, as libxl does.
   */
  async suspend(domid: number, timeoutMs = SUSPEND_TIMEOUT_MS): Promise<Domain> {
    const d = this.#guest(domid, 'suspended');
    if (d.shutdownReason) throw new XenError('EINVAL', `domain ${domid} has already shut down (${d.shutdownReason})`);
    if (d.paused) throw new XenError('EINVAL', `domain ${domid} is paused and cannot act on a suspend request: unpause it first`);
    let onExc!: (id: number) => void;
    const suspended = new Promise<void>((resolve, reject) => {
      onExc = (id) => {
        if (id !== domid) return;
        if (d.shutdownReason === 'suspend') resolve();
        else if (d.shutdownReason || d.dying) reject(new XenError('ESRCH', `domain ${domid} ${d.dying ? 'was destroyed' : `shut down (${d.shutdownReason})`} instead of suspending`));
      };
      this.hv.on('domainException', onExc);
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new XenError('ETIMEDOUT', `guest did not suspend, timed out (domain ${domid}, ${timeoutMs} ms): it runs on`)), timeoutMs);
    });
    try {
      await this.xs.write(`/local/domain/${domid}/control/shutdown`, 'suspend');
      await Promise.race([suspended, timedOut]);
    } catch (e) {
      // libxl: "guest didn't acknowledge suspend, cancelling request".
      await this.xs.write(`/local/domain/${domid}/control/shutdown`, '').catch(() => {});
      throw e;
    } finally {
      clearTimeout(timer);
      this.hv.off('domainException', onExc);
    }
    return d;
  }

  /** A suspended guest runs on in place (xl save -c, or a save or migration that failed). */
  resume(domid: number): void {
    this.#guest(domid, 'resumed');
    this.hv.resumeDomain(domid);
    const m = this.#managed.get(domid);
    if (m) m.handled = false;
  }

  /** Destroy a domain and build it again from its configuration, as its on_reboot=restart would: the same VM, a new domain. */
  async hardReboot(domid: number): Promise<BuiltDomain> {
    const d = this.#guest(domid, 'rebooted');
    const m = this.#managed.get(domid)!;
    // Its own shutdown, if one comes now, is this reboot's.
    m.handled = true;
    const built = await this.#apply(domid, d.name, m, 'restart');
    if (!built) throw new XenError('ESRCH', `domain ${domid} was destroyed while it rebooted`);
    return built;
  }

  /** xl pause: pauses nest, as Xen's controller pause count does. */
  async pause(domid: number): Promise<void> {
    const d = this.#guest(domid, 'paused');
    this.hv.pause(domid);
    await this.#power(domid, 'Paused');
    this.emit('paused', domid, d.name);
  }

  async unpause(domid: number): Promise<void> {
    const d = this.#guest(domid, 'unpaused');
    if (!d.paused) throw new XenError('EINVAL', `domain ${domid} is not paused`);
    this.hv.unpause(domid);
    if (!d.paused) await this.#power(domid, d.shutdownReason ? 'Halted' : 'Running');
    this.emit('unpaused', domid, d.name);
  }

  async #power(domid: number, state: 'Running' | 'Paused' | 'Halted'): Promise<void> {
    const m = this.#managed.get(domid);
    if (m) await this.vms.power(m.vm, state);
  }

  /** xl rename: the domain's name in the hypervisor, in xenstore, and in the config it restarts with. */
  async rename(domid: number, name: string): Promise<void> {
    return this.beginRename(domid, name);
  }

  /**
   * rename() for a caller that must know at once whether the name is taken (a migration's
   * switch): the checks and the new name in the hypervisor now, a refusal thrown here; the
   * promise is the rest (the config, xenstore).
   */
  beginRename(domid: number, name: string): Promise<void> {
    const d = this.#guest(domid, 'renamed');
    const problem = domainNameProblem(name);
    if (problem !== undefined) throw new XenError('EINVAL', `invalid domain name: ${problem}`);
    if (name === d.name) return Promise.resolve();
    this.#checkNameFree(name);
    const old = d.name;
    d.name = name;
    return this.#recordRename(d, name, old);
  }

  async #recordRename(d: Domain, name: string, old: string): Promise<void> {
    const domid = d.domid;
    await this.#configure(domid, (c) => ({ ...c, name }));
    // A destroy meanwhile removed (or is removing) the domain's paths: a persistent VM's record
    // outlives it, so the rename gets here; it must not write them back. A teardown's rm that
    // commits during the transaction makes it conflict and run again, to find them gone.
    const gone = () => new XenError('ESRCH', `domain ${domid} was destroyed during its rename to ${name}`);
    if (this.isBeingDestroyed(d)) throw gone();
    await this.xs.transaction(async (t) => {
      // Its own /vm link, not the domid's: that domid may name a new domain by now.
      if (await t.readOptional(`/local/domain/${domid}/vm`) !== `/vm/${d.uuid}`) throw gone();
      await t.write(`/local/domain/${domid}/name`, name);
      await t.write(`/vm/${d.uuid}/name`, name);
    });
    this.emit('renamed', domid, name, old);
  }

  /**
   * xl cpupool-create: a shared pool of `cpus` pCPU threads; with `shells`, that many domains
   * of that memory= kept parked in it (realms with the library OS booted, waiting for a kernel).
   */
  async createCpupool(
    name: string, cpus: number, sched: CpupoolSched = 'credit',
    opts: Pick<CpupoolOptions, 'watchdogMs' | 'heapMb'> & { shells?: { readonly count: number; readonly memory: number } } = {},
  ): Promise<Cpupool> {
    const problem = poolNameProblem(name);
    if (problem) throw new XenError('EINVAL', `invalid pool name: ${problem}`);
    if (name === POOL0 || this.#cpupools.has(name)) throw new XenError('EEXIST', `a cpupool named ${name} already exists`);
    const { shells, ...poolOpts } = opts;
    const pool = new Cpupool({ name, cpus, sched, image: PCPU_IMAGE, realmImage: REALM_IMAGE, onLog: this.#log, ...poolOpts });
    this.#cpupools.set(name, pool);
    try {
      await pool.ready();
    } catch (e) {
      this.#cpupools.delete(name);
      await pool.close();
      throw new XenError('EIO', `cpupool ${name}: its pCPU threads did not start: ${(e as Error).message}`);
    }
    if (shells && shells.count > 0) {
      const parked = new ShellPool(() => this.#ctx, { ...shells, cpupool: pool }, this.#log);
      this.#poolShells.set(name, parked);
      parked.fill();
    }
    return pool;
  }

  /** xl cpupool-destroy: only an empty pool goes (as xl's, whose CPUs must be removed first). */
  async destroyCpupool(name: string): Promise<void> {
    if (name === POOL0) throw new XenError('EPERM', `${POOL0} cannot be destroyed`);
    const pool = this.#cpupools.get(name);
    if (!pool) throw new XenError('ENOENT', `no cpupool named ${name}`);
    const guests = this.domains().filter((d) => pool.hosts(d.domid)).length;
    if (guests > 0) throw new XenError('EBUSY', `cpupool ${name} still has ${guests} domain(s); destroy or move them first`);
    // Its parked shells are the host's, not users' domains: they go with it.
    const shells = this.#poolShells.get(name);
    this.#poolShells.delete(name);
    await shells?.close();
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

  /** The gateway of `bridge` (10.0.2.0/24 in slirp's shape), attached if it has none; xenbr0 gets one with the first vif. */
  gateway(bridge: string): Gateway {
    let gw = this.#gateways.get(bridge);
    if (!gw || gw.closed) {
      const own = (proto: 'tcp' | 'udp') => this.#ownPorts.filter((p) => p.proto === proto).map((p) => p.port);
      gw = Gateway.attach(this.switch, bridge, { deny: { tcp: own('tcp'), udp: own('udp') } });
      this.#gateways.set(bridge, gw);
      this.#vifAddresses.gatewayAttached(gw);
    }
    return gw;
  }

  /** xenode bridge-tap: a Linux TAP device (through socat) as a port of `bridge`, so the host's kernel reaches its guests. */
  async attachTap(bridge: string, tap: string, address?: string): Promise<TapPeer> {
    if (this.#taps.get(tap)?.closed === false) throw new XenError('EEXIST', `TAP device ${tap} is attached already`);
    const peer = await TapPeer.attach(this.switch, bridge, tap, address === undefined ? {} : { address });
    this.#taps.set(tap, peer);
    return peer;
  }

  /** Remove a TAP peer of `bridge` (socat ends, the device goes). */
  detachTap(tap: string, bridge: string): TapPeer {
    const peer = this.#taps.get(tap);
    if (!peer) throw new XenError('ENOENT', `no TAP device ${tap} is attached`);
    if (!peer.closed && peer.bridge !== bridge) throw new XenError('EINVAL', `TAP device ${tap} is a port of ${peer.bridge}, not of ${bridge}`);
    this.#taps.delete(tap);
    peer.close();
    return peer;
  }

  /** A port this host's own services listen on (XenAPI, migration): no guest reaches it through a gateway's NAT. */
  protectPort(proto: 'tcp' | 'udp', port: number): void {
    this.#ownPorts.push({ proto, port });
    for (const gw of this.#gateways.values()) gw.denyHostPort(proto, port);
  }

  /** xenode network-forward: a host port to the domain's first vif; it stays in the configuration the domain restarts with. */
  async addForward(domid: number, spec: ForwardSpec): Promise<ForwardInfo> {
    this.#guest(domid, 'given a forward');
    const info = await this.forwards.add(domid, this.#managed.get(domid)!.config.vifs, spec);
    await this.#configure(domid, (c) => ({ ...c, forwards: [...(c.forwards ?? []), spec] }));
    return info;
  }

  /** xenode network-forward --remove. */
  async removeForward(domid: number, spec: ForwardSpec): Promise<ForwardInfo> {
    this.#guest(domid, 'relieved of a forward');
    const info = this.forwards.remove(domid, spec);
    const same = (f: ForwardSpec) => f.proto === spec.proto && f.hostAddress === spec.hostAddress && f.hostPort === spec.hostPort;
    await this.#configure(domid, (c) => ({ ...c, forwards: (c.forwards ?? []).filter((f) => !same(f)) }));
    return info;
  }

  /** What the device code needs of this host. */
  get devices(): VifHost {
    return { hv: this.hv, xs: this.xs, loop: this.loop, log: this.#log, ...(this.paths && { imagesDir: `${this.paths.stateDir}/images` }), vdis: this.vdis, ...this.#netback };
  }

  /**
   * How dom0's netback service starts (plugging vifs into this host's switch), and what a vif
   * with no locking mode of its own is plugged with: its network's default_locking_mode.
   */
  get #netback(): Pick<VifHost, 'startNetback' | 'networkLocking'> {
    const hc = this.hv.dom0Hypercalls;
    const ctx = { hc, evtchn: eventChannels(hc, this.loop), xs: this.xs, log: this.#log };
    return {
      startNetback: () => {
        this.gateway(DEFAULT_BRIDGE);
        return NetbackDaemon.start(ctx, 0, { switch: this.switch });
      },
      networkLocking: (bridge) => this.#networkLocking.get(bridge),
    };
  }

  /** xl network-attach: hot-plug a vif. It stays in the configuration the domain restarts with, as libxl keeps it. */
  async attachVif(domid: number, vif: DomainVif): Promise<NicDevice> {
    this.#guest(domid, 'given a vif');
    const dev = await attachVif(this.devices, domid, vif);
    this.#vifAddresses.add(domid, { ...vif, mac: dev.mac });
    await this.#configure(domid, (c) => ({ ...c, vifs: [...c.vifs.filter((x) => x.devid !== vif.devid), { ...vif, mac: dev.mac }] }));
    return dev;
  }

  /** A plugged vif's locking changed (XAPI's VIF.set_locking_mode): its backend nodes now, the configuration after. */
  async setVifLocking(domid: number, vif: DomainVif): Promise<void> {
    this.#guest(domid, 'given a vif locking');
    await setVifLocking(this.devices, domid, String(vif.devid), vif);
    await this.#configure(domid, (c) => ({ ...c, vifs: c.vifs.map((x) => (x.devid === vif.devid ? vif : x)) }));
  }

  /** xl network-detach DEVID|MAC [-f]. */
  async detachVif(domid: number, which: string, force: boolean): Promise<void> {
    this.#guest(domid, 'relieved of a vif');
    const devid = await detachVif(this.devices, domid, which, { force });
    this.#vifAddresses.remove(domid, devid);
    await this.#configure(domid, (c) => ({ ...c, vifs: c.vifs.filter((x) => x.devid !== devid) }));
  }

  /** xl block-attach: hot-plug a disk. It stays in the configuration the domain restarts with, as libxl keeps it. */
  async attachDisk(domid: number, spec: DiskSpec): Promise<DiskDevice> {
    this.#guest(domid, 'given a disk');
    const dev = await attachDisk(this.devices, domid, spec);
    await this.#configure(domid, (c) => ({ ...c, disks: [...c.disks.filter((x) => x.devid !== spec.devid), spec] }));
    return dev;
  }

  /** xl block-detach [-f]. */
  async detachDisk(domid: number, vdev: string, force: boolean): Promise<void> {
    this.#guest(domid, 'relieved of a disk');
    await detachDisk(this.devices, domid, vdev, { force });
    const devid = /^[0-9]+$/.test(vdev) ? Number(vdev) : vdevToDevid(vdev);
    await this.#configure(domid, (c) => ({ ...c, disks: c.disks.filter((x) => x.devid !== devid) }));
  }

  /**
   * A destroy of the domain has begun (here, or by the hypervisor: dying): once it is reaped, its
   * memory may be back in the domheap.
   */
  isBeingDestroyed(d: Domain): boolean {
    return d.dying || this.#destroying.has(d.domid);
  }

  /**
   * The domain's memory, for a read or a write that starts now. Refused (ESRCH) once a destroy has
   * begun: a reaped domain's memory goes back to the domheap, to be wiped and handed to the next
   * domain of its size, so a save or a migration that read it then would carry zeros or that
   * domain's data, and one that wrote it would write into that domain. Access that outlives the
   * caller's turn (a write from it) keeps it out of the domheap until it settles (Hypervisor.linger).
   */
  guestMemory(d: Domain): SharedArrayBuffer {
    if (this.isBeingDestroyed(d)) throw new XenError('ESRCH', `domain ${d.domid} is being destroyed`);
    return d.view.buffers.memory;
  }

  /**
   * xl destroy. Destroys of one domain that overlap share one teardown (a shutdown action and
   * a user's destroy can meet here); `destroyed` is emitted once. A transient VM's record goes
   * with its domain, unless `keepVm` (it is about to restart).
   */
  destroy(domid: number, keepVm = false): Promise<void> {
    const pending = this.#destroying.get(domid);
    // A domain destroyed while it reboots is not started again (#restart): during its teardown
    // the destroy joins it; once that is over it waits for the new domain to be built and torn down.
    const restart = this.#restarting.get(domid);
    if (restart?.begun) {
      restart.cancelled = true;
      return pending ?? restart.settled;
    }
    if (restart) restart.begun = true; // the restart's own destroy
    else if (pending) return pending;
    let d: Domain;
    try {
      d = this.hv.domain(domid);
      if (domid === 0) throw new XenError('EPERM', 'dom0 cannot be destroyed');
      if (d.dying) throw new XenError('ESRCH', `domain ${domid} is already dying`);
    } catch (e) {
      return Promise.reject(e);
    }
    const done = (async () => {
      const vm = this.#managed.get(domid)?.vm;
      this.#managed.delete(domid);
      this.forwards.removeDomain(domid);
      this.#vifAddresses.removeDomain(domid);
      await teardownDomain(this.#ctx, d);
      if (vm) await this.vms.stopped(vm, keepVm).catch((e: Error) => this.#log(`d${domid}: its VM record could not be updated: ${e.message}`));
      this.emit('destroyed', domid, d.name);
    })().finally(() => this.#destroying.delete(domid));
    this.#destroying.set(domid, done);
    return done;
  }

  async #onDomainException(): Promise<void> {
    this.shells.reap();
    this.vifShells.reap();
    for (const s of this.#poolShells.values()) s.reap();
    // Only domains that shut down: not a sorted copy of the whole table at every destroy.
    for (const d of this.hv.shutDown()) {
      const m = this.#managed.get(d.domid);
      if (!m || m.handled || !d.shutdownReason) continue;
      m.handled = true;
      const reason = d.shutdownReason;
      const c = m.config;
      const action = reason === 'crash' ? c.onCrash : reason === 'reboot' ? c.onReboot : reason === 'watchdog' ? c.onWatchdog
        : reason === 'soft_reset' ? c.onSoftReset : c.onPoweroff;
      this.consoled.drain(d.domid);
      // Decided here, once: the event tells everyone what happens next.
      // A suspended domain waits for whoever suspended it (save, migrate), as xl leaves it.
      const taken = this.#stopping || this.#destroying.has(d.domid) ? 'destroy' : reason === 'suspend' ? 'preserve' : outcomeOf(action);
      if (reason !== 'suspend') await this.vms.power(m.vm, 'Halted').catch((e: Error) => this.#log(`d${d.domid}: its VM record could not be updated: ${e.message}`));
      this.emit('shutdown', d.domid, d.name, reason, action, taken);
      try {
        await this.#apply(d.domid, d.name, m, taken);
      } catch (e) {
        this.#log(`d${d.domid}: ${taken} after ${reason} failed: ${(e as Error).message}`);
      }
    }
  }

  /** Carry out a shutdown outcome; the new domain when it restarts. */
  async #apply(domid: number, name: string, m: Managed, action: ShutdownOutcome): Promise<BuiltDomain | undefined> {
    // Someone is destroying it already: that wins over the configured action.
    if (this.#destroying.has(domid)) return undefined;
    if (action === 'preserve') return undefined;
    if (action === 'restart') return this.#restart(domid, name, m);
    if (action !== 'rename-restart') {
      await this.destroy(domid);
      return undefined;
    }
    // The renamed domain keeps its VM and uuid; the new one is a new VM.
    const { uuid: _, ...config } = m.config;
    this.hv.domain(domid).name = `${name}-${domid}`;
    await this.#configure(domid, (c) => ({ ...c, name: `${name}-${domid}` }));
    await this.xs.write(`/local/domain/${domid}/name`, `${name}-${domid}`);
    let built: BuiltDomain;
    try {
      built = await this.create(config);
    } catch (e) {
      this.emit('restartFailed', domid, name, (e as Error).message);
      throw e;
    }
    this.emit('restarted', domid, built.domain.domid, name);
    return built;
  }

  /**
   * on_reboot=restart: the domain is torn down and built again under its VM. Its own destroy
   * starts the teardown; a destroy of the old id from then until the new domain is built calls
   * the restart off (a guest that reboots at once, destroyed by its owner meanwhile, came back
   * under a new id): during the teardown it joins it; during the create it waits for the new
   * domain, which is destroyed as soon as it is built, and the VM is left halted.
   */
  async #restart(domid: number, name: string, m: Managed): Promise<BuiltDomain | undefined> {
    let settle!: () => void;
    const r: Restart = { begun: false, cancelled: false, settled: new Promise<void>((s) => (settle = s)) };
    this.#restarting.set(domid, r);
    try {
      await this.destroy(domid, true);
      if (r.cancelled) {
        await this.vms.stopped(m.vm, false).catch(() => {});
        return undefined;
      }
      let built: BuiltDomain;
      try {
        built = await this.create(m.config, { vm: m.vm });
      } catch (e) {
        await this.vms.stopped(m.vm, false).catch(() => {});
        this.emit('restartFailed', domid, name, (e as Error).message);
        throw e;
      }
      if (r.cancelled) {
        const newId = built.domain.domid;
        await this.destroy(newId).catch((e: Error) => this.#log(`d${newId}: destroyed while it restarted, it could not be torn down: ${e.message}`));
        return undefined;
      }
      this.emit('restarted', domid, built.domain.domid, name);
      return built;
    } finally {
      this.#restarting.delete(domid);
      settle();
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

  /** Whether the host is shutting its guests down or closing (it destroys every domain). */
  get stopping(): boolean {
    return this.#stopping || this.#closed;
  }

  /** Destroy every domain and stop the host's services. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closing.abort();
    this.summoner.close();
    this.summonedForwards.close();
    // Otherwise a create's last steps (its VM record, its forwards' host ports) run on a domain
    // destroyed under it: it failed (ESRCH) and left its vCPU thread's message ports open, which
    // kept the process alive. Bounded (CLOSE_CREATES_MS).
    await within(Promise.all(this.#creates), CLOSE_CREATES_MS);
    await this.shells.close();
    await this.vifShells.close();
    await Promise.all([...this.#poolShells.values()].map((s) => s.close()));
    this.#poolShells.clear();
    await Promise.all(this.hv.domains().filter((d) => d.domid !== 0 && !d.dying).map((d) => this.destroy(d.domid).catch(() => {})));
    // Teardowns already under way (a crash's destroy) end before their pools do.
    await Promise.all([...this.#destroying.values()].map((p) => p.catch(() => {})));
    await this.pool.close();
    // Every pool's threads end, even if a domain is still placed there (bounded: a thread that
    // cannot end is logged, and the host still closes).
    await Promise.all([...this.#cpupools.values()].map((p) => p.close()));
    this.#cpupools.clear();
    this.#switch?.close();
    this.xs.close();
    await this.xenstored.close();
    this.#networkLocking.close();
    await this.db.close();
    await this.hv.heap.close();
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
