// The domain builder: from a domain's configuration to a running domain, in the order
// libxl and xc_dom do it: create (paused), allocate the xenstore and console event channels
// for dom0, seed the reserved grant entries, write start_info, write the domain's xenstore
// nodes, introduce it to xenstored, connect its console, start its vCPU, unpause (unless
// asked to leave it paused, as xl create -p).
import { randomUUID } from 'node:crypto';
import {
  MAX_GUEST_CMDLINE, PAGE_SIZE, SI_CMD_LINE, SI_CONSOLE_EVTCHN, SI_CONSOLE_MFN, SI_FLAGS, SI_MAGIC, SI_NR_PAGES,
  SI_MOD_LEN, SI_MOD_START, SI_SHARED_INFO, SI_STORE_EVTCHN, SI_STORE_MFN, START_INFO_MAGIC_PREFIX,
} from '../abi/xen.js';
import { SIF_MOD_START_PFN, SIF_XENODE_RESUMED } from '../abi/suspend.js';
import { XenError } from '../errors.js';
import { writeGrantEntry } from '../hypervisor/grant.js';
import type { Domain, Hypervisor } from '../hypervisor/hypervisor.js';
import {
  GNTTAB_RESERVED_CONSOLE, GNTTAB_RESERVED_XENSTORE, PFN_CONSOLE, PFN_SHARED_INFO, PFN_START_INFO, PFN_XENSTORE,
} from '../hypervisor/layout.js';
import { POOL0, type Cpupool, type Placement } from '../hypervisor/cpupool.js';
import { startVcpu, type BootedVcpu, type KernelScript, type ParkReport, type ShellVcpu, type VcpuPool, type VcpuThread } from '../hypervisor/vcpu.js';
import { RESUME_BOOST_MS } from '../hypervisor/sched.js';
import type { ConsoleDaemon } from '../drivers/console/daemon.js';
import type { UpcallLoop } from '../hypervisor/upcall.js';
import type { XenstoreClient, XsNodeOps, XsPerm } from '../xenstore/client/client.js';
import type { Xenstored } from '../xenstore/server/daemon.js';
import { within } from '../within.js';
import { addDiskNodes, removeDomainDisks, type DevicePlug } from './devices.js';
import type { DomainConfig, DomainVif } from './domconfig.js';
import { cachedKernelScript, kernelImage, kernelScript } from './kernel.js';
import { MIN_MEMORY_MIB } from './limits.js';
import type { Vdis } from '../storage/vdi.js';
import { addVif, removeDomainVifs, replugVif, vifNodes, type VifHost, type VifNodes } from './vifs.js';
import { randomVifMac } from './vifspec.js';
import { backendPath, frontendPath } from '../drivers/xenbus.js';
import { NETFRONT_CONNECT_FRAMES } from '../drivers/net/protocol.js';
import { XenbusState } from '../abi/xenbus.js';

/** What the builder needs of a domain's configuration. */
export type BuildSpec = Pick<DomainConfig, 'name' | 'uuid' | 'kernel' | 'memory' | 'cmdline' | 'cpuWeight' | 'cpuCap' | 'pool' | 'driverDomain' | 'maxGrantFrames' | 'maxMaptrackFrames' | 'maxEventChannels' | 'disks' | 'vifs'>;

/**
 * memory= is shared between the guest's I/O memory (frames in its SharedArrayBuffer: rings,
 * grant-able pages) and the JS heap of its vCPU thread; a quarter goes to I/O memory.
 */
export function memorySplit(memoryMb: number): { ramFrames: number; heapMb: number } {
  if (!Number.isInteger(memoryMb) || memoryMb < MIN_MEMORY_MIB) {
    throw new XenError('EINVAL', `memory=${memoryMb}: a guest needs at least ${MIN_MEMORY_MIB} MiB`);
  }
  const ioMb = Math.floor(memoryMb / 4);
  return { ramFrames: (ioMb * 1024 * 1024) / PAGE_SIZE, heapMb: memoryMb - ioMb };
}

export interface BuildContext {
  readonly hv: Hypervisor;
  readonly xs: XenstoreClient;
  /** xenstored itself: a claimed realm's requests are held until it is named (claimShell). */
  readonly xenstored: Pick<Xenstored, 'holdDomain'>;
  readonly consoled: ConsoleDaemon;
  readonly pool: VcpuPool;
  readonly onLog?: (line: string) => void;
  /** dom0's upcall loop: its blkback service runs there (needed for disks). */
  readonly loop?: UpcallLoop;
  /** Where relative disk targets live (devices.ts). */
  readonly imagesDir?: string;
  /** The host's VDIs, for `vdi:` disk targets. */
  readonly vdis?: Vdis;
  /** Starts dom0's netback service (vifs.ts), for vifs served by dom0. */
  readonly startNetback?: VifHost['startNetback'];
  /** The locking mode of a vif with none of its own on a bridge (vifs.ts). */
  readonly networkLocking?: VifHost['networkLocking'];
  /** The shared cpupools by name (Pool-0 is `pool`, and not listed here). */
  readonly cpupools?: ReadonlyMap<string, Cpupool>;
  /** Aborts when the host closes: background work for its builds stops (a kernel's eager code cache). */
  readonly closing?: AbortSignal;
}

