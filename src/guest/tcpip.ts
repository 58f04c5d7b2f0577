// os.tcpip: a TCP/IP stack (src/tcpip) on one of the guest's vifs, made on first use; its
// timers run on os.time. Configured from `ip` when the program gives it, else from the vif's
// ip= as the toolstack wrote it to xenstore, else by DHCP.
import { clockFromTime } from '../tcpip/clock.js';
import type { StaticConfigInput } from '../tcpip/config.js';
import type { StackOptions, TcpipStack } from '../tcpip/stack.js';
import type { OpenNet } from './net.js';
import type { Time } from './time.js';

export interface TcpipOptions extends Omit<StackOptions, 'clock'> {
  /** The vif (its index in vif=), else the first. */
  devid?: number;
  /** A static address instead of the vif's ip= or DHCP. */
  ip?: StaticConfigInput;
  /** DNS servers to ask instead of those the lease or `ip` gives. */
  dns?: readonly string[];
  dhcpTimeoutMs?: number;
}

export type OpenTcpip = (opts?: TcpipOptions) => Promise<TcpipStack>;

/**
 * Reads a vif's static address as its config gave it; undefined when it gave none. `backend`:
 * the vif's backend directory, when its netfront knows it already (no read of it first).
 */
export type VifAddress = (devid: number, backend?: string) => Promise<StaticConfigInput | undefined>;

/** A VifAddress whose answer for a vif can be read ahead of the ask (`ahead`); the next ask takes it. */
export interface VifAddressAhead extends VifAddress {
  ahead(devid: number, backend?: string): void;
}

/** `read`, with reads ahead: a claimed shell's vifs are read at the claim, while its kernel links. */
export function readAhead(read: VifAddress): VifAddressAhead {
  const fetched = new Map<number, ReturnType<VifAddress>>();
  return Object.assign((devid: number, backend?: string) => {
    const p = fetched.get(devid);
    fetched.delete(devid);
    return p ?? read(devid, backend);
  }, {
    ahead(devid: number, backend?: string) {
      const p = read(devid, backend);
      p.catch(() => {}); // the ask sees it
      fetched.set(devid, p);
    },
  });
}

/** What vifAddress needs of a xenstore connection. */
interface XsReader {
  readOptional(path: string): Promise<string | undefined>;
}

/**
 * The vif's ip= from xenstore: libxl writes it (a space-separated list, each address with an
 * optional /prefix) to the backend's `ip` node, which the frontend may read; the first IPv4
 * address is ours. `netmask` and `gateway` beside it are xenode's (libxl has no such vif keys;
 * the /prefix form is the portable way to give a netmask).
 */
export function vifAddress(xs: XsReader, domid: number): VifAddress {
  return async (devid, backend) => {
    const be = backend ?? await xs.readOptional(`/local/domain/${domid}/device/vif/${devid}/backend`);
    if (!be) return undefined;
    const [list, netmask, gateway] = await Promise.all(['ip', 'netmask', 'gateway'].map((k) => xs.readOptional(`${be}/${k}`)));
    const ip = list?.split(' ').find((a) => /^[0-9.]+(\/[0-9]+)?$/.test(a));
    if (!ip) return undefined;
    return { ip, ...(netmask && { netmask }), ...(gateway && { gateway }) };
  };
}

/** The stack's modules; loaded on first use, or ahead of it by a restored runtime while it waits for its state. */
export const loadStack = () => Promise.all([import('../tcpip/stack.js'), import('../tcpip/addr.js')]);

/** A stack's state in a suspend record: the key the program opened it with, and its snapshot (checked when it is used). */
export interface SavedStack {
  readonly devid: number | undefined;
  readonly state: unknown;
  /** Opened with no option but the devid: restored at the resume, before the program asks. */
  readonly defaults?: boolean;
}

/**
 * The guest's stacks, one per vif: made on first use (os.tcpip), frozen and handed over by a
 * suspend. After a restore or migration the program's first os.tcpip() for a vif gets a stack
 * that carries on from the saved one (the same address without asking DHCP again, its ARP
 * cache, listening ports and connections: see TcpipStack.restore and docs/ARCHITECTURE.md);
 * a saved state that does not check out is dropped and the stack configures afresh. A stack the
 * program opened with the defaults is restored at the resume itself (resumeSaved), so that its
 * peers hear from it at once; os.tcpip() then hands it out.
 */
export class GuestStacks {
  readonly #stacks = new Map<number | undefined, Promise<TcpipStack>>();
  /** The stacks configured so far (one still waiting for DHCP is not carried: it asks again after the resume). */
  readonly #ready = new Map<number | undefined, TcpipStack>();
  readonly #saved: Map<number | undefined, unknown>;
  /** Keys of saved stacks opened with the defaults. */
  readonly #eager: (number | undefined)[];
  /** Keys of stacks the program opened with the defaults. */
  readonly #plain = new Set<number | undefined>();

  constructor(
    private readonly openNet: OpenNet,
    private readonly time: Time,
    private readonly readVifAddress?: VifAddress,
    saved: readonly SavedStack[] = [],
    private readonly log: (line: string) => void = () => {},
  ) {
    this.#saved = new Map(saved.map((s) => [s.devid, s.state]));
    this.#eager = saved.filter((s) => s.defaults === true).map((s) => s.devid);
  }

  /** Restore the saved stacks opened with the defaults; resolves once each has settled. */
  async resumeSaved(): Promise<void> {
    await Promise.allSettled(this.#eager.splice(0).map((devid) => this.open(devid === undefined ? {} : { devid })));
  }

  readonly open: OpenTcpip = (opts = {}) => {
    const cur = this.#stacks.get(opts.devid);
    if (cur) return cur;
    if (Object.keys(opts).every((k) => k === 'devid')) this.#plain.add(opts.devid);
    const saved = this.#saved.get(opts.devid);
    this.#saved.delete(opts.devid);
    const p = (async () => {
      const { devid, ip, dns, dhcpTimeoutMs, ...stackOpts } = opts;
      // The stack loads on first use: a guest that never asks for it never parses it.
      const [{ createStack }, { parseIpv4 }] = await loadStack();
      const servers = dns?.map(parseIpv4);
      const net = await this.openNet(devid);
      const stack = createStack(net, { ...stackOpts, clock: clockFromTime(this.time) });
      try {
        let restored = false;
        if (saved !== undefined) {
          try {
            stack.restore(saved);
            restored = true;
          } catch (e) {
            this.log(`the TCP/IP state of vif ${net.devid} is not carried over: ${(e as Error).message}`);
          }
        }
        if (ip) stack.configure(ip);
        else if (!restored) {
          const address = await this.readVifAddress?.(net.devid);
          if (address) stack.configure(address);
          else await stack.dhcp(dhcpTimeoutMs);
        }
        if (servers) stack.resolver.servers = servers;
      } catch (e) {
        stack.stop();
        throw e;
      }
      return stack;
    })();
    this.#stacks.set(opts.devid, p);
    p.then((s) => this.#ready.set(opts.devid, s), () => {
      this.#stacks.delete(opts.devid);
      this.#plain.delete(opts.devid);
    });
    return p;
  };

  /** A suspend: every stack stops taking frames and hands over its state. */
  freeze(): SavedStack[] {
    return [...this.#ready].map(([devid, s]) => ({ devid, state: s.freeze(), ...(this.#plain.has(devid) && { defaults: true }) }));
  }

  /** The suspend is over here (resumed in place, or refused): take frames again; `announce` with a gratuitous ARP. */
  thaw(announce: boolean): void {
    for (const s of this.#ready.values()) {
      s.thaw();
      if (announce) s.announce();
    }
  }
}
