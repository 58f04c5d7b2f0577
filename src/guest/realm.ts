// The library OS of one domain on a shared pCPU, in the domain's own realm (a node:vm context
// with its own globals): the pCPU thread (pcpu.ts) evaluates this image once per realm and
// calls boot(). From there the boot is a PV kernel's as on a thread of its own (start.ts); what
// differs is that the realm waits for nothing itself: the pCPU runs its timers, control-plane
// replies and event upcalls in the domain's turns (the functions boot returns).
import { fireTimer, host, onUncaught, runImmediates, setOwnTimer } from './realm/globals.js';
import { Buffer } from 'node:buffer';
import { GrantError } from '../abi/grant_table.js';
import { XenError, type XenErrnoName } from '../errors.js';
import type { ControlChannel } from '../hypervisor/control.js';
import { retryTimerThrough, unblockThrough } from '../hypervisor/evtchn.js';
import { onKilledAtGate } from '../hypervisor/gate.js';
import { Hypercalls, vcpuTimerThrough } from '../hypervisor/hypercalls.js';
import { setLockOwner } from '../hypervisor/lock.js';
import type { DomainBuffers } from '../hypervisor/memory.js';
import { bare } from './bare.js';
import { ringIoThrough } from '../drivers/blk/front/ring-io.js';
import * as xenode from './library.js';
import { blkPushThrough, sendHereThrough } from './realm/host.js';
import { RealmUnsupported } from './realm/refused.js';
import { startGuest, type Claim, type Identity } from './start.js';

/** A kernel image built for realms (kernel.ts): a CommonJS module body. */
export type RealmKernel = (exports: object, require: (id: string) => unknown, module: { exports: object }) => void;

/** What the pCPU calls in the domain's turns; each returns once the work is handed to the realm. */
export interface RealmTurns {
  timer(id: number): void;
  /** A control-plane reply: the value, or an error as control.ts encodes it. */
  reply(id: number, ok: boolean, value: unknown, kind?: string, code?: number | string, message?: string): void;
  immediates(): void;
  /** Run the handlers of pending events; false if none were pending. */
  upcall(): boolean;
  /** A driver awaits an event soon (requests in flight): the pCPU may poll its doorbell. */
  expecting(): boolean;
  /** A rejection of one of the realm's promises that nothing handled: the domain crashes. */
  uncaught(reason: unknown): void;
  /**
   * A shell's claim: the kernel it runs and the name and uuid the toolstack wrote for it (strings,
   * which cross into the realm as they are: no object of the pCPU's to rebuild there).
   */
  claim(kernel: RealmKernel, name: string, uuid: string): void;
  /**
   * Its kernel's code (its top level, then main) may run: at once for a domain placed running, at
   * its first turn after its unpause for one placed paused (xl create -p), as a paused vCPU runs
   * nothing. Its library OS boots meanwhile.
   */
  unpaused(): void;
}

/** The few parts of Node's modules a kernel in a realm gets: realm copies, or pure functions of the host's. */
const REALM_BUILTINS: Record<string, object> = {
  buffer: { Buffer },
  zlib: { crc32: (data: Uint8Array | string, value = 0) => host.crc32(typeof data === 'string' ? Buffer.from(data) : data, value) },
};
Object.defineProperty(globalThis, 'Buffer', { value: Buffer, writable: true, configurable: true });

class DomainKilled extends Error {
  override name = 'DomainKilled';
}

