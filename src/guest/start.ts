// What a PV kernel's early boot does, wherever its vCPU runs (a thread of its own, bootstrap.ts,
// or a realm on a shared pCPU, realm.ts): read start_info, bring up the console and xenstore,
// then call the guest program's main(os). A shell (a vCPU started without a kernel) parks once
// its platform is up, until the toolstack hands it its kernel.
import { VIRQ_TIMER } from '../abi/event_channel.js';
import {
  MAX_GUEST_CMDLINE, PAGE_SIZE, SI_CMD_LINE, SI_CONSOLE_EVTCHN, SI_CONSOLE_MFN, SI_STORE_EVTCHN,
  SI_STORE_MFN,
  type ShutdownReason,
} from '../abi/xen.js';
import { resumeFrom, type SuspendRecord } from '../abi/suspend.js';
import { ConsoleFront } from '../drivers/console/front.js';
import { eventChannels } from '../drivers/evtchn.js';
import type { Hypercalls } from '../hypervisor/hypercalls.js';
import { CB_MAIN_CALLED, CB_RAM_HWM, PFN_START_INFO, firstRamPfn } from '../hypervisor/layout.js';
import type { DomainView } from '../hypervisor/memory.js';
import { wallMs } from '../hypervisor/monotonic.js';
import { BoundPort } from '../hypervisor/port.js';
import { UpcallLoop } from '../hypervisor/upcall.js';
import type { RuntimeMarks, RuntimeMarksKind } from '../hypervisor/hypervisor.js';
import type { BootMarks, ParkReport } from '../hypervisor/vcpu.js';
import { XenstoreClient } from '../xenstore/client/client.js';
import { XenstoreRingClient } from '../xenstore/client/ring.js';
import { blockDevices } from './block.js';
import { ioPages } from './iopages.js';
import { GuestLifecycle } from './lifecycle.js';
import type { NetFront } from '../drivers/net/front/netfront.js';
import {
  connectHeld, holdVifs, netDevices, preconnectVifs, preloadNetfront, reconnectVifs, unconnectedWithin, vifIds, type EarlyVifs, type OpenNet,
} from './net.js';
import { NETFRONT_CONNECT_FRAMES } from '../drivers/net/protocol.js';
import { bare, own } from './bare.js';
import { pvConsole, type OS } from './os.js';
import { GuestStacks, loadStack, readAhead, vifAddress } from './tcpip.js';
import { Suspender, resumeRecord } from './suspend.js';
import { warmStackResume, warmUpStack } from './warmup.js';
import { clockFromTime } from '../tcpip/clock.js';
import { GuestTime } from './time.js';

interface StartInfo {
  storePfn: number;
  storePort: number;
  consolePfn: number;
  consolePort: number;
}

function readStartInfo(view: DomainView): StartInfo {
  const si = new DataView(view.buffers.memory, PFN_START_INFO * PAGE_SIZE, PAGE_SIZE);
  return {
    storePfn: Number(si.getBigUint64(SI_STORE_MFN, true)),
    storePort: si.getUint32(SI_STORE_EVTCHN, true),
    consolePfn: Number(si.getBigUint64(SI_CONSOLE_MFN, true)),
    consolePort: si.getUint32(SI_CONSOLE_EVTCHN, true),
  };
}

/** The command line in start_info: read when the kernel is known (a shell's is written when it is claimed). */
function readCmdline(view: DomainView): string {
  const field = new Uint8Array(view.buffers.memory, PFN_START_INFO * PAGE_SIZE + SI_CMD_LINE, MAX_GUEST_CMDLINE);
  const nul = field.indexOf(0);
  // Most guests have none: no copy and no decoder (a realm's decodes through its pCPU thread).
  // A decoder refuses shared memory: the bytes are copied out first.
  return nul === 0 ? '' : new TextDecoder().decode(field.slice(0, nul < 0 ? MAX_GUEST_CMDLINE : nul));
}

