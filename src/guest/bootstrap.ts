// The vCPU thread of a domain. It loads the library OS while idle in the pool; its boot
// message gives it a domain, and then it does what a PV kernel's early boot does: read
// start_info, bring up the console and xenstore, then call the guest program's main(os).
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { VIRQ_TIMER } from '../abi/event_channel.js';
import {
  MAX_GUEST_CMDLINE, PAGE_SIZE, SI_CMD_LINE, SI_CONSOLE_EVTCHN, SI_CONSOLE_MFN, SI_FLAGS, SI_MOD_LEN, SI_MOD_START, SI_STORE_EVTCHN,
  SI_STORE_MFN,
  type ShutdownReason,
} from '../abi/xen.js';
import { ConsoleFront } from '../drivers/console/front.js';
import { eventChannels } from '../drivers/evtchn.js';
import { portChannel, type PeerGrant } from '../hypervisor/control.js';
import { Hypercalls } from '../hypervisor/hypercalls.js';
import { PFN_START_INFO } from '../hypervisor/layout.js';
import { DomainView } from '../hypervisor/memory.js';
import { BoundPort } from '../hypervisor/port.js';
import { currentThreadId } from '../hypervisor/thread.js';
import { HALT_POLL_MAX_US, UpcallLoop } from '../hypervisor/upcall.js';
import type { BootMarks, BootMessage, KernelMessage, VcpuStatus } from '../hypervisor/vcpu.js';
import { XenstoreClient } from '../xenstore/client/client.js';
import { XenstoreRingClient } from '../xenstore/client/ring.js';
import { blockDevices } from './block.js';
import { netDevices } from './net.js';
import { tcpipStacks, vifAddress } from './tcpip.js';
import { ioPages } from './iopages.js';
import { GuestLifecycle } from './lifecycle.js';
import { pvConsole, type OS } from './os.js';
import { GuestTime } from './time.js';
import { Suspender, resumeRecord } from './suspend.js';
import { SIF_XENODE_RESUMED } from '../abi/suspend.js';
import { warmUp } from './warmup.js';

// Guest stacks should name the guest's own source lines, not the linked image's.
process.setSourceMapsEnabled(true);

// Guest kernels import 'xenode' from this same image (see image.ts).
export * from './index.js';

const parent = parentPort!;
/** Wall-clock ms, comparable across threads (for the boot's breakdown). */
const now = () => performance.timeOrigin + performance.now();
const status = (m: VcpuStatus) => parent.postMessage(m);

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
  const cmd = new Uint8Array(view.buffers.memory, PFN_START_INFO * PAGE_SIZE + SI_CMD_LINE, MAX_GUEST_CMDLINE).slice();
  const nul = cmd.indexOf(0);
  return new TextDecoder().decode(nul < 0 ? cmd : cmd.subarray(0, nul));
}

/** A restored domain's suspend record (abi/suspend.ts), from start_info; read once the kernel is known. */
function readResume(view: DomainView): { pfn: number; bytes: number } | undefined {
  const si = new DataView(view.buffers.memory, PFN_START_INFO * PAGE_SIZE, PAGE_SIZE);
  if ((si.getUint32(SI_FLAGS, true) & SIF_XENODE_RESUMED) === 0) return undefined;
  return { pfn: Number(si.getBigUint64(SI_MOD_START, true)), bytes: Number(si.getBigUint64(SI_MOD_LEN, true)) };
}

function setNice(nice: number): void {
  try {
    setPriority(nice); // this thread only (Linux); lowering it may need privilege
  } catch {
    /* the guest runs at the host process's priority */
  }
}

/** A shell's kernel, when the toolstack claims it. */
function kernelMessage(): Promise<KernelMessage> {
  return new Promise((resolve) => {
    const on = (m: KernelMessage) => {
      if (m?.type !== 'kernel') return;
      parent.off('message', on);
      resolve(m);
    };
    parent.on('message', on);
  });
}

/** A vCPU that has shut down is never scheduled again: block the thread until it is destroyed. */
function deschedule(): never {
  const forever = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(forever, 0, 0);
}