/** The shared pool a spec asks for, or undefined for Pool-0. */
export function sharedPoolOf(ctx: BuildContext, spec: Pick<BuildSpec, 'pool' | 'driverDomain'>): Cpupool | undefined {
  if (spec.pool === undefined || spec.pool === POOL0) return undefined;
  const pool = ctx.cpupools?.get(spec.pool);
  if (!pool) throw new XenError('ENOENT', `pool="${spec.pool}": no such cpupool (xenode cpupool-list shows them)`);
  if (spec.driverDomain) {
    throw new XenError('EINVAL', `pool="${spec.pool}": a driver domain serves devices from Node's files and sockets, which a shared cpupool's realms do not have; run it in ${POOL0}`);
  }
  return pool;
}

function deviceHost(ctx: BuildContext): VifHost {
  if (!ctx.loop) throw new XenError('EINVAL', "attaching devices needs dom0's upcall loop in the build context");
  return { hv: ctx.hv, xs: ctx.xs, loop: ctx.loop, ...(ctx.onLog && { log: ctx.onLog }), ...(ctx.imagesDir && { imagesDir: ctx.imagesDir }),
    ...(ctx.vdis && { vdis: ctx.vdis }), ...(ctx.startNetback && { startNetback: ctx.startNetback }),
    ...(ctx.networkLocking && { networkLocking: ctx.networkLocking }) };
}

/**
 * How long `create` waits for the guest's main() once the domain is built and unpaused. xl
 * returns at that point; xenode waits a little more, so a kernel that fails at once is reported
 * by create, but not forever: a kernel may run its top level as long as it likes.
 */
export const MAIN_WAIT_MS = 5000;

/** A claimed realm is named once its main() is reported, or this long after its kernel was posted (claimShell). */
const NAMES_WAIT_MS = 5;

/** create's warning when main() was not reached within MAIN_WAIT_MS. */
export function mainLate(d: Domain): string {
  return `domain '${d.name}' (id ${d.domid}) is running, but its kernel has not called main() after ${MAIN_WAIT_MS / 1000} s ` +
    '(its top level still runs): `xenode list` shows its state, `xenode console` its output';
}

export interface BuiltDomain {
  readonly domain: Domain;
  readonly vcpu: BootedVcpu;
  /** Milliseconds spent in each phase, for the create-latency figures. */
  readonly timings: { readonly kernel: number; readonly setup: number; readonly vcpu: number };
  /**
   * A shell's: when its kernel's post to it began (performance.timeOrigin + now(), as BootMarks).
   * Taken before the post: the parked thread may have the message before postMessage returns.
   */
  readonly postedAt?: number;
  /** A parked restored domain (RestoreSpec.parked): hand its runtime its kernel, then unpause it. */
  readonly handKernel?: () => void;
  /** A parked restored domain's vifs, connected on SHELL_BRIDGE (RestoreSpec.preconnect): plug them where the configuration says. */
  readonly plugVifs?: () => Promise<void>;
}

function writeStartInfo(d: Domain, ramFrames: number, storePort: number, consolePort: number): void {
  const si = new DataView(d.view.buffers.memory, PFN_START_INFO * PAGE_SIZE, PAGE_SIZE);
  const bytes = new Uint8Array(d.view.buffers.memory, PFN_START_INFO * PAGE_SIZE, PAGE_SIZE);
  bytes.set(new TextEncoder().encode(START_INFO_MAGIC_PREFIX), SI_MAGIC);
  si.setBigUint64(SI_NR_PAGES, BigInt(ramFrames), true);
  si.setBigUint64(SI_SHARED_INFO, BigInt(PFN_SHARED_INFO * PAGE_SIZE), true);
  si.setUint32(SI_FLAGS, 0, true);
  si.setBigUint64(SI_STORE_MFN, BigInt(PFN_XENSTORE), true);
  si.setUint32(SI_STORE_EVTCHN, storePort, true);
  si.setBigUint64(SI_CONSOLE_MFN, BigInt(PFN_CONSOLE), true);
  si.setUint32(SI_CONSOLE_EVTCHN, consolePort, true);
}

/** What a domain restored from a save image starts with (migration/restore.ts). */
export interface RestoreSpec {
  /** RAM frames below this pfn are populated. */
  readonly hwm: number;
  /** Write the image's frames into the new domain's memory. */
  fill(d: Domain): void;
  /** The guest's suspend record, for start_info (abi/suspend.ts). */
  readonly record: { readonly pfn: number; readonly bytes: number };
  /**
   * Boot the runtime now, as far as a shell's (console, xenstore, timer: no RAM frame touched),
   * and leave it parked, the domain paused, until `BuiltDomain.handKernel` (an incoming
   * migration: the boot runs while the frames arrive, not in the downtime). Pool-0 only.
   */
  readonly parked?: boolean;
  /**
   * With `parked` (Pool-0, every vif served by dom0: preconnectFrames): RAM from `hwm` to the end
   * is left unpopulated for the parked runtime, which connects its vifs in those frames before it
   * parks, on SHELL_BRIDGE as a vif shell waits, so that its resume finds them connected;
   * `BuiltDomain.plugVifs` plugs them where the configuration says.
   */
  readonly preconnect?: boolean;
}

