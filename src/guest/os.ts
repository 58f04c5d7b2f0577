// The `os` object a guest program's main(os) receives: what a Mirage unikernel gets from its
// platform (DESIGN.md §4).
import { Console } from 'node:console';
import type { ShutdownReason } from '../abi/xen.js';
import type { Block } from '../drivers/blk/front/block.js';
import type { BlkfrontOptions } from '../drivers/blk/front/blkfront.js';
import type { ConsoleFront } from '../drivers/console/front.js';
import type { EventChannels } from '../drivers/evtchn.js';
import type { Net } from '../drivers/net/front/net.js';
import type { NetfrontOptions } from '../drivers/net/front/netfront.js';
import type { Hypercalls } from '../hypervisor/hypercalls.js';
import type { IoPages } from './iopages.js';
import type { XenstoreClient } from '../xenstore/client/client.js';
import type { Lifecycle } from './lifecycle.js';
import type { TcpipStack } from '../tcpip/stack.js';
import type { TcpipOptions } from './tcpip.js';
import type { Time } from './time.js';

export interface GuestConsole {
  /** Write text or bytes to the PV console as they are. */
  write(data: string | Uint8Array): void;
  /** console.log to the PV console (the guest's global console does the same). */
  log(...args: unknown[]): void;
  /** Resolves once everything written is in the console ring. */
  flush(): Promise<void>;
  /** Bytes typed at `xenode console`. */
  onInput(handler: (data: Uint8Array) => void): () => void;
}

export interface OS {
  readonly domid: number;
  readonly name: string;
  readonly uuid: string;
  /** extra= / cmdline= of the configuration. */
  readonly cmdline: string;
  readonly console: GuestConsole;
  readonly xenstore: XenstoreClient;
  readonly time: Time;
  readonly lifecycle: Lifecycle;
  /** The hypercall surface, for guests that drive devices themselves (Mirage's OS.Xen). */
  readonly xen: Hypercalls;
  /** Event channels on this vCPU's upcall loop, for guests that run split drivers themselves. */
  readonly evtchn: EventChannels;
  /** A block device (blkfront), connected on first use: the disk named `vdev` (xvda, ...), else the first. */
  block(vdev?: string, opts?: BlkfrontOptions): Promise<Block>;
  /**
   * A network interface (netfront), connected on first use: vif `devid` (its index in vif=),
   * else the first. Mirage's NETWORK: mac, mtu, write, listen, stats, disconnect.
   */
  net(devid?: number, opts?: NetfrontOptions): Promise<Net>;
  /** A TCP/IP stack on a vif (the first unless `devid`), by DHCP unless `ip` is given; one per vif. */
  tcpip(opts?: TcpipOptions): Promise<TcpipStack>;
  /** I/O pages (Mirage's Io_page): buffers in the guest's RAM that block I/O uses without copying. */
  readonly io: IoPages;
  /**
   * After a restore or a migration: what the program's onSuspend handler returned (undefined
   * on a cold boot, or when it had no handler).
   */
  readonly resumed: unknown;
  /** SCHEDOP_shutdown after flushing the console; never resolves. */
  shutdown(reason: Extract<ShutdownReason, 'poweroff' | 'reboot' | 'crash'>): Promise<never>;
  /** Suspend as if dom0 had asked (onSuspend runs); resolves if the domain is resumed in place. */
  shutdown(reason: 'suspend'): Promise<void>;
}

/** A node Console whose output goes through the PV console. */
export function pvConsole(front: ConsoleFront): { console: Console; consoleApi: GuestConsole } {
  // A plain sink, not a Writable: the console writes in order without a stream's buffering, and
  // a realm's boot does not evaluate a streams library for it (28 modules of readable-stream,
  // a third of a shell's CPU). Without ignoreErrors, Console asks the sink for write() alone.
  const sink = { write: (chunk: string) => front.write(chunk) };
  const c = new Console({ stdout: sink as unknown as NodeJS.WritableStream, stderr: sink as unknown as NodeJS.WritableStream, ignoreErrors: false });
  return {
    console: c,
    consoleApi: {
      write: (data) => front.write(data),
      log: (...args) => c.log(...args),
      flush: () => front.flush(),
      onInput: (h) => front.onInput(h),
    },
  };
}