/** A restored domain's suspend record (abi/suspend.ts), from start_info; read once the kernel is known. */
function readResume(view: DomainView): { pfn: number; bytes: number } | undefined {
  return resumeFrom(new DataView(view.buffers.memory, PFN_START_INFO * PAGE_SIZE, PAGE_SIZE));
}

/** RAM frames not populated yet: what a parked runtime may take without touching a restore's. */
function ramRoom(view: DomainView): number {
  return firstRamPfn(view.geometry) + view.geometry.ramFrames - Atomics.load(view.ctl, CB_RAM_HWM);
}

/**
 * How long a parked restore waits for its vifs to connect; it then parks and reports those that
 * did not (ParkReport.unconnectedVifs), which the toolstack refuses: the source keeps the guest.
 */
const PRECONNECT_MS = 10_000;

type KernelModule = { default?: unknown };

/** What names a domain, as the toolstack wrote it to xenstore. */
export interface Identity {
  readonly name: string;
  readonly uuid: string;
}

/** A shell's claim: its kernel, and the name and uuid the toolstack wrote for it. */
export interface Claim extends Identity {
  load(): Promise<KernelModule>;
  /** The devids of its vifs, where the toolstack said (KernelMessage.vifs): no vif list is read for them. */
  readonly vifs?: readonly number[];
  /**
   * The vCPU takes the priority its domain's weight gives it (a shell parks at the host's, so
   * that its claim wakes it at once; a thread cannot take it back once lowered). Absent where
   * the platform has none of its own (a realm on a shared pCPU).
   */
  ownPriority?(): void;
}

/** Where the vCPU runs, as the early boot needs to know it. */
export interface GuestPlatform {
  readonly hc: Hypercalls;
  /** How the upcall loop waits (its error handler is the boot's). */
  readonly loop: Omit<ConstructorParameters<typeof UpcallLoop>[1], 'onError'>;
  /** The kernel image's module (its default export is main(os)); null for a shell. */
  loadKernel(): Promise<KernelModule> | null;
  /**
   * The name and uuid the toolstack wrote to xenstore before the vCPU started, handed with the
   * boot (as a shell's claim hands them), so that the boot needs no xenstore round trip for them.
   */
  readonly identity?: Identity;
  /**
   * The boot's marks' clock (performance.timeOrigin + now(), as BootMarks are compared across
   * threads), where the platform reads it without `performance` (a vCPU thread of its own: its
   * first use loads perf_hooks, which nothing before main() needs otherwise).
   */
  readonly wallNow?: () => number;
  /** A shell's platform is up: wait until the toolstack claims it (`report`: what it could not do while parked). */
  park?(report?: ParkReport): Promise<Claim>;
  /**
   * A vCPU booted with its kernel has its platform up (console, xenstore, the timer) and runs the
   * program's code next, as a claimed shell's ownPriority says.
   */
  platformUp?(): void;
  /**
   * A parked shell loads netfront and the TCP/IP stack while it waits: a Pool-0 shell's thread
   * (a few of them); not a shared pool's realm (thousands park there, most never use a vif).
   */
  readonly preloadWhileParked?: boolean;
  /** main(os) is about to be called. */
  mainCalled(marks: BootMarks): void;
  /** Where a suspend's or a resume's time went (the host keeps the last of each: VcpuHandle.marks). */
  report?(kind: RuntimeMarksKind, marks: RuntimeMarks): void;
  /** A crash's stack trace with the kernel's frames named by its sources, where Node does not map them. */
  mapStack?(text: string): string;
  /** Route the platform's uncaught errors of this guest to `crash`. */
  onUncaught(crash: (err: unknown) => void): void;
  /** A vCPU that has shut down is never scheduled again. */
  deschedule(): Promise<never>;
}