/** A restored domain's RAM, and start_info pointing at its suspend record. */
function restoreMemory(hv: Hypervisor, d: Domain, r: RestoreSpec): void {
  hv.restorePhysmap(d.domid, r.hwm);
  r.fill(d);
  setResumeRecord(d, r.record);
}

/**
 * start_info's pointer to a restored domain's suspend record (mod_start as a pfn). A migration
 * stream names the record last, so its receiver sets it again before the domain first runs.
 */
export function setResumeRecord(d: Domain, record: RestoreSpec['record']): void {
  const si = new DataView(d.view.buffers.memory, PFN_START_INFO * PAGE_SIZE, PAGE_SIZE);
  si.setUint32(SI_FLAGS, si.getUint32(SI_FLAGS, true) | SIF_MOD_START_PFN | SIF_XENODE_RESUMED, true);
  si.setBigUint64(SI_MOD_START, BigInt(record.pfn), true);
  si.setBigUint64(SI_MOD_LEN, BigInt(record.bytes), true);
}

/** start_info's command line (extra=), NUL-terminated: a shell's is written when it is claimed. */
function writeCmdline(d: Domain, cmdline: string): void {
  const field = new Uint8Array(d.view.buffers.memory, PFN_START_INFO * PAGE_SIZE + SI_CMD_LINE, MAX_GUEST_CMDLINE);
  if (cmdline === '' && field[0] === 0) return; // empty already (a shell's, always): nothing past the NUL is read
  const cmd = new TextEncoder().encode(cmdline);
  if (cmd.length >= MAX_GUEST_CMDLINE) throw new XenError('E2BIG', `extra= is ${cmd.length} bytes; the limit is ${MAX_GUEST_CMDLINE - 1}`);
  field.fill(0);
  field.set(cmd);
}

/** dom0's ends of a domain's xenstore and console event channels. */
interface Ports {
  readonly store: number;
  readonly console: number;
}

/** What names a domain to users; a shell gets it when a create claims it. */
interface Identity {
  readonly name: string;
}

const identityValues = (d: Domain, name: string): [string, string][] => {
  const dom = `/local/domain/${d.domid}`;
  const vm = `/vm/${d.uuid}`;
  return [[`${vm}/uuid`, d.uuid], [`${vm}/name`, name], [`${vm}/start_time`, (d.createdAt / 1000).toFixed(2)], [`${dom}/vm`, vm], [`${dom}/name`, name]];
};

const readOnly = (d: Domain): XsPerm[] => [{ domid: 0, perm: 'n' }, { domid: d.domid, perm: 'r' }];

/**
 * The nodes libxl writes for a new domain, with its permissions: dom0 owns, the guest reads.
 * Without an identity (a shell), everything but the name and the /vm directory.
 */
async function writeXenstore(xs: XenstoreClient, d: Domain, spec: ShellSpec, ports: Ports, identity: Identity | null): Promise<void> {
  const dom = `/local/domain/${d.domid}`;
  const vm = `/vm/${d.uuid}`;
  const ro = readOnly(d);
  const rw: XsPerm[] = [{ domid: d.domid, perm: 'n' }];
  const dirs = [dom, vm];
  // A shell's /vm directory is made under the uuid it was built with: a claim that keeps it
  // writes the name nodes only (claimShell).
  const named = identity ? identityValues(d, identity.name) : [[`${vm}/uuid`, d.uuid] as [string, string]];
  const values: [string, string][] = [
    ...named, [`${dom}/domid`, String(d.domid)],
    [`${dom}/memory/static-max`, String(spec.memory * 1024)], [`${dom}/memory/target`, String(spec.memory * 1024)],
    [`${dom}/cpu/0/availability`, 'online'],
    [`${dom}/store/port`, String(ports.store)], [`${dom}/store/ring-ref`, String(PFN_XENSTORE)],
    [`${dom}/console/port`, String(ports.console)], [`${dom}/console/ring-ref`, String(PFN_CONSOLE)],
    [`${dom}/console/type`, 'xenconsoled'], [`${dom}/console/limit`, '1048576'],
    [`${dom}/control/platform-feature-multiprocessor-suspend`, '1'],
  ];
  // The guest owns what it writes: its devices' frontends, its data, its control replies;
  // a driver domain also its own libxl and device-model directories, as libxl gives it.
  const owned = ['device', 'data', 'drivers', 'feature', 'attr', 'error', 'control/shutdown', 'control/feature-poweroff', 'control/feature-reboot',
    ...(spec.driverDomain ? ['libxl', 'device-model'] : [])];
  // One transaction, every request of it sent at once: xenstored takes a connection's requests
  // in order, so a directory is made before its permissions are set, and a node before its
  // own; the toolstack's part of a boot is three round trips, not one per node or step.
  await xs.transaction((t) => Promise.all([
    ...dirs.map((p) => t.mkdir(p)), ...dirs.map((p) => t.setPerms(p, ro)),
    ...values.map(([path, value]) => t.write(path, value)), ...owned.map((sub) => t.write(`${dom}/${sub}`, '')),
    ...owned.map((sub) => t.setPerms(`${dom}/${sub}`, rw)),
  ]));
}

