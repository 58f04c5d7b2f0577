// A machine for netback tests on the test's own thread: a hypervisor (dom0 and guests as local
// domains), an in-process xenstored, dom0's NetbackDaemon plugged into a recording hub that
// stands in for the virtual switch, vifs created the way libxl creates them, and a frontend
// written by hand (bench/support/net-rawfront.ts) that puts on the rings what a test means to.
import type { TestContext } from 'node:test';
import type { NetFrameInfo } from '../../src/abi/netif.js';
import { NetbackDaemon } from '../../src/drivers/net/back/devd.js';
import type { NetBack, NetbackOptions } from '../../src/drivers/net/back/netback.js';
import type { PortDevice, PortOptions, SwitchPort, VirtualSwitch } from '../../src/network/port.js';
import { DriverRig, type GuestSide } from './driver-rig.js';
import { within } from './hypervisor.js';

export { within } from './hypervisor.js';
import { createVif } from '../../bench/support/net-rawfront.js';
export { RawNetFront, frameOf, type RawNetFrontOptions, type TxSlot } from '../../bench/support/net-rawfront.js';

/** A frame as it went into the hub. */
export interface HubFrame {
  readonly from: string;
  readonly frame: Uint8Array;
  readonly info: NetFrameInfo;
}

/**
 * Stands in for dom0's virtual switch: every port hears every other port's frames (no
 * learning, no MAC checks: those are the switch's), and everything that went in is recorded.
 */
export class Hub implements VirtualSwitch {
  readonly frames: HubFrame[] = [];
  readonly ports = new Map<string, { device: PortDevice; opts: PortOptions }>();
  #waiters: (() => void)[] = [];

  plug(device: PortDevice, opts: PortOptions): SwitchPort {
    this.ports.set(device.name, { device, opts });
    const hub = this;
    let plugged = true;
    return {
      name: device.name,
      input(frame, info, tail) {
        // The hub records every byte: a frame's tail comes out of the sender's grants first.
        if (!plugged || (tail && !tail.fill())) return;
        hub.frames.push({ from: device.name, frame: frame.slice(), info });
        for (const [name, p] of hub.ports) if (name !== device.name) p.device.deliver(frame, info);
        for (const w of hub.#waiters.splice(0)) w();
      },
      unplug() {
        plugged = false;
        if (hub.ports.get(device.name)?.device === device) hub.ports.delete(device.name);
      },
      // The hub enforces nothing: it records the locking a backend gave the port.
      setLocking(locking) {
        if (hub.ports.get(device.name)?.device !== device) return;
        const { locking: _, ...rest } = opts;
        hub.ports.set(device.name, { device, opts: locking ? { ...rest, locking } : rest });
      },
    };
  }

  /** Resolves once `n` frames in all have gone in. */
  async until(n: number): Promise<HubFrame[]> {
    while (this.frames.length < n) await within(new Promise<void>((r) => this.#waiters.push(r)), `${n} frames into the hub`);
    return this.frames;
  }

  /** A frame from a device of the test's own (dom0's side of the bridge). */
  inject(frame: Uint8Array, info: NetFrameInfo): boolean[] {
    return [...this.ports.values()].map((p) => p.device.deliver(frame, info));
  }
}

export type { GuestSide } from './driver-rig.js';

export class NetRig extends DriverRig {
  #daemon: Promise<NetbackDaemon> | null = null;

  /** `sw`: the switch vifs are plugged into (the recording hub unless a test gives dom0's real one). */
  constructor(readonly opts: NetbackOptions = {}, readonly sw: VirtualSwitch = new Hub()) {
    super();
  }

  /** The recording hub (the default switch). */
  get hub(): Hub {
    if (!(this.sw instanceof Hub)) throw new Error('this rig runs a real switch');
    return this.sw;
  }

  daemon(): Promise<NetbackDaemon> {
    this.#daemon ??= NetbackDaemon.start(this.dom0, 0, { switch: this.sw, netback: this.opts });
    return this.#daemon;
  }

  /** Create the vif's nodes as libxl does and wait for dom0's netback to take it (hotplug-status). */
  async vif(g: GuestSide, devid = 0, backend: Record<string, string> = {}): Promise<NetBack> {
    const daemon = await this.daemon();
    await createVif(this.xs0, g.domid, devid, backend);
    return daemon.device(g.domid, devid)!;
  }

  override async close(): Promise<void> {
    const d = await this.#daemon?.catch(() => undefined);
    await d?.stop();
    await super.close();
  }
}

export function netRig(t: TestContext, opts: NetbackOptions = {}, sw?: VirtualSwitch): NetRig {
  const rig = new NetRig(opts, sw);
  t.after(() => rig.close());
  return rig;
}

