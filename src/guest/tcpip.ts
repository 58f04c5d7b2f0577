// os.tcpip: a TCP/IP stack (src/tcpip) on one of the guest's vifs, made on first use; its
// timers run on os.time. Configured from `ip` when given (xl's vif ip= form), else by DHCP.
import { clockFromTime } from '../tcpip/clock.js';
import type { StaticConfigInput } from '../tcpip/config.js';
import type { StackOptions, TcpipStack } from '../tcpip/stack.js';
import type { OpenNet } from './net.js';
import type { Time } from './time.js';

export interface TcpipOptions extends Omit<StackOptions, 'clock'> {
  /** The vif (its index in vif=), else the first. */
  devid?: number;
  /** A static address instead of DHCP. */
  ip?: StaticConfigInput;
  dhcpTimeoutMs?: number;
}

export type OpenTcpip = (opts?: TcpipOptions) => Promise<TcpipStack>;

export function tcpipStacks(openNet: OpenNet, time: Time): OpenTcpip {
  const stacks = new Map<number | undefined, Promise<TcpipStack>>();
  return (opts = {}) => {
    const cur = stacks.get(opts.devid);
    if (cur) return cur;
    const p = (async () => {
      const { devid, ip, dhcpTimeoutMs, ...stackOpts } = opts;
      // The stack loads on first use: a guest that never asks for it never parses it.
      const { createStack } = await import('../tcpip/stack.js');
      const stack = createStack(await openNet(devid), { ...stackOpts, clock: clockFromTime(time) });
      if (ip) stack.configure(ip);
      else await stack.dhcp(dhcpTimeoutMs);
      return stack;
    })();
    stacks.set(opts.devid, p);
    p.catch(() => stacks.delete(opts.devid));
    return p;
  };
}