/**
 * The domain and what every domain has, up to its vCPU: event channels for xenstore and
 * console, the reserved grant entries, start_info, xenstore nodes, XS_INTRODUCE, the console.
 * The caller tears it down if what follows fails.
 */
async function prepareDomain(
  ctx: BuildContext, spec: ShellSpec & { uuid?: string }, name: string, identity: Identity | null, placement?: Placement,
  created?: () => void,
): Promise<Domain> {
  const { hv, xs, consoled } = ctx;
  const { ramFrames } = memorySplit(spec.memory);
  const d = hv.createDomain({
    name,
    uuid: spec.uuid ?? randomUUID(),
    ramFrames,
    ...(spec.maxGrantFrames !== undefined && { maxGrantFrames: spec.maxGrantFrames }),
    ...(spec.maxMaptrackFrames !== undefined && { maxMaptrackFrames: spec.maxMaptrackFrames }),
    ...(spec.maxEventChannels !== undefined && { maxEvtchns: spec.maxEventChannels }),
    ...(placement && { doorbell: placement.doorbell, pauseWord: placement.pauseWord }),
  });
  try {
    created?.();
    const hc0 = hv.dom0Hypercalls;
    const ports = { store: await hc0.evtchnAllocUnbound(0, d.domid), console: await hc0.evtchnAllocUnbound(0, d.domid) };
    writeGrantEntry(d.view, GNTTAB_RESERVED_CONSOLE, 0, PFN_CONSOLE, false);
    writeGrantEntry(d.view, GNTTAB_RESERVED_XENSTORE, 0, PFN_XENSTORE, false);
    writeStartInfo(d, ramFrames, ports.store, ports.console);
    await writeXenstore(xs, d, spec, ports, identity);
    await xs.introduce(d.domid, PFN_XENSTORE, ports.store);
    await consoled.attach(d.domid, GNTTAB_RESERVED_CONSOLE, ports.console);
    return d;
  } catch (e) {
    await teardownDomain(ctx, d);
    throw e;
  }
}

/** A domain's devices attached, each waited for (their backends connected). */
async function attachDevices(ctx: BuildContext, domid: number, spec: Pick<BuildSpec, 'disks' | 'vifs'>): Promise<void> {
  await (await writeDevices(ctx, domid, spec)).plugged;
}

/**
 * attachDevices up to the disks' nodes written: their backends' start and hotplug outcomes are
 * left running in `plugged`. Vifs are waited for here: their hotplug plugs them into their
 * bridge, which must be done before the guest can send a frame.
 */
async function writeDevices(ctx: BuildContext, domid: number, spec: Pick<BuildSpec, 'disks' | 'vifs'>): Promise<DevicePlug> {
  const disks: Promise<void>[] = [];
  try {
    for (const disk of spec.disks) disks.push((await addDiskNodes(deviceHost(ctx), domid, disk)).plugged);
    for (const vif of spec.vifs) await addVif(deviceHost(ctx), domid, vif);
  } catch (e) {
    // The caller tears the domain down: after the outcomes pending, as when each was waited for.
    await Promise.allSettled(disks);
    throw e;
  }
  const plugged = Promise.all(disks).then(() => {});
  plugged.catch(() => {}); // the caller awaits it, maybe after other steps
  return { plugged };
}

/**
 * A kernel for a vCPU thread of its own: its script where it can be one, which the thread
 * compiles from V8's code cache (an ES module's import costs a fresh thread 5-8 ms of its
 * boot), else its module. The module is linked all the same: its link reports what is wrong
 * with the kernel (no main, say) as the toolstack words it.
 */
async function scriptOrModule(kernel: string, closing: AbortSignal | undefined): Promise<string | KernelScript> {
  // A script that cannot be made is no error of the kernel's: its module runs.
  const [module, script] = await Promise.all([kernelImage(kernel, 'module'), kernelScript(kernel, closing).catch(() => null)]);
  return script ?? module;
}