/** Boot the guest; returns its upcall loop (a driven loop's turn runs it) once the boot started. */
export function startGuest(p: GuestPlatform): UpcallLoop {
  // Its optional hooks, read now, before any guest code runs, and only from the platform itself:
  // read later, a hook it lacks would be looked up on Object.prototype, where a realm's guest
  // could have put a getter that is handed the platform (bare.ts). Called as plain functions.
  const now = own(p, 'wallNow') ?? wallMs;
  const report = own(p, 'report');
  const mapStack = own(p, 'mapStack');
  const park = own(p, 'park');
  const platformUp = own(p, 'platformUp');
  const identity = own(p, 'identity');
  const preloadWhileParked = own(p, 'preloadWhileParked') === true;
  const marks: BootMarks = { booted: now() };
  const { hc } = p;
  const view = hc.memory;
  const si = readStartInfo(view);
  let down = false;
  let label = `d${view.domid}`;

  const loop = new UpcallLoop(view, { ...p.loop, onError: (e) => void crash(e) });
  const front = new ConsoleFront(view.frame(si.consolePfn), new BoundPort(hc, loop, si.consolePort));
  const pv = pvConsole(front);
  Object.defineProperty(globalThis, 'console', { value: pv.console, writable: true, configurable: true });

  async function shutdown(reason: ShutdownReason): Promise<never> {
    if (!down) {
      down = true;
      // The console daemon drains the ring before the domain goes; make sure it is all there.
      // Output larger than the ring moves only as the daemon's events come in, so the upcall
      // loop stops after the flush, not before. Given up only once the daemon takes nothing for
      // 1 s: a whole-flush bound of 1 s lost output under load (268 of 500 lines reached it).
      await front.flush(1000);
      loop.stop();
      await hc.shutdown(reason).catch(() => {});
    }
    return p.deschedule();
  }

  async function crash(err: unknown): Promise<void> {
    if (down) return;
    const stack = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : `uncaught value: ${String(err)}`;
    const text = mapStack ? mapStack(stack) : stack;
    front.write(`\n[${label}] guest crashed: ${text}\n`);
    await shutdown('crash');
  }
  p.onUncaught((e) => void crash(e));

  const run = async (): Promise<void> => {
    try {
      // Link the kernel while the platform comes up: nothing below depends on it (a script booted
      // with its vCPU is compiled; its top level waits for platformUp).
      let kernelLoaded = p.loadKernel() ?? undefined;
      kernelLoaded?.catch(() => {});
      // Runs until the first event wait; blocks right here while the domain is still paused.
      loop.start();
      const time = new GuestTime(hc);
      const timerBound = hc.evtchnBindVirq(VIRQ_TIMER).then((port) => loop.on(port, () => time.onTimer()));

      const xs = new XenstoreClient(new XenstoreRingClient({ page: view.frame(si.storePfn), evtchn: new BoundPort(hc, loop, si.storePort) }));
      // A suspend asked for before the runtime is up is carried out once it is.
      let suspender: Suspender | undefined;
      let suspendAsked = false;
      const lifecycle = new GuestLifecycle(xs, (r) => void shutdown(r), () => (suspender ? void suspender.suspend() : (suspendAsked = true)));
      // The watch fires once when set, so a request made before it is in place is not lost.
      lifecycle.start().catch((e: unknown) => void crash(e));
      const evtchn = eventChannels(hc, loop);
      const ctx = { hc, evtchn, xs };
      /** An incoming migration's vifs, their handshakes as far as they go before the resume. */
      let held: NetFront[] = [];
      /** Every vif's devid (held or not), known before the resume. */
      let vifs: readonly number[] | undefined;
      /** A restore's RAM high-water mark, before this runtime took frames of its own. */
      let ramHwm: number | undefined;
      /** A shell's claim, whose kernel loads once what a resume must do first has started. */
      let claim: Claim | undefined;
      /** Its optional members, read as it comes (before its kernel's code runs). */
      let claimVifs: Claim['vifs'];
      let ownPriority: Claim['ownPriority'];
      let name: string;
      let uuid: string;
      let early: EarlyVifs | undefined;
      const log = (line: string) => front.write(`[${label}] ${line}\n`);
      /** The vifs' opener (made after the claim: it reads a shell's MACs); the stacks refer to it. */
      let net: OpenNet;
      /**
       * What the program's OS is made of that its claim does not change (a restore's record
       * does): a parked shell makes it before its claim, since V8 compiles each part's
       * code the first time it runs (0.4-0.5 ms of a claim on this VM otherwise).
       */
      const runtime = (record: SuspendRecord | undefined) => {
        const io = ioPages(hc, record?.io);
        // netfront's devices are made below (the suspender tracks them); the stacks open them later.
        const addresses = readAhead(vifAddress(xs, view.domid));
        const stacks = new GuestStacks((devid) => net(devid), time, addresses, record?.tcpip, log);
        const sus = new Suspender(bare({
          hc, handler: () => lifecycle.suspendHandler, resumeHandler: () => lifecycle.resumeHandler, ioRanges: () => io.ranges(), flushConsole: () => front.flush(), log, stacks,
          report: (m) => report?.('suspend', m),
        }));
        return { io, addresses, stacks, sus, block: blockDevices(ctx, view.domid, (f) => sus.trackDevice(f)) };
      };
      let ahead: ReturnType<typeof runtime> | undefined;
      /** What the park tells the toolstack. */
      let parkReport: ParkReport | undefined;
      if (kernelLoaded === undefined) {
        // A shell: the platform is up; what makes it a guest (name, command line, kernel) comes
        // when the toolstack claims it.
        await timerBound;
        if (!park) throw new Error('no kernel, and this platform has no shells');
        // What a guest's first act is likely to need (a summoned web server's: its vif), a
        // parked shell loads while it waits; a restored domain parked for its state (an incoming
        // migration) does so because its resume will, and before it parks, with its vifs'
        // handshakes as far as they go without RAM (all the way where the toolstack kept frames
        // for them) and the stack's resume path run once on scratch: it is paused then, its
        // thread stopped, so what is left running would finish in the downtime.
        const restored = readResume(view) !== undefined;
        // A restore's RAM is the stream's up to here; frames above it are this runtime's own.
        if (restored) ramHwm = Atomics.load(view.ctl, CB_RAM_HWM);
        // A restore's vifs are listed once: whether it has any, and which to hold.
        const listed = restored ? await vifIds(ctx, view.domid).catch(() => []) : undefined;
        if (listed ? listed.length > 0 : preloadWhileParked) {
          const preload = Promise.all([preloadNetfront(), loadStack()]);
          if (listed) {
            [{ held, ids: vifs }] = await Promise.all([holdVifs(ctx, view.domid, listed), preload.then(([, [stack]]) => warmStackResume(stack, clockFromTime(time))).catch(() => {})]);
            // The toolstack kept frames for the vifs above the stream's (RestoreSpec.preconnect):
            // they connect now, so that the resume finds them connected.
            if (held.length > 0 && ramRoom(view) >= held.length * NETFRONT_CONNECT_FRAMES) {
              const connecting = connectHeld(held);
              held = [];
              early = Promise.resolve(connecting);
              const unconnected = await unconnectedWithin(connecting, PRECONNECT_MS);
              if (unconnected.length > 0) parkReport = { unconnectedVifs: unconnected };
            }
          } else void preload.catch(() => {});
        }
        // A shell built with a vif connects it now (a restored domain's resume reconnects its own),
        // and runs its stack's code once: its guest is one that serves.
        if (!restored && preloadWhileParked) {
          early = preconnectVifs(ctx, view.domid);
          if ((await early).size > 0) await warmUpStack(clockFromTime(time));
        }
        // Its OS's parts are made before the claim everywhere: a realm's are a few objects.
        if (!restored) ahead = runtime(undefined);
        claim = await park(parkReport);
        marks.handed = now();
        ({ name, uuid } = claim);
        claimVifs = own(claim, 'vifs');
        ownPriority = own(claim, 'ownPriority');
      } else if (identity) {
        await timerBound;
        ({ name, uuid } = identity);
      } else {
        const [n, vm] = await Promise.all([xs.read('name'), xs.readOptional('vm'), timerBound]);
        name = n;
        uuid = vm?.split('/').pop() ?? '';
      }
      marks.named = now();
      label = name;
      // Resumed from a save or migration: the old runtime's RAM is freed, the program's kept. Read
      // again here: a parked domain's record is written by its restore after the park.
      const resume = readResume(view);
      const record = resume ? resumeRecord(hc, resume.pfn, resume.bytes, ramHwm) : undefined;
      /** A resume's timeline, reported once main(os) runs and the vifs and stacks are back. */
      const resumeMarks: Record<string, number> = { handed: marks.handed ?? marks.booted, record: now() };
      let mainReached!: () => void;
      const reached = new Promise<void>((r) => (mainReached = r));
      const { io, addresses, stacks, sus, block } = record ? runtime(record) : (ahead ?? runtime(undefined));
      suspender = sus;
      if (suspendAsked) void sus.suspend();
      // A restore's early vifs kept their MACs; a shell's were written by its create.
      const ids = vifs ?? claimVifs;
      net = netDevices(ctx, view.domid, {
        track: (p) => sus.trackDevice(p), early, remac: record === undefined, held, ...(ids && { ids }),
        // A claimed shell's vifs: their addresses are read now, while the kernel links.
        ...(claim && !record && { readAhead: (id: number, backend?: string) => addresses.ahead(id, backend) }),
      });
      if (record) {
        // Every vif reconnects and every saved stack carries on at once, not when the program
        // asks: its connections' peers are waiting.
        const connected = reconnectVifs(ctx, view.domid, net, vifs).then(() => void (resumeMarks.vifs = now()));
        const restored = stacks.resumeSaved().then(() => void (resumeMarks.stacks = now()));
        void Promise.all([connected, restored, reached]).then(() => report?.('resume', resumeMarks));
      }
      // What the claim started (a resume's vif handshakes, a shell's MAC and address reads) is
      // sent before the kernel's evaluation takes the thread: the ring's notification waits for a
      // microtask, which otherwise ran only after main()'s own start, and dom0 answers the reads
      // while the kernel links.
      if (claim && (record || (ids?.length ?? 0) > 0)) await new Promise<void>((r) => setImmediate(r));
      if (claim) {
        // The runtime's own work so far (a resume's record, vifs and stacks: the downtime, which
        // at a guest's weight on a loaded host waited 15-470 ms for a core) ran at the host's
        // priority, as the parked runtime did; the program's code (its kernel, main) does only
        // in an incoming migration's boosted claim, whose thread dom0 lowers (RESUME_BOOST_MS).
        ownPriority?.();
        kernelLoaded = claim.load();
        kernelLoaded.catch(() => {});
      } else platformUp?.();
      const os: OS = {
        domid: view.domid,
        name,
        uuid,
        cmdline: readCmdline(view),
        console: pv.consoleApi,
        xenstore: xs,
        time,
        lifecycle,
        xen: hc,
        evtchn,
        block,
        net,
        tcpip: stacks.open,
        io,
        resumed: record?.hasState ? record.state : undefined,
        shutdown: ((reason: ShutdownReason) => (reason === 'suspend' ? sus.suspend() : shutdown(reason))) as OS['shutdown'],
      };
      const kernel = await kernelLoaded!;
      marks.linked = now();
      if (typeof kernel.default !== 'function') throw new Error('the kernel does not export a default main(os) function');
      Atomics.store(view.ctl, CB_MAIN_CALLED, 1);
      resumeMarks.main = now();
      mainReached();
      p.mainCalled(marks);
      await (kernel.default as (os: OS) => unknown)(os);
      await shutdown('poweroff');
    } catch (e) {
      await crash(e);
    }
  };
  void run();
  return loop;
}
