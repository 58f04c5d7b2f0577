// One address the gateway answers as: a TCP/IP stack (src/tcpip) over the gateway's port. The
// gateway's own address and its DNS relay's are personas on the subnet; every outside address
// a guest connects to gets one too (its netmask /0, so the guest is on its link), which is how
// one user-space stack terminates connections to any address, as gvisor-tap-vsock's
// promiscuous netstack does.
import { NET_FRAME_PLAIN, type NetFrameInfo } from '../../abi/netif.js';
import { writeIpv4, type Ipv4 } from '../../tcpip/addr.js';
import { createStack, DeadlineClock, type Clock, type TcpipStack, type TcpServer, type TcpSocket } from '../../tcpip/index.js';
import type { GatewayNet, GatewayPort } from './port.js';

const ARP_FRAME = 42;

/**
 * dom0's clock for the gateway's stacks: one host timer at a time for all of them (see
 * DeadlineClock), which never keeps the host process alive.
 */
export const unrefClock: Clock = new DeadlineClock(() => performance.now(), (ms, fn) => {
  const t = setTimeout(fn, ms).unref();
  return { cancel: () => clearTimeout(t) };
}, 1);

export class Persona {
  readonly stack: TcpipStack;
  readonly net: GatewayNet;
  readonly #listeners = new Map<number, TcpServer>();
  readonly #mac: Uint8Array;
  /** NAT flows that use this persona (it goes when none are left). */
  flows = 0;

  constructor(port: GatewayPort, readonly address: Ipv4, netmask: Ipv4, clock: Clock,
    private readonly onConnection: (p: Persona, s: TcpSocket) => void) {
    this.net = port.net();
    // Many connections may open towards one guest while its MAC is being resolved.
    this.stack = createStack(this.net, { clock, arp: { maxQueuedBytesPerAddress: 1024 * 1024 } });
    this.stack.configure({ address, netmask, gateway: undefined, dns: [] });
    this.#mac = this.stack.eth.mac;
  }

  /** Accept connections to `port` (the NAT admits only the SYNs it has a host socket for). */
  listen(port: number): void {
    if (!this.#listeners.has(port)) {
      this.#listeners.set(port, this.stack.tcp.listen(port, (s) => this.onConnection(this, s), { backlog: 1024 }));
    }
  }

  /** Learn where `ip` is from a frame it sent us, as if it had answered our ARP request. */
  learn(ip: Ipv4, mac: Uint8Array): void {
    const f = new Uint8Array(ARP_FRAME);
    f.set(this.#mac, 0);
    f.set(mac, 6);
    f[12] = 0x08; f[13] = 0x06;
    f[15] = 1; f[16] = 0x08; f[18] = 6; f[19] = 4; f[21] = 2;
    f.set(mac, 22);
    writeIpv4(f, 28, ip);
    f.set(this.#mac, 32);
    writeIpv4(f, 38, this.address);
    this.net.feed(f, NET_FRAME_PLAIN);
  }

  feed(frame: Uint8Array, info: NetFrameInfo): void {
    this.net.feed(frame, info);
  }

  stop(): void {
    for (const l of this.#listeners.values()) l.close();
    this.#listeners.clear();
    this.stack.stop();
  }
}