export async function buildDomain(ctx: BuildContext, spec: BuildSpec, opts: { paused?: boolean; restore?: RestoreSpec } = {}): Promise<BuiltDomain> {
  const { hv } = ctx;
  const { heapMb } = memorySplit(spec.memory);
  const shared = sharedPoolOf(ctx, spec);
  const parked = opts.restore?.parked === true && !shared;
  const t0 = performance.now();
  // A vCPU thread of its own is taken once the domain exists: a fresh one (a cold create)
  // loads the runtime on its own thread while dom0 builds the domain, instead of after. For a
  // kernel that linked before as a script and has not changed since, a fresh one is started at
  // once, ahead of the kernel's lookups and the domain's memory (about 0.2 ms of a cold create's
  // critical path, docs/PERFORMANCE.md, issue 17, cold16); any other kernel must link first, so
  // that a bad one starts no thread. A pool's idle thread is ready already and gains nothing
  // from an early take: it is taken after createDomain, so that creates that fail there (a bad
  // configuration's EINVAL, ENOMEM) do not end the pool's threads one by one.
  let taken: VcpuThread | undefined;
  const takeThread = !parked && !shared ? () => void (taken ??= ctx.pool.take({ heapMb })) : undefined;
  if (takeThread && cachedKernelScript(spec.kernel) && !ctx.pool.hasIdle({ heapMb })) takeThread();
  // A parked runtime boots while its kernel is linked, and compiles a script kernel while it
  // waits (as a shell does before its claim).
  const linking = parked
    ? kernelScript(spec.kernel, ctx.closing).then((script): Promise<string | KernelScript> => (script ? Promise.resolve(script) : kernelImage(spec.kernel)))
    : undefined;
  linking?.catch(() => {}); // awaited below, unless the build fails first
  let realmImage: string | undefined;
  let image: string | KernelScript | undefined;
  try {
    realmImage = linking || !shared ? undefined : await kernelImage(spec.kernel, 'realm');
    image = linking || shared ? undefined : await scriptOrModule(spec.kernel, ctx.closing);
  } catch (e) {
    void taken?.worker.terminate();
    throw e;
  }
  const t1 = performance.now();
  const placement = shared?.place();
  let d: Domain;
  try {
    d = await prepareDomain(ctx, spec, spec.name, { name: spec.name }, placement, takeThread);
  } catch (e) {
    if (placement) shared!.unplace(placement);
    void taken?.worker.terminate();
    throw e;
  }
  let started = false;
  // A parked runtime's vifs wait on the shells' bridge (preconnect).
  const waiting = parked && opts.restore?.preconnect === true ? spec.vifs.map((v) => ({ ...v, bridge: SHELL_BRIDGE })) : undefined;
  try {
    if (opts.restore) restoreMemory(hv, d, opts.restore);
    writeCmdline(d, spec.cmdline ?? '');
    await attachDevices(ctx, d.domid, waiting ? { disks: spec.disks, vifs: waiting } : spec);
    const t2 = performance.now();
    const sched = { ...(spec.cpuWeight !== undefined && { weight: spec.cpuWeight }), ...(ctx.onLog && { onLog: ctx.onLog }) };
    started = true; // from here the vCPU owns the placement (it gives it back when it fails or ends)
    if (parked) {
      const vcpu = await startVcpu(hv, d, null, { heapMb, pool: ctx.pool, ...sched });
      hv.unpause(d.domid);
      const { unconnectedVifs: late = [] } = await untilParked(d, vcpu);
      hv.pause(d.domid);
      // Refused, not resumed with handshakes left for the downtime: the source keeps the guest.
      if (waiting && late.length > 0) throw new XenError('ETIMEDOUT', `d${d.domid}: vif ${late.join(', ')} did not connect while the restored domain was parked`);
      const kernel = await linking!;
      if (typeof kernel !== 'string') vcpu.prepare(kernel);
      // An incoming migration's: its resume and first answers end the downtime (RESUME_BOOST_MS).
      const handKernel = () => vcpu.loadKernel(kernel, { ...(spec.cpuWeight !== undefined && { weight: spec.cpuWeight }), boostMs: RESUME_BOOST_MS });
      const timings = { kernel: t1 - t0, setup: t2 - t1, vcpu: performance.now() - t2 };
      if (!waiting) return { domain: d, vcpu, timings, handKernel };
      const had = await Promise.all(waiting.map((v) => vifNodes(deviceHost(ctx), d.domid, 0, { ...v, mac: v.mac ?? '' })));
      const plugVifs = async () => {
        await Promise.all(spec.vifs.map((v, i) => retargetVif(ctx, ctx.xs, d.domid, had[i]!, v)));
        await Promise.all(spec.vifs.map((v) => replugVif(deviceHost(ctx), d.domid, v.devid)));
      };
      return { domain: d, vcpu, timings, handKernel, plugVifs };
    }
    const vcpu = shared
      ? await shared.startVcpu(hv, d, placement!, realmImage!, { ...sched, heapMb, ...(spec.cpuCap !== undefined && { cap: spec.cpuCap }) })
      : await startVcpu(hv, d, image!, { heapMb, pool: ctx.pool, ...sched, ...(taken && { taken }) });
    taken = undefined; // the vCPU's now: the domain's teardown ends it
    // The domain was created paused; xl create -p leaves it so.
    if (!opts.paused) hv.unpause(d.domid);
    return { domain: d, vcpu, timings: { kernel: t1 - t0, setup: t2 - t1, vcpu: performance.now() - t2 } };
  } catch (e) {
    void taken?.worker.terminate();
    // The slot after the domain: an unpause of it meanwhile would reach the slot's next domain's pause count.
    await teardownDomain(ctx, d).finally(() => {
      if (placement && !started) shared!.unplace(placement);
    });
    throw e;
  }
}