/** Boot the domain's library OS; a shell (no kernel, no identity) parks until its claim. */
export function boot(buffers: DomainBuffers, kernel: RealmKernel | null, identity: Identity | null): RealmTurns {
  // Blocking at the gate would block the pool mates: end the turn instead (gate.ts).
  onKilledAtGate(() => {
    throw new DomainKilled('the domain is being destroyed');
  });
  // The locks its hypercalls take are held by the pCPU thread: a waiter judges that thread's death.
  setLockOwner(host.threadId());
  // Its wakes of sleeping vCPU threads (dom0's backends) are batched by the pCPU per pass (wakes.ts).
  unblockThrough((words, index) => host.wake(words, index));
  // Its own copy of the event path (its unmasks, and the sends the pCPU's copy could not do once
  // the realm connected their target: hypercalls.ts deliverConnected) runs on the pCPU thread too,
  // and defers an event whose FIFO queue lock another thread holds, as every copy does (evtchn.ts):
  // it is linked from a timer of the realm's once the lock is free. Those end with the domain, so
  // sends are the pCPU's wherever it has the target's view. They arm a timer of its library OS's
  // own, outside the domain's timer bound (globals.ts).
  retryTimerThrough((fn, ms) => setOwnTimer('evtchn-retry', fn, ms) as unknown as NodeJS.Timeout);
  // set_timer_op's timer is the vCPU's, outside the domain's timer bound (globals.ts).
  vcpuTimerThrough((fn, ms) => setOwnTimer('vcpu', fn, ms) as unknown as NodeJS.Timeout);
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let next = 1;
  const channel: ControlChannel = {
    call(op, ...args) {
      const id = next++;
      return new Promise((resolve, reject) => {
        // A halted (crashed) domain's realm runs out its last turn, which may loop: a call that
        // reaches nothing is refused and not kept, as nothing would ever answer it.
        if (!host.control(id, op, ...(args as (number | string)[]))) {
          reject(XenError.quiet('ESRCH', `d${buffers.domid} has halted: its ${op} reaches nothing`));
          return;
        }
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      });
    },
  };
  // Its sends run in the pCPU's one copy of the hypercall, for all the pool's domains, which
  // alone holds its peers' buffers: the realm's guest can wrap the intrinsics this copy runs on.
  const hc = new Hypercalls(buffers, channel, {
    sendHere: sendHereThrough(host.evtchnSend, buffers.domid),
    peersElsewhere: (domid) => host.connected(domid),
  });
  // Its blkfront's ring work runs in the pCPU thread's one copy, warm for all the pool's domains (ring-io.ts).
  ringIoThrough({ push: blkPushThrough(host.blkPush, buffers.domid, (port) => hc.evtchnSendOwn(port)), poll: host.blkPoll });
  const requireOf = (id: string): unknown => {
    const builtin = REALM_BUILTINS[id.replace(/^node:/, '')];
    if (id === 'xenode') return xenode;
    if (builtin) return builtin;
    throw new RealmUnsupported(`Node's ${id}`);
  };
  let crash: (e: unknown) => void = () => {};
  let unpaused!: () => void;
  const running = new Promise<void>((resolve) => (unpaused = resolve));
  const load = async (k: RealmKernel) => {
    // Its top level runs after the pCPU reported the realm placed (or claimed), and let its kernel
    // run (unpaused), in a turn the watchdog watches.
    await running;
    const module = { exports: {} };
    k(module.exports, requireOf, module);
    return module.exports as { default?: unknown };
  };
  let claimed: (c: Claim) => void = () => {};
  // With no prototype (bare.ts): a getter its guest put on Object.prototype is never handed it.
  const loop = startGuest(bare({
    hc,
    loop: { pausable: false, driven: true },
    ...(identity && { identity }),
    loadKernel: () => (kernel ? load(kernel) : null),
    park: () => new Promise<Claim>((resolve) => {
      claimed = resolve;
      host.parked();
    }),
    mainCalled: () => host.mainCalled(),
    onUncaught: (fn) => {
      crash = fn;
      onUncaught(fn);
    },
    deschedule: () => {
      host.halt();
      return new Promise<never>(() => {});
    },
  }));
  const guard = <A extends unknown[], R>(fn: (...a: A) => R, none: R) => (...a: A): R => {
    try {
      return fn(...a);
    } catch (e) {
      crash(e);
      return none;
    }
  };
  return {
    timer: guard(fireTimer, undefined),
    reply: guard((id: number, ok: boolean, value: unknown, kind?: string, code?: number | string, message?: string) => {
      const p = pending.get(id);
      if (!p) return;
      pending.delete(id);
      if (ok) p.resolve(value);
      else if (kind === 'grant') p.reject(new GrantError(Number(code), String(message)));
      else p.reject(new XenError(String(code) as XenErrnoName, String(message)));
    }, undefined),
    immediates: guard(runImmediates, undefined),
    upcall: guard(() => loop.runPending(), false),
    expecting: guard(() => loop.expecting === true, false),
    uncaught: (reason: unknown) => crash(reason),
    claim: guard((k: RealmKernel, name: string, uuid: string) => claimed(bare({ name, uuid, load: () => load(k) })), undefined),
    unpaused: () => unpaused(),
  };
}
