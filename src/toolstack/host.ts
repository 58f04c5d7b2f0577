// A host: one physical machine's worth of xenode in this process. dom0 is the main thread;
// it runs the hypervisor authority, xenstored, the console daemon and the toolstack, and
// applies each domain's on_poweroff/on_reboot/on_crash action when VIRQ_DOM_EXC says a domain
// shut down, as xl's per-domain daemon does.
import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { VIRQ_DOM_EXC } from '../abi/event_channel.js';
import type { ShutdownReason } from '../abi/xen.js';
import { ConsoleDaemon } from '../drivers/console/daemon.js';
import { XenError } from '../errors.js';
import { Hypervisor } from '../hypervisor/hypervisor.js';
import { GNTTAB_RESERVED_XENSTORE } from '../hypervisor/layout.js';
import { bindInterdomain } from '../hypervisor/port.js';
import { UpcallLoop } from '../hypervisor/upcall.js';
import { VcpuPool } from '../hypervisor/vcpu.js';
import { connectLocal } from '../xenstore/client-transport.js';
import { XenstoreClient } from '../xenstore/client.js';
import { Xenstored } from '../xenstore/daemon.js';
import { buildDomain, teardownDomain, type BuildContext, type BuiltDomain } from './builder.js';
import type { DomainConfig, ShutdownAction } from './domconfig.js';
import { hostPaths, type HostPaths } from './paths.js';

/**
 * What the host does after a shutdown. xenode writes no core dumps, so the coredump-* actions
 * act as their plain counterparts; soft-reset restarts.
 */