async function boot(msg: BootMessage): Promise<void> {
  const marks: BootMarks = { booted: now() };
  const view = new DomainView(msg.buffers);
  const channel = portChannel(msg.control);
  const hc = new Hypercalls(view, channel);
  channel.onPush((g) => hc.adoptPeer(g as PeerGrant));
  const si = readStartInfo(view);
  let down = false;
  let label = `d${view.domid}`;

  setNice(msg.nice);
  const loop = new UpcallLoop(view, {
    pausable: true,
    haltPollUs: HALT_POLL_MAX_US,
    pollOnlyWhenExpected: true,
    onError: (e) => void crash(e),
  });
  const front = new ConsoleFront(view.frame(si.consolePfn), new BoundPort(hc, loop, si.consolePort));
  const pv = pvConsole(front);
  Object.defineProperty(globalThis, 'console', { value: pv.console, writable: true, configurable: true });

  async function shutdown(reason: ShutdownReason): Promise<never> {
    if (!down) {
      down = true;
      // The console daemon drains the ring before the domain goes; make sure it is all there.
      // Output larger than the ring moves only as the daemon's events come in, so the upcall
      // loop stops after the flush, not before.
      await Promise.race([front.flush(), new Promise((r) => setTimeout(r, 1000))]);
      loop.stop();
      await hc.shutdown(reason).catch(() => {});
    }
    return deschedule();
  }

  async function crash(err: unknown): Promise<void> {
    if (down) return;
    const text = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : `uncaught value: ${String(err)}`;
    front.write(`\n[${label}] guest crashed: ${text}\n`);
    await shutdown('crash');
  }
  process.on('uncaughtException', (e) => void crash(e));
  process.on('unhandledRejection', (e) => void crash(e));

  try {
    // Link the kernel while the platform comes up: nothing below depends on it.
    const link = (url: string) => {
      const p = import(url) as Promise<{ default?: unknown }>;
      p.catch(() => {});
      return p;
    };
    let kernelLoaded = msg.kernel === null ? undefined : link(msg.kernel);
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
    let name: string;
    let uuid: string;
    if (kernelLoaded === undefined) {
      // A shell: the platform is up; what makes it a guest (name, command line, kernel) comes
      // when the toolstack claims it.
      await timerBound;
      status({ type: 'parked' });
      const k = await kernelMessage();
      marks.handed = now();
      if (k.nice !== msg.nice) setNice(k.nice);
      kernelLoaded = link(k.kernel);
      ({ name, uuid } = k);
    } else {
      const [n, vm] = await Promise.all([xs.read('name'), xs.readOptional('vm'), timerBound]);
      name = n;
      uuid = vm?.split('/').pop() ?? '';
    }
    marks.named = now();
    label = name;
    // Resumed from a save or migration: the old runtime's RAM is freed, the program's kept.
    const resume = readResume(view);
    const record = resume ? resumeRecord(hc, resume.pfn, resume.bytes) : undefined;
    const io = ioPages(hc, record?.io);
    const sus = new Suspender({
      hc, handler: () => lifecycle.suspendHandler, ioRanges: () => io.ranges(), flushConsole: () => front.flush(),
      log: (line) => front.write(`[${label}] ${line}\n`),
    });
    suspender = sus;
    if (suspendAsked) void sus.suspend();
    const evtchn = eventChannels(hc, loop);
    const net = netDevices({ hc, evtchn, xs }, view.domid, (p) => sus.trackDevice(p));
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
      block: blockDevices({ hc, evtchn, xs }, view.domid, (p) => sus.trackDevice(p)),
      net,
      tcpip: tcpipStacks(net, time, vifAddress(xs, view.domid), (p) => sus.trackStack(p)),
      io,
      resumed: record?.hasState ? record.state : undefined,
      shutdown: ((reason: ShutdownReason) => (reason === 'suspend' ? sus.suspend() : shutdown(reason))) as OS['shutdown'],
    };
    const kernel = await kernelLoaded;
    marks.linked = now();
    if (typeof kernel.default !== 'function') throw new Error('the kernel does not export a default main(os) function');
    status({ type: 'main', marks });
    await (kernel.default as (os: OS) => unknown)(os);
    await shutdown('poweroff');
  } catch (e) {
    await crash(e);
  }
}

await warmUp();
parent.once('message', (msg: BootMessage) => void boot(msg));
status({ type: 'ready', tid: currentThreadId() });
