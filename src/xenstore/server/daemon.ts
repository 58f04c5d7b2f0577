// xenstored: the public face of the daemon and the one place that assembles it (the core, its
// request table, its ring transport). Transports hand it connections; the host introduces and
// releases domains; `listen` serves Xen's tools on a Unix socket.
import { XENSTORE_ERROR_NONE } from '../../abi/xs_wire.js';
import type { XsConnection } from './connection.js';
import { XenstoreCore } from './core.js';
import { type Quotas, resolveQuotas } from './quota.js';
import { handleRequest } from './requests.js';
import { serveRing } from './ring.js';
import { UnixSocketListener } from './socket.js';
import type { DomainRing } from '../common/ring.js';
import type { CloseReason, IntroduceHook, SendBytes } from './transport.js';

export type { XsConnection } from './connection.js';
export type { Quotas } from './quota.js';

export interface XenstoredOptions {
  /** Per-domain quotas (cxenstored's names and defaults otherwise). */
  quotas?: Partial<Quotas>;
  /** Receives log lines: dropped connections, CONTROL print, and message traces after CONTROL log on. */
  log?: (line: string) => void;
  /**
   * Maps a guest's xenstore ring for a wire XS_INTRODUCE (domid, mfn, port). Without it, an
   * INTRODUCE registers the domain with no ring.
   */
  introduce?: IntroduceHook;
  /**
   * Whether a domain exists (the hypervisor's domain lookup): SET_PERMS may not name as owner a
   * domain that does not, and ACL entries naming one grant nothing. Without it, every domain id
   * counts as existing (a xenstored with no hypervisor behind it).
   */
  domainExists?: (domid: number) => boolean;
  /** Unread output bytes any connection may accumulate before it is dropped (default 2 MiB). */
  maxOutputBytes?: number;
  /** Unread output bytes of all connections together (default 64 MiB): a connection adding past it is dropped. */
  maxTotalOutputBytes?: number;
  /**
   * Whether other tasks want the CPUs now (default: the run queue in /proc/loadavg). The Unix
   * socket polls after answers, and writes a read's first replies at once, only while not.
   */
  cpusBusy?: () => boolean;
}

export interface ConnectOptions {
  /** dom0 rights (default: domid 0 is privileged, others are not). */
  privileged?: boolean;
  /** Called when xenstored drops the connection, with the XENSTORE_ERROR_* reason (0: domain released). */
  onClose?: (reason: CloseReason) => void;
}

export class Xenstored {
  readonly #core: XenstoreCore;
  readonly #listeners = new Set<UnixSocketListener>();
  readonly #cpusBusy: (() => boolean) | undefined;

  constructor(opts: XenstoredOptions = {}) {
    this.#cpusBusy = opts.cpusBusy;
    this.#core = new XenstoreCore({
      quotas: resolveQuotas(opts.quotas),
      maxOutputBytes: opts.maxOutputBytes ?? 2 * 1024 * 1024,
      maxTotalOutputBytes: opts.maxTotalOutputBytes ?? 64 * 1024 * 1024,
      domainExists: opts.domainExists ?? (() => true),
      log: opts.log ?? (() => undefined),
      introduce: opts.introduce,
      dispatch: handleRequest,
      serveRing,
    });
  }

  /** A connection for a transport: the transport pushes received bytes in and gets reply bytes out through `send`. */
  connect(domid: number, send: SendBytes, opts: ConnectOptions = {}): XsConnection {
    return this.#core.connect(domid, send, opts.privileged ?? domid === 0, opts.onClose ?? (() => undefined));
  }

  /**
   * The toolstack introduces a domain (with its mapped ring page and event channel, if it has
   * one); fires @introduceDomain. Returns the domain's ring connection. Introducing a domain
   * twice changes nothing.
   */
  introduceDomain(domid: number, ring?: DomainRing): XsConnection | undefined {
    return this.#core.introduce(domid, ring);
  }

  /**
   * The domain is gone: its connections, watches and transactions go, the nodes it owns are
   * removed, and @releaseDomain fires. Throws ENOENT if it was not introduced.
   */
  releaseDomain(domid: number): void {
    this.#core.release(domid);
  }

  /**
   * Hold the domain's ring connection: its requests wait until the returned function is called
   * (a claimed shell is named after it has its kernel, and must not see itself unnamed). A
   * domain without a ring has nothing to hold: undefined.
   */
  holdDomain(domid: number): (() => void) | undefined {
    return this.#core.ring(domid)?.hold();
  }

  isIntroduced(domid: number): boolean {
    return this.#core.isIntroduced(domid);
  }

  /** Serve a Unix socket (mode 0600); every client of it is dom0, as in Xen. */
  async listen(socketPath: string): Promise<void> {
    const core = this.#core;
    const l = await UnixSocketListener.listen(socketPath, (send, onDrop) => core.connect(0, send, true, onDrop), core.log, this.#cpusBusy);
    this.#listeners.add(l);
  }

  /** Stop listening and drop every connection. */
  async close(): Promise<void> {
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    await Promise.all(listeners.map((l) => l.close()));
    for (const c of [...this.#core.connections]) c.drop(XENSTORE_ERROR_NONE, 'xenstored closing');
  }
}