/** A shell whose runtime has not parked by then is torn down: a hung refill must not hold the pool. */
const SHELL_PARK_MS = 30_000;

/**
 * What a shell is built from: the parts of a configuration that decide its memory and limits,
 * and whether it has a vif (vif 0, served by dom0) connected while it waits.
 */
export type ShellSpec = Pick<DomainConfig, 'memory' | 'maxGrantFrames' | 'maxMaptrackFrames' | 'maxEventChannels' | 'driverDomain'> & {
  readonly vif?: boolean;
};

/**
 * The bridge a shell's vif waits on: its own, so no frame of a user's network reaches a domain
 * nobody has created yet (a claim plugs it where the create wants it).
 */
export const SHELL_BRIDGE = 'xenode-shells';

/** How long a shell's vif may take to connect while the shell is built. */
const SHELL_VIF_MS = 10_000;

/** A pre-built domain: everything but its name, its devices and its kernel (LightVM's shell). */
export interface Shell {
  readonly domain: Domain;
  readonly vcpu: ShellVcpu;
  /** Its vif 0, connected (netfront and netback) while it waits: the nodes it was attached with. */
  readonly vif?: VifNodes;
}

/**
 * Whether the vifs of a configuration are one that a shell's pre-connected vif can become: vif
 * 0, served by dom0, with the interface name and MTU netback and netfront took at connecting.
 */
export function fitsShellVif(vifs: readonly DomainVif[]): boolean {
  const v = vifs[0];
  return vifs.length === 1 && v!.devid === 0 && v!.backend === undefined && v!.vifname === undefined && v!.mtu === undefined &&
    (v!.type === undefined || v!.type === 'vif');
}

/**
 * RAM frames a parked restore of `spec` keeps for its vifs' connections (RestoreSpec.preconnect,
 * NETFRONT_CONNECT_FRAMES each), at the top of its RAM; 0 where they are not connected early: a
 * shared cpupool's realm (which does not park), a vif another domain serves (only dom0's netback
 * is plugged anew), or more than a quarter of the guest's RAM.
 */
export function preconnectFrames(spec: Pick<BuildSpec, 'pool' | 'vifs' | 'memory'>): number {
  if ((spec.pool !== undefined && spec.pool !== POOL0) || spec.vifs.some((v) => v.backend !== undefined)) return 0;
  const frames = spec.vifs.length * NETFRONT_CONNECT_FRAMES;
  return frames <= memorySplit(spec.memory).ramFrames / 4 ? frames : 0;
}

/** Resolves once a kernel-less vCPU's runtime has parked, with its report; rejects if it dies or takes too long. */
async function untilParked(d: Domain, vcpu: ShellVcpu): Promise<ParkReport> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new XenError('ETIMEDOUT', `d${d.domid}: its runtime did not park within ${SHELL_PARK_MS / 1000} s`)), SHELL_PARK_MS);
  });
  const parked = vcpu.parked.then((r) => r ?? {});
  return Promise.race([parked, vcpu.mainCalled.then(() => ({})), late]).finally(() => clearTimeout(timer));
}

/**
 * Build a shell named `placeholder`: a running domain whose runtime has brought up its console,
 * xenstore ring and timer and waits for a kernel, on a vCPU thread of its own or, with `pool`,
 * in a realm on one of that shared cpupool's pCPU threads. Resolves once it waits; on any
 * failure (its vCPU dying included) nothing of it is left.
 */
export async function buildShell(ctx: BuildContext, spec: ShellSpec, placeholder: string, pool?: Cpupool): Promise<Shell> {
  const { hv } = ctx;
  const { heapMb } = memorySplit(spec.memory);
  const placement = pool?.place();
  let d: Domain;
  try {
    d = await prepareDomain(ctx, spec, placeholder, null, placement);
  } catch (e) {
    if (placement) pool!.unplace(placement);
    throw e;
  }
  let started = false;
  try {
    // The vif is there before the vCPU starts: its runtime connects it while parked.
    const vif = spec.vif ? await attachShellVif(ctx, d.domid) : undefined;
    const log = ctx.onLog && { onLog: ctx.onLog };
    // The vCPU owns the placement from here (it gives it back when it fails or ends).
    started = true;
    const vcpu = pool ? await pool.startVcpu(hv, d, placement!, null, { heapMb, ...log }) : await startVcpu(hv, d, null, { heapMb, pool: ctx.pool, ...log });
    hv.unpause(d.domid);
    await untilParked(d, vcpu);
    // Handed out only once connected: a claim then replugs a vif whose rings are up.
    if (vif) await ctx.xs.wait(`${backendPath(0, 'vif', d.domid, 0)}/state`, (v) => v === String(XenbusState.Connected), { timeout: SHELL_VIF_MS });
    return { domain: d, vcpu, ...(vif && { vif }) };
  } catch (e) {
    // Its slot, if the vCPU never took it, after the domain (buildDomain says why).
    await teardownDomain(ctx, d).finally(() => {
      if (placement && !started) pool!.unplace(placement);
    });
    throw e;
  }
}

