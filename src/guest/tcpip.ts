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

/** Reads a vif's static address as its config gave it; undefined when it gave none. */
export type VifAddress = (devid: number) => Promise<StaticConfigInput | undefined>;

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
  return async (devid) => {
    const be = await xs.readOptional(`/local/domain/${domid}/device/vif/${devid}/backend`);
    if (!be) return undefined;
    const [list, netmask, gateway] = await Promise.all(['ip', 'netmask', 'gateway'].map((k) => xs.readOptional(`${be}/${k}`)));
    const ip = list?.split(' ').find((a) => /^[0-9.]+(\/[0-9]+)?$/.test(a));
    if (!ip) return undefined;
    return { ip, ...(netmask && { netmask }), ...(gateway && { gateway }) };
  };
}

/** The stack's modules; loaded on first use, or ahead of it by a restored runtime while it waits for its state. */
export const loadStack = () => Promise.all([import('../tcpip/stack.js'), import('../tcpip/addr.js')]);

/** `track` learns of every stack made (the runtime announces their addresses after a resume). */
export function tcpipStacks(openNet: OpenNet, time: Time, readVifAddress?: VifAddress, track?: (s: Promise<TcpipStack>) => void): OpenTcpip {
  const stacks = new Map<number | undefined, Promise<TcpipStack>>();
  return (opts = {}) => {
    const cur = stacks.get(opts.devid);
    if (cur) return cur;
    const p = (async () => {
      const { devid, ip, dns, dhcpTimeoutMs, ...stackOpts } = opts;
      // The stack loads on first use: a guest that never asks for it never parses it.
      const [{ createStack }, { parseIpv4 }] = await loadStack();
      const servers = dns?.map(parseIpv4);
      const net = await openNet(devid);
      const stack = createStack(net, { ...stackOpts, clock: clockFromTime(time) });
      try {
        const address = ip ?? (await readVifAddress?.(net.devid));
        if (address) stack.configure(address);
        else await stack.dhcp(dhcpTimeoutMs);
        if (servers) stack.resolver.servers = servers;
      } catch (e) {
        stack.stop();
        throw e;
      }
      return stack;
    })();
    stacks.set(opts.devid, p);
    track?.(p);
    p.catch(() => stacks.delete(opts.devid));
    return p;
  };
}