function effectiveAction(a: ShutdownAction): 'destroy' | 'restart' | 'rename-restart' | 'preserve' {
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

export interface HostOptions {
  /** Where xenstored listens for Xen's tools; no socket when absent. */
  readonly stateDir?: string;
  /** Pre-started vCPU threads kept ready per heap size. */
  readonly poolSize?: number;
  readonly log?: (line: string) => void;
}

export interface HostEvents {
  /** A domain shut down; `action` is what the host is doing about it. */
  shutdown: [domid: number, name: string, reason: ShutdownReason, action: ShutdownAction];
  /** A domain is gone from the host. */
  destroyed: [domid: number, name: string];
  /** A domain was restarted as a new domain (xl gives it a new id). */
  restarted: [oldDomid: number, newDomid: number, name: string];
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
  readonly paths: HostPaths | null;
  #managed = new Map<number, Managed>();
  #log: (line: string) => void;
  #closed = false;

  private constructor(opts: HostOptions, parts: { hv: Hypervisor; loop: UpcallLoop; xenstored: Xenstored; xs: XenstoreClient }) {
    super();
    this.hv = parts.hv;
    this.loop = parts.loop;
    this.xenstored = parts.xenstored;
    this.xs = parts.xs;
    this.#log = opts.log ?? (() => {});
    this.consoled = new ConsoleDaemon(this.hv.dom0Hypercalls, this.loop);
    this.consoled.on('broken', (domid, why) => this.#log(`d${domid}: console detached: ${why}`));
    this.pool = new VcpuPool({ size: opts.poolSize ?? 0 });
    this.paths = opts.stateDir ? hostPaths(opts.stateDir) : null;
  }

  static async start(opts: HostOptions = {}): Promise<Host> {
    const hv = new Hypervisor();
    const log = opts.log ?? (() => {});
    const loop = new UpcallLoop(hv.dom0.view, { pausable: false, onError: (e, port) => log(`dom0: handler of port ${port} failed: ${(e as Error)?.stack ?? e}`) });
    loop.start();
    const hc = hv.dom0Hypercalls;
    // XS_INTRODUCE: map the guest's xenstore page through its reserved grant (as cxenstored
    // does), bind its port; when xenstored lets go of the ring, the mapping goes too.
    const xenstored = new Xenstored({
      introduce: async (domid, _mfn, port) => {
        await hc.connect(domid);
        const { handle, page } = hc.grantMap(domid, GNTTAB_RESERVED_XENSTORE, false);
        const bound = await bindInterdomain(hc, loop, domid, port).catch((e: unknown) => {
          hc.grantUnmap(handle);
          throw e;
        });
        const evtchn = {
          notify: () => bound.notify(),
          onEvent: (h: () => void) => bound.onEvent(h),
          close: () => {
            bound.close();
            hc.grantUnmap(handle);
          },
        };
        return { page, evtchn };
      },
      log,
    });
    const xs = new XenstoreClient(connectLocal(xenstored, 0));
    const host = new Host(opts, { hv, loop, xenstored, xs });
    if (host.paths) {
      await mkdir(host.paths.stateDir, { recursive: true, mode: 0o700 });
      await xenstored.listen(host.paths.xenstoredSocket);
    }
    const domExc = await hc.evtchnBindVirq(VIRQ_DOM_EXC);
    loop.on(domExc, () => void host.#onDomainException());
    return host;
  }

  get #ctx(): BuildContext {
    return { hv: this.hv, xs: this.xs, consoled: this.consoled, pool: this.pool, onLog: this.#log };
  }

  /** Create and start a domain (xl create). */
  async create(config: DomainConfig): Promise<BuiltDomain> {
    if (this.#closed) throw new XenError('EINVAL', 'the host is shutting down');
    for (const d of this.hv.domains()) {
      if (d.name === config.name && !d.dying) throw new XenError('EEXIST', `a domain named '${config.name}' already exists (id ${d.domid})`);
    }
    const built = await buildDomain(this.#ctx, config);
    this.#managed.set(built.domain.domid, { config, handled: false });
    return built;
  }

  /** Ask the guest to shut down (xl shutdown / xl reboot): it sees control/shutdown. */
  async requestShutdown(domid: number, request: 'poweroff' | 'reboot'): Promise<void> {
    this.hv.domain(domid);
    await this.xs.write(`/local/domain/${domid}/control/shutdown`, request);
  }

  /** xl destroy */
  async destroy(domid: number): Promise<void> {
    const d = this.hv.domain(domid);
    if (domid === 0) throw new XenError('EPERM', 'dom0 cannot be destroyed');
    this.#managed.delete(domid);
    await teardownDomain(this.#ctx, domid);
    this.emit('destroyed', domid, d.name);
  }

  async #onDomainException(): Promise<void> {
    for (const d of this.hv.domains()) {
      const m = this.#managed.get(d.domid);
      if (!m || m.handled || !d.shutdownReason) continue;
      m.handled = true;
      const reason = d.shutdownReason;
      const c = m.config;
      const action = reason === 'crash' ? c.onCrash : reason === 'reboot' ? c.onReboot : reason === 'watchdog' ? c.onWatchdog
        : reason === 'soft_reset' ? c.onSoftReset : c.onPoweroff;
      this.consoled.drain(d.domid);
      this.emit('shutdown', d.domid, d.name, reason, action);
      try {
        await this.#apply(d.domid, d.name, m, action);
      } catch (e) {
        this.#log(`d${d.domid}: ${action} after ${reason} failed: ${(e as Error).message}`);
      }
    }
  }

  async #apply(domid: number, name: string, m: Managed, requested: ShutdownAction): Promise<void> {
    const action = effectiveAction(requested);
    if (action === 'preserve') return;
    if (action === 'rename-restart') {
      this.hv.domain(domid).name = `${name}-${domid}`;
      await this.xs.write(`/local/domain/${domid}/name`, `${name}-${domid}`);
    } else {
      await this.destroy(domid);
    }
    if (action === 'restart' || action === 'rename-restart') {
      const built = await this.create(m.config);
      this.emit('restarted', domid, built.domain.domid, name);
    }
  }

  /** Destroy every domain and stop the host's services. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const d of this.hv.domains()) if (d.domid !== 0 && !d.dying) await this.destroy(d.domid).catch(() => {});
    await this.pool.close();
    this.xs.close();
    await this.xenstored.close();
    this.loop.stop();
  }
}