/** A shell's vif 0: a random MAC on the shells' own bridge, attached as any vif is. */
async function attachShellVif(ctx: BuildContext, domid: number): Promise<VifNodes> {
  return addVif(deviceHost(ctx), domid, { devid: 0, mac: randomVifMac(), bridge: SHELL_BRIDGE });
}

/**
 * A vif connected on SHELL_BRIDGE (a shell's, a parked restore's) becomes the configuration's,
 * through `t` (the claim's writes): its nodes as addVif writes them, of which only those whose
 * value differs are written (the MAC, the bridge, ip=: three or four of thirteen; an incoming
 * migration's vif: its bridge, in the downtime), and those it had and the configuration has not
 * removed. replugVif then plugs it as they say.
 */
async function retargetVif(ctx: BuildContext, t: XsNodeOps, domid: number, had: VifNodes, vif: DomainVif): Promise<void> {
  const want = await vifNodes(deviceHost(ctx), domid, vif.devid, { ...vif, mac: vif.mac ?? randomVifMac() });
  const fe = frontendPath(domid, 'vif', vif.devid);
  const be = backendPath(0, 'vif', domid, vif.devid);
  type Nodes = VifNodes['backend'];
  const gone = (old: Nodes, now: Nodes) => old.filter(([k]) => !now.some(([n]) => n === k)).map(([k]) => k);
  const changed = (old: Nodes, now: Nodes) => now.filter(([k, v]) => !old.some(([n, o]) => n === k && String(o) === String(v)));
  await Promise.all([
    ...changed(had.backend, want.backend).map(([k, v]) => t.write(`${be}/${k}`, String(v))),
    ...changed(had.frontend, want.frontend).map(([k, v]) => t.write(`${fe}/${k}`, String(v))),
    ...gone(had.backend, want.backend).map((k) => t.rm(`${be}/${k}`)), ...gone(had.frontend, want.frontend).map((k) => t.rm(`${fe}/${k}`)),
  ]);
}

/**
 * Make a shell the domain `spec` describes (its create): link the kernel, take a shell
 * (`take` hands out each shell once; undefined when none is ready), name it, write what the
 * configuration adds (name, uuid, the /vm directory, command line, devices) and hand it its
 * kernel. Undefined when no shell was ready; on failure the shell is torn down. With `restore`
 * (xl restore into a shell): the image's RAM goes in while the shell is paused, before its
 * parked runtime is handed the kernel, which then resumes from the suspend record.
 */
export async function claimShell(ctx: BuildContext, take: (script?: KernelScript) => Shell | undefined, spec: BuildSpec,
  restore?: RestoreSpec): Promise<BuiltDomain | undefined> {
  const t0 = performance.now();
  // A script is compiled from V8's code cache, by the shell before its claim where it can be;
  // a realm runs the same script (compiled once by its pCPU thread).
  const script = cachedKernelScript(spec.kernel) ?? (await kernelScript(spec.kernel, ctx.closing));
  const image = script ?? (await kernelImage(spec.kernel, sharedPoolOf(ctx, spec) ? 'realm' : 'module'));
  const shell = take(script ?? undefined);
  if (!shell) return undefined;
  const { domain: d, vcpu } = shell;
  let release: (() => void) | undefined;
  let named: Promise<unknown> | undefined;
  try {
    const t1 = performance.now();
    if (restore) {
      // Its runtime parked without touching RAM (restorePhysmap checks): the image's frames go in.
      ctx.hv.pause(d.domid);
      restoreMemory(ctx.hv, d, restore);
    }
    const built = d.uuid;
    d.name = spec.name;
    d.uuid = spec.uuid ?? d.uuid;
    d.createdAt = Date.now();
    writeCmdline(d, spec.cmdline ?? '');
    const vm = `/vm/${d.uuid}`;
    const values = identityValues(d, spec.name);
    const names = (x: XsNodeOps) => (d.uuid === built ? values.filter(([path]) => path !== `${vm}/uuid`) : values).map(([path, value]) => x.write(path, value));
    const retarget = (x: XsNodeOps) => (shell.vif ? [retargetVif(ctx, x, d.domid, shell.vif, spec.vifs[0]!)] : []);
    // A failed claim's teardown removes whatever was written, and the shell's /vm directory.
    const undo = async (e: unknown): Promise<never> => {
      await ctx.xs.rm(`/vm/${built}`).catch(() => {});
      throw e;
    };
    // The shell's /vm directory is there already unless the configuration names another uuid:
    // then it is replaced in a transaction, with everything the claim writes, before the kernel
    // is posted. Otherwise the name nodes alone are written once the kernel is posted (below), off
    // the boot's path: the guest has its name and uuid in its kernel message, and dom0's
    // xenstored handles them in the same turn of dom0's thread (or queues them first), so before
    // any request of the guest's. A vif shell's nodes must be there before its replug. Writes are
    // sent at once, pipelined: xenstored takes them in order.
    // A realm's are written later still, once its main() is reported: its pCPU thread runs at the
    // guests' nice from the start (a Pool-0 shell's parks at the host's), so on a busy host the
    // claim's wake waited on dom0's core until those writes were done (0.3 ms, issue 18 in
    // docs/PERFORMANCE.md). Its requests are held meanwhile, so that it never sees itself unnamed.
    const late = d.uuid === built;
    const shared = sharedPoolOf(ctx, spec) !== undefined;
    if (!late) await ctx.xs.transaction((t) => Promise.all([t.rm(`/vm/${built}`), t.mkdir(vm), t.setPerms(vm, readOnly(d)), ...names(t), ...retarget(t)])).catch(undo);
    else if (shell.vif) await Promise.all(retarget(ctx.xs)).catch(undo);
    // Its vif is plugged where the configuration says before the guest can send a frame.
    if (shell.vif) await replugVif(deviceHost(ctx), d.domid, 0);
    // A new guest's kernel is posted once its disks' nodes are written, while their backends start
    // (blkback's reads, the image's open, its features: 1.5 ms quietly, 5-20 under load): its
    // blkfront waits for the backend's state. A restored guest's blkfront reconnects at once: its
    // disks are waited for first. The create still fails, the domain torn down, if one is refused.
    // No devices: no hop through writeDevices' awaits.
    const wanted = shell.vif ? { disks: spec.disks, vifs: [] } : spec;
    const devices = wanted.disks.length > 0 || wanted.vifs.length > 0 ? await writeDevices(ctx, d.domid, wanted) : undefined;
    if (restore) await devices?.plugged;
    // Not after its teardown (a refused disk, a destroy meanwhile): dom0's nodes would outlive it.
    const writeNames = async () => {
      if (ctx.hv.findDomain(d.domid) === d && !d.dying) await Promise.all(names(ctx.xs));
    };
    release = late && shared ? ctx.xenstored.holdDomain(d.domid) : undefined;
    // A realm with no ring to hold is named before it has its kernel, as a created domain is.
    const early = late && shared && !release;
    if (early) await writeNames().catch(undo);
    const t2 = performance.now();
    vcpu.loadKernel(image, { ...(spec.cpuWeight !== undefined && { weight: spec.cpuWeight }), ...(spec.cpuCap !== undefined && { cap: spec.cpuCap }) },
      { vifs: spec.vifs.map((v) => v.devid) });
    const t3 = performance.now();
    if (restore) ctx.hv.unpause(d.domid);
    named = !late || early ? undefined
      : (release ? within(vcpu.mainCalled.catch(() => {}), NAMES_WAIT_MS).then(writeNames).finally(release) : writeNames()).catch(undo);
    named?.catch(() => {}); // awaited below; the disks' outcomes first, so a teardown finds no backend starting
    await devices?.plugged;
    await named;
    return { domain: d, vcpu, timings: { kernel: t1 - t0, setup: t2 - t1, vcpu: t3 - t2 }, postedAt: performance.timeOrigin + t2 };
  } catch (e) {
    await named?.catch(() => {});
    release?.();
    await teardownDomain(ctx, d);
    throw e;
  }
}

/**
 * Undo what the builder did and destroy the domain: console, xenstore, hypervisor. Only while
 * its domid is still `domain`'s (or free): once reaped elsewhere (xl destroy, on_crash), the
 * domid may have gone to a new domain, which must not lose its devices, its paths or its life.
 */
export async function teardownDomain(ctx: BuildContext, domain: Domain): Promise<void> {
  const { domid } = domain;
  const ours = () => {
    const now = ctx.hv.findDomain(domid);
    return now === undefined || now === domain;
  };
  if (!ours()) return;
  ctx.consoled.drain(domid);
  ctx.consoled.detach(domid);
  await removeDomainDisks(ctx.hv, ctx.xs, domid).catch(() => {});
  if (!ours()) return;
  await removeDomainVifs(ctx.hv, ctx.xs, domid).catch(() => {});
  if (!ours()) return;
  await ctx.xs.release(domid).catch(() => {});
  if (!ours()) return;
  await ctx.xs.rm(`/local/domain/${domid}`).catch(() => {});
  await ctx.xs.rm(`/vm/${domain.uuid}`).catch(() => {});
  if (ctx.hv.findDomain(domid) === domain) await ctx.hv.destroyDomain(domid);
}
