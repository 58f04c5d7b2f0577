// The toolstack's command contract: every operation's arguments and result, the events a host
// reports, and the decoders that turn a request's raw JSON into typed arguments. Everything
// that crosses the control socket is declared here, so a front end (the CLI, the control
// socket, XenAPI) depends on this module and not on the host's implementation. As
// Firecracker's VmmAction and Cloud Hypervisor's ApiRequest do, input is validated once, at
// the edge (decodeRequest); the handlers behind it take typed values.
import type { XenbusState } from '../abi/xenbus.js';
import { DOMID_FIRST_RESERVED, type ShutdownReason } from '../abi/xen.js';
import { XenError } from '../errors.js';
import type { CaptureSummary } from '../network/capture.js';
import type { BridgeInfo, LinkInfo } from '../network/info.js';
import type { GatewayInfo } from '../network/gateway/gateway.js';
import type { TapInfo } from '../network/tap.js';

export type { GatewayInfo, TapInfo };
import type { DomainConfig, ShutdownAction } from './domconfig.js';
import { SR_TYPES, type SRRecord, type SrType, type VDIRecord } from './db/records.js';
import { MAX_POOL_SHELLS, MIN_MEMORY_MIB } from './limits.js';
import type { SummonedName } from './summon.js';
import type { TaskInfo } from './tasks.js';
import { TOKEN_HEX, isToken } from '../migration/wire.js';

export type { TaskInfo, TaskStatus } from './tasks.js';

export type { BridgeInfo, BridgePortInfo, LearnedMac, LinkInfo } from '../network/info.js';
export type { CaptureSummary } from '../network/capture.js';

/** A domain as a user names it: its name, or its id (a number, or a string of digits). */
export type DomainRef = string | number;

export interface DomainId {
  readonly domid: number;
  readonly name: string;
}

export interface VbdStats {
  readonly oo: number;
  readonly rd: number;
  readonly wr: number;
  readonly rsect: number;
  readonly wsect: number;
}

export interface NetStats {
  readonly txBytes: number;
  readonly rxBytes: number;
}

/** Counters of each disk and vif dom0 serves to one domain (XAPI's per-VBD and per-VIF data sources). */
export interface DomainDeviceStats extends DomainId {
  /** Per disk: its vdev (xvda) and blkback's sectors read and written, in bytes. */
  readonly vbds: readonly { readonly vdev: string; readonly readBytes: number; readonly writeBytes: number }[];
  /** Per vif: its devid and the bytes the guest sent and received (netback's counters, swapped as xentop's). */
  readonly vifs: readonly { readonly devid: number; readonly txBytes: number; readonly rxBytes: number }[];
}

/** One row of `xenode list` / `xenode top`. */
export interface DomainInfo extends DomainId {
  readonly uuid: string;
  /** xl list's State column: r b p s, the shutdown reason's letter, d. */
  readonly state: string;
  readonly memoryKiB: number;
  /** null: no limit (Domain-0). */
  readonly maxmemKiB: number | null;
  readonly vcpus: number;
  /** Time the vCPU spent running. */
  readonly cpuSeconds: number;
  /** Virtual block devices. */
  readonly vbds: number;
  /**
   * xentop's block counters (blkback's oo_req, rd_req, wr_req, rd_sect, wr_sect) over the disks
   * dom0 serves; null when it serves none of them (a driver domain serves them, or none are).
   */
  readonly vbdStats: VbdStats | null;
  /** Network interfaces (xentop's NETS). */
  readonly nets: number;
  /**
   * xentop's NETTX(k) and NETRX(k): bytes the guest sent and received, from the counters of
   * dom0's netback over the vifs it serves; null when it serves none of them.
   */
  readonly netStats: NetStats | null;
  /** When it was created, in ms since the epoch. */
  readonly startTime: number;
  /** The cpupool its vCPU runs in (xl list -c). */
  readonly pool?: string;
  /** With `long`: the configuration it was created from. */
  readonly config?: DomainConfig;
}

/** xl list's columns (and list -c's pool): what `xenode list` prints, a third of a DomainInfo's bytes. */
export type DomainRow = Pick<DomainInfo, 'domid' | 'name' | 'state' | 'memoryKiB' | 'vcpus' | 'cpuSeconds' | 'pool'>;

/**
 * The same columns as one array each, a domain's values at the same index in every one: half
 * the bytes of the rows to send and parse, and arrays of numbers instead of an object per
 * domain for a fresh `xenode list` process to allocate (docs/PERFORMANCE.md).
 */
export type DomainColumns = { readonly [K in keyof DomainRow]-?: Exclude<DomainRow[K], undefined>[] };

/** One row of `xenode cpupool-list`: xl's columns. */
export interface CpupoolInfo {
  readonly name: string;
  /** pCPU threads of a shared pool; the host's CPUs for Pool-0 (a thread per vCPU). */
  readonly cpus: number;
  readonly sched: string;
  readonly active: boolean;
  readonly domains: number;
}

export interface CreateResult extends DomainId {
  /** About the configuration: keys this version ignores, and the like. */
  readonly warnings: string[];
  /**
   * Where the time went, in ms: linking the kernel image, setting the domain up (memory, event
   * channels, xenstore, console, devices), starting its vCPU, and from there to main() (0 when
   * created paused).
   */
  readonly ms: { readonly kernel: number; readonly setup: number; readonly vcpu: number; readonly main: number };
}

/** `xenode info`: the machine and the host, in the terms of xl info. */
export interface HostInfo {
  readonly host: string;
  readonly release: string;
  readonly version: string;
  readonly machine: string;
  readonly nrCpus: number;
  readonly cpuMhz: number;
  readonly totalMemoryMiB: number;
  readonly freeMemoryMiB: number;
  readonly xenodeVersion: string;
  readonly nodeVersion: string;
  readonly pageSize: number;
  /** The host process's command line. */
  readonly commandline: string;
  /** When the host started, in ms since the epoch. */
  readonly startTime: number;
  readonly stateDir: string | null;
  readonly domains: number;
}

/** One row of `xl block-list`. */
export interface DiskDevice {
  readonly vdev: string;
  readonly devid: number;
  readonly backendId: number;
  /** The frontend's xenbus state. */
  readonly state: XenbusState;
  readonly eventChannel: number | undefined;
  readonly ringRef: number | undefined;
  readonly backendPath: string;
}

/** One row of `xl network-list`. */
export interface NicDevice {
  readonly devid: number;
  readonly backendId: number;
  readonly mac: string;
  readonly handle: number;
  /** The frontend's xenbus state. */
  readonly state: XenbusState;
  /** Absent (xl's -1) with split event channels, as libxl reads only event-channel. */
  readonly eventChannel: number | undefined;
  readonly txRingRef: number | undefined;
  readonly rxRingRef: number | undefined;
  readonly backendPath: string;
}

/** A host port forward (xenode's `forward` key, `xenode network-forward`), as a row of its list. */
export interface ForwardInfo {
  readonly domid: number;
  /** PROTO:[HOSTADDR:]HOSTPORT:GUESTPORT. */
  readonly spec: string;
  readonly proto: 'tcp' | 'udp';
  readonly hostAddress: string;
  readonly hostPort: number;
  readonly guestPort: number;
  /** The bridge whose gateway carries it. */
  readonly bridge: string;
  /** Where it goes now: the vif's ip=, or its DHCP lease; null while it has none. */
  readonly guestAddress: string | null;
}

/** A summoning forward (`xenode network-forward TARGET SPEC --summon`): its first connection boots the guest. */
export interface SummonedForwardInfo {
  /** tcp:[HOSTADDR:]HOSTPORT:GUESTPORT. */
  readonly spec: string;
  readonly hostAddress: string;
  readonly hostPort: number;
  readonly guestPort: number;
  readonly bridge: string;
  /** The guest's vif's ip=, or its DHCP lease once it has one. */
  readonly guestAddress: string | null;
  /** The domain it boots (its configuration's name). */
  readonly domain: string;
  /** The halted persistent VM it starts, or null: a new domain from a configuration each time. */
  readonly vm: string | null;
  /** Guests booted by its connections. */
  readonly boots: number;
  /** Connections joined to the guest, and those reset (the guest did not boot or answer in time). */
  readonly accepted: number;
  readonly refused: number;
}

/**
 * What the host did after a domain shut down: its on_* setting as xenode carries it out
 * (no core dumps, so coredump-* act as their plain counterparts; soft-reset restarts), or
 * destroy when the host is stopping or someone is destroying the domain already.
 */
export type ShutdownOutcome = 'destroy' | 'restart' | 'rename-restart' | 'preserve';

export type HostEventBody =
  | { readonly type: 'created' | 'destroyed' | 'paused' | 'unpaused'; readonly domid: number; readonly name: string }
  | {
    readonly type: 'shutdown'; readonly domid: number; readonly name: string; readonly reason: ShutdownReason;
    /** The configured on_* action. */
    readonly action: ShutdownAction;
    /** What the host does about it, decided once, by the host. */
    readonly taken: ShutdownOutcome;
  }
  | { readonly type: 'restarted'; readonly domid: number; readonly name: string; readonly from: number }
  | { readonly type: 'restart-failed'; readonly domid: number; readonly name: string; readonly error: string }
  | { readonly type: 'renamed'; readonly domid: number; readonly name: string; readonly from: string }
  | { readonly type: 'message'; readonly text: string }
  | { readonly type: 'host'; readonly state: 'started' | 'stopping' | 'stopped'; readonly pid: number };

/** One line of the host's log and of an events stream: what happened, and when (ISO 8601, UTC). */
export type HostEvent = HostEventBody & { readonly time: string };

type NoArgs = Record<string, never>;

/** An SR as sr-list shows it: XAPI's record, and its directory (null for a RAM SR). */
export type SrInfo = SRRecord & { readonly path: string | null };

/** A VDI as vdi-list shows it: XAPI's record, with its SR's uuid and name (the SR field is a ref). */
export type VdiInfo = VDIRecord & { readonly sr_uuid: string; readonly sr_name_label: string };

export interface SrScanResult {
  readonly sr: string;
  readonly introduced: string[];
  readonly missing: string[];
  readonly found: string[];
  readonly skipped: { readonly file: string; readonly why: string }[];
  /** Journals left for later (a migration whose other SR is unplugged). */
  readonly deferred: { readonly journal: string; readonly why: string }[];
}

/**
 * What xenode save did: xl's "(info 0x%x/0x%x/%u)" (mandatory flags, optional flags, optional
 * data length), the file's size, the frames, and the ms spent suspending the guest and taking
 * and writing its image.
 */
export interface SaveResult {
  readonly info: readonly [number, number, number];
  readonly bytes: number;
  readonly pages: number;
  /** Where the time went: the guest's suspend, the image written, its fdatasync. */
  readonly ms: { readonly suspend: number; readonly image: number; readonly sync: number };
}

/**
 * What xenode migrate did: xl's sender messages, frames per round (the last is the
 * stop-and-copy), bytes sent, the downtime (from the suspend to the target's report that its
 * copy runs) and the total, in ms.
 */
export interface MigrateResult {
  readonly messages: string[];
  readonly rounds: number[];
  readonly bytes: number;
  readonly downtimeMs: number;
  /**
   * The downtime's parts as the sender sees them: the guest's suspend, with --with-disks the
   * disks' final flush at the destination, the last round (sent and applied), the handshake
   * (both renames, the unpause).
   */
  readonly downtimePartsMs: { readonly suspend: number; readonly disks?: number; readonly lastRound: number; readonly handshake: number };
  /**
   * When each step of the stop-and-copy happened here (epoch ms: performance.timeOrigin +
   * now()): `sender` the toolstack's (suspend asked, suspended, disks flushed, last round compared
   * and sent, acknowledged, renamed, permission sent, target's report, the old copy's destroy
   * begun and done), `guest` its runtime's suspend as it
   * reported it (asked, handler, frozen, quiesced, flushed), where it did.
   */
  readonly timeline: { readonly sender: Readonly<Record<string, number>>; readonly guest?: Readonly<Record<string, number>> };
  readonly totalMs: number;
}

/** A VM as vm-list shows it: the host database's record, running or halted. */
export interface VmInfo {
  readonly uuid: string;
  readonly name: string;
  readonly description: string;
  /** XAPI's power state: Running, Paused, Halted. */
  readonly powerState: string;
  /** -1 while it has no domain. */
  readonly domid: number;
  /** Made from an xl config: gone when its domain is destroyed (else it persists while halted). */
  readonly transient: boolean;
  /** A snapshot (vm-snapshot): it does not start; vm-clone makes a VM of it, vm-revert returns its VM to it. */
  readonly isSnapshot: boolean;
  readonly memoryMiB: number;
  readonly maxmemMiB: number;
  readonly vcpus: number;
  readonly otherConfig: Readonly<Record<string, string>>;
}

/** What vm-set changes of a VM; memory only while it is halted. */
export interface VmChanges {
  readonly name?: string;
  readonly description?: string;
  /** MiB. */
  readonly memory?: number;
  /** MiB. */
  readonly maxmem?: number;
  /** Set other_config[key] to otherConfigValue, or remove the key when no value is given. */
  readonly otherConfigKey?: string;
  readonly otherConfigValue?: string;
}

/** Operation name → its arguments and its result. */
export interface Commands {
  /**
   * xl create: `file` is an absolute path to an xl.cfg file, or, with `text`, the configuration
   * itself (`file` then names it in messages and anchors a relative kernel=). Returns once the
   * guest's main() runs, or once it is built when `paused`.
   */
  create: { args: { file: string; text?: string; paused?: boolean }; result: CreateResult };
  /** xl list; every domain when `domains` is absent. */
  list: { args: { domains?: DomainRef[]; long?: boolean }; result: DomainInfo[] };
  /** xl list's columns only, as `xenode list` prints them: list's reply without its counters, uuid and times, column by column. */
  listColumns: { args: { domains?: DomainRef[] }; result: DomainColumns };
  /** xl domid / xl domname. */
  lookup: { args: { domain: DomainRef }; result: DomainId };
  destroy: { args: { domain: DomainRef }; result: DomainId };
  /** xl shutdown, or xl reboot with `reboot`: ask the guest through control/shutdown. */
  shutdown: { args: { domain: DomainRef; reboot?: boolean }; result: DomainId };
  pause: { args: { domain: DomainRef }; result: DomainId };
  /** XAPI's VM.hard_reboot: destroy the domain and build it again from its configuration (a new domid, the same VM); returns the new domain. */
  hardReboot: { args: { domain: DomainRef }; result: DomainId };
  unpause: { args: { domain: DomainRef }; result: DomainId };
  rename: { args: { domain: DomainRef; name: string }; result: DomainId };
  /** xl block-attach: `spec` in xl-disk-configuration(5) syntax. */
  blockAttach: { args: { domain: DomainRef; spec: string }; result: DiskDevice };
  /** xl block-detach [-f]: the guest closes the device first, unless forced. */
  blockDetach: { args: { domain: DomainRef; vdev: string; force?: boolean }; result: DomainId };
  blockList: { args: { domain: DomainRef }; result: DiskDevice[] };
  /** xl network-attach: `spec` in xl-network-configuration(5) syntax. */
  networkAttach: { args: { domain: DomainRef; spec: string }; result: NicDevice };
  /** xl network-detach: the vif by devid or MAC; the guest closes it first, unless forced. */
  networkDetach: { args: { domain: DomainRef; vif: string; force?: boolean }; result: DomainId };
  networkList: { args: { domain: DomainRef }; result: NicDevice[] };
  /**
   * xenode network-forward: forward a host port to the domain's first vif (`spec` is
   * PROTO:[HOSTADDR:]HOSTPORT:GUESTPORT), or with `remove` stop forwarding it. Forwards go with the domain.
   */
  networkForward: { args: { domain: DomainRef; spec: string; remove?: boolean }; result: ForwardInfo };
  /** The host port forwards of one domain, or of all. */
  networkForwardList: { args: { domain?: DomainRef }; result: ForwardInfo[] };
  /**
   * xenode network-gateway: a bridge's gateway (attached if it has none), with QEMU's
   * restrict=on|off set when `restrict` is given (on: no guest-initiated NAT, no DNS relay).
   */
  networkGateway: { args: { bridge: string; restrict?: 'on' | 'off' }; result: GatewayInfo };
  /** The console output the host kept (bounded), base64. */
  consoleLog: { args: { domain: DomainRef }; result: DomainId & { data: string } };
  info: { args: NoArgs; result: HostInfo };
  /** Per-device counters of every domain whose disks or vifs dom0 serves (list's vbdStats and netStats, per device). */
  deviceStats: { args: NoArgs; result: DomainDeviceStats[] };
  /** The host log's latest entries; `clear` empties it after reading (xl dmesg -c). */
  dmesg: { args: { clear?: boolean }; result: HostEvent[] };
  /**
   * xl debug-keys: each key has the hypervisor dump some state into the host log (dmesg), one
   * entry per key (a dump of thousands of ports must not evict itself from the ring); 'e', whose
   * entry starts with EVTCHN_DUMP_HEADER: every domain's event channels and dom0 blkback's rings
   * (debug-keys.ts). EINVAL for a key it does not handle.
   */
  debugKeys: { args: { keys: string }; result: NoArgs };
  /** Stop the host daemon: guests are shut down, then destroyed if they linger. */
  stop: { args: NoArgs; result: NoArgs };
  /** Add a XenAPI user, or give an existing one a new role and password (their sessions end). */
  userAdd: { args: { name: string; role: XapiRole; password: string }; result: { name: string; role: XapiRole; replaced: boolean } };
  /** dom0's bridges: their ports, VLANs, learned MACs and counters; and the VXLAN links. */
  bridgeList: { args: NoArgs; result: { bridges: BridgeInfo[]; links: LinkInfo[] } };
  /**
   * Capture a bridge or a port (vifD.N) into a pcap file the host writes (`file`, an absolute
   * path), until `count` frames, `maxBytes`, or captureStop; returns then.
   */
  capture: { args: { target: string; file: string; count?: number; snaplen?: number; maxBytes?: number }; result: CaptureSummary };
  captureStop: { args: { file: string }; result: { stopped: boolean } };
  /** Link a bridge to the same-named bridge of another host over VXLAN: `remote` and `local` are ADDRESS[:PORT] (4789). */
  bridgeLink: { args: { bridge: string; remote: string; local?: string; vni?: number }; result: LinkInfo };
  bridgeUnlink: { args: { bridge: string; remote: string }; result: LinkInfo };
  /**
   * xenode bridge-tap: create Linux TAP device `tap` (through socat; root) as a port of
   * `bridge`, with `address` (A.B.C.D/LEN) on the host's side, so the host's kernel reaches the
   * bridge's guests without NAT; with `remove`, take it away.
   */
  bridgeTap: { args: { bridge: string; tap: string; address?: string; remove?: boolean }; result: TapInfo };
  /** xe sr-list: every SR (the default one is made on first use). */
  srList: { args: NoArgs; result: SrInfo[] };
  /** xe sr-create: a directory SR at `path` (new or empty, made if absent), or a RAM SR. */
  srCreate: { args: { name: string; type: SrType; path?: string; description?: string }; result: SrInfo };
  /** xe sr-scan: an SR (by name or uuid) reconciled with its files. */
  srScan: { args: { sr: string }; result: SrScanResult };
  /** xe vdi-create: `size` as <bytes>[K|M|G|T]; `format` raw unless given. */
  vdiCreate: { args: { sr: string; name: string; size: string; format?: string; description?: string }; result: VdiInfo };
  /** xe vdi-list, of one SR when `sr` is given. */
  vdiList: { args: { sr?: string }; result: VdiInfo[] };
  /** xe vdi-destroy: `kept` is the image's path when xenode did not make it (sr-scan found it) and left it. */
  vdiDestroy: { args: { vdi: string }; result: { uuid: string; kept: string | null } };
  /** xe vdi-resize: grow a VDI to `size`. */
  vdiResize: { args: { vdi: string; size: string }; result: VdiInfo };
  /** vdi-import: a copy of the image at `file` (absolute, read by the host) as a new VDI of its format (found, or `format` checked). */
  vdiImport: { args: { sr: string; file: string; name?: string; format?: string; description?: string }; result: VdiInfo };
  /**
   * xl save: suspend the domain (its program's onSuspend hands over its state) and write its
   * image to `file` (absolute, written by the host); the domain is destroyed, or runs on with
   * `checkpoint` (-c), or is left paused with `paused` (-p).
   */
  save: { args: { domain: DomainRef; file: string; checkpoint?: boolean; paused?: boolean; timeoutMs?: number }; result: DomainId & SaveResult };
  /** xl restore: a new domain from a save file (absolute); `paused` (-p) leaves it paused. */
  restore: { args: { file: string; paused?: boolean }; result: CreateResult & { readonly info: readonly [number, number, number] } };
  /**
   * xl migrate: live-migrate the domain to the host listening at `target` (HOST:PORT, that
   * host's `--listen`), authenticated with its migration token; pre-copy rounds until fewer than
   * `dirtyThreshold` frames changed or after `maxRounds` (xc's 50 and 5), then stop and copy.
   * `withDisks` (Storage XenMotion): the domain's raw VDI disks are mirrored and copied to the
   * destination, each into the SR `vdiMap` gives for its uuid (uuid or name; default the
   * destination's default SR).
   */
  migrate: { args: { domain: DomainRef; target: string; token: string; maxRounds?: number; dirtyThreshold?: number; withDisks?: boolean; vdiMap?: Record<string, string> }; result: DomainId & MigrateResult };
  /** vdi-export: a new image of `format` at `file` (absolute, must not exist) with the VDI's contents. */
  vdiExport: { args: { vdi: string; file: string; format: string }; result: { uuid: string; file: string } };
  /**
   * vdi-snapshot: a read-only snapshot of a VDI (vhd or qcow2), O(1), live under a running guest
   * (`paused_ms`: how long its I/O was paused); vdi-clone with `clone`: a writable copy sharing
   * the base.
   */
  vdiSnapshot: { args: { vdi: string; name: string; description?: string; clone?: boolean }; result: VdiInfo & { readonly paused_ms: number } };
  /**
   * vdi-migrate: move a VDI to another directory SR, live under a running guest (Storage
   * XenMotion within the host); the longest pause of its I/O and the bytes copied and mirrored.
   */
  vdiMigrate: { args: { vdi: string; sr: string }; result: VdiInfo & { readonly max_paused_ms: number; readonly copied_bytes: number; readonly mirrored_bytes: number } };
  /** Run the SR's garbage collector now (it also runs in the background after vdi-destroy and sr-scan). */
  srGc: { args: { sr: string }; result: GcResult };
  /**
   * Start a long operation (one of TASK_OPS) as a task, as XenAPI's Async calls do: its record
   * at once; poll it with taskGet, stop it with taskCancel.
   */
  taskSubmit: { args: { call: TaskCall }; result: TaskInfo };
  taskGet: { args: { task: string }; result: TaskInfo };
  taskList: { args: NoArgs; result: TaskInfo[] };
  taskCancel: { args: { task: string }; result: TaskInfo };
  /** xl cpupool-create name=NAME sched=credit cpus=N: here cpus is the number of pCPU threads. */
  /**
   * xenode's extension: `shells` domains of `shellMemory` MiB (default 32) kept parked in the
   * pool, so that a create with pool= and that memory= is a rename and a kernel hand-over.
   */
  cpupoolCreate: { args: { name: string; cpus: number; sched?: string; shells?: number; shellMemory?: number }; result: CpupoolInfo };
  cpupoolList: { args: NoArgs; result: CpupoolInfo[] };
  /**
   * xenode's extension, Jitsu's summoning (summon.ts): the host's summoning DNS server answers
   * `name` with the address of the configuration's first vif, booting the guest on the first
   * query. `dns` is where that server listens.
   */
  summon: { args: { name: string; file: string; text?: string }; result: SummonedName & { dns: string } };
  summonList: { args: NoArgs; result: { dns: string | null; names: SummonedName[] } };
  /**
   * xenode network-forward TARGET SPEC --summon: listen on a host port (`spec`, TCP) for a guest
   * booted by its first connection: the halted VM `vm` started, or a domain from the config
   * `file` (absolute; or `text`, as create takes it). With `remove`, stop (`spec` alone).
   */
  summonForward: { args: { spec: string; vm?: string; file?: string; text?: string; remove?: boolean }; result: SummonedForwardInfo };
  summonForwardList: { args: NoArgs; result: SummonedForwardInfo[] };
  unsummon: { args: { name: string }; result: { name: string } };
  cpupoolDestroy: { args: { name: string }; result: { name: string } };
  /** xl cpupool-migrate DOMAIN POOL. */
  cpupoolMigrate: { args: { domain: DomainRef; pool: string }; result: DomainId & { pool: string } };
  /** vm-import: a persistent, halted VM from an xl.cfg file (`file` absolute; or `text`, as create takes it). */
  vmImport: { args: { file: string; text?: string; description?: string }; result: VmInfo };
  /** vm-start (XAPI's VM.start): boot a halted persistent VM (by uuid or name) with its stored configuration. */
  vmStart: { args: { vm: string; paused?: boolean }; result: CreateResult };
  /** vm-list: every VM of the host database, halted ones included (xl list shows domains). */
  vmList: { args: NoArgs; result: VmInfo[] };
  /** vm-uninstall (XAPI's VM.destroy): a halted persistent VM's record and its VBD/VIF records go; its disk images stay. */
  vmUninstall: { args: { vm: string }; result: { uuid: string } };
  /** vm-param-set: a VM's name (a running VM's domain is renamed), description, memory (halted only), other_config. */
  vmSet: { args: { vm: string } & VmChanges; result: VmInfo };
  /**
   * A VM's disks and vifs (XAPI's VBD.create/destroy, VIF.create/destroy): `spec` as
   * block-attach/network-attach take it; remove by vdev, or by devid or MAC. On a running VM a
   * new device is the VM's but unplugged, and only an unplugged one can be removed; plug and
   * unplug (XAPI's VBD/VIF.plug/unplug, by vdev or devid) hot-plug it as block-attach and
   * network-attach do, and keep it the VM's while unplugged (`force`: as block-detach -f).
   */
  vmDevice: {
    args: {
      vm: string; disk?: string; vif?: string; removeDisk?: string; removeVif?: string;
      plugDisk?: string; unplugDisk?: string; plugVif?: string; unplugVif?: string; force?: boolean;
    };
    result: VmInfo;
  };
  /**
   * A vif's locking (XAPI's VIF.set_locking_mode, set_ipv4_allowed, set_ipv6_allowed): the VM's
   * vif by devid or MAC takes what is given and keeps the rest; lockingMode network_default and
   * an empty address list leave the key out. A plugged vif of a running VM takes it at once.
   */
  vifSet: {
    args: { vm: string; vif: string; lockingMode?: 'network_default' | 'locked' | 'unlocked' | 'disabled'; ipv4Allowed?: string; ipv6Allowed?: string };
    result: VmInfo;
  };
  /**
   * vbd-param-set (XAPI's VBD.set_mode, set_bootable, set_userdevice): a halted VM's disk, by
   * vdev or userdevice, changes in the configuration it boots with. bootable makes it the VM's
   * first disk (the one it boots from; false moves it after the next one); userdevice N is vdev
   * xvd(a+N), free on the VM.
   */
  vbdSet: {
    args: { vm: string; vbd: string; mode?: 'RO' | 'RW'; bootable?: boolean; userdevice?: number };
    result: VmInfo;
  };
  /**
   * vm-suspend (XAPI's VM.suspend): xl save of a running VM into a suspend VDI of the pool's
   * suspend SR; the VM is Suspended (and persistent) afterwards.
   */
  vmSuspend: { args: { vm: string }; result: SaveResult & { readonly uuid: string; readonly vdi: string } };
  /**
   * vm-resume (XAPI's VM.resume): xl restore of a suspended VM from its suspend VDI, which then
   * goes; `discard` halts it instead, discarding the image (XAPI's hard_shutdown of a suspended VM).
   */
  vmResume: { args: { vm: string; paused?: boolean; discard?: boolean }; result: { readonly uuid: string; readonly domid: number } };
  /**
   * vm-snapshot (XAPI's VM.snapshot): a halted snapshot VM (is_a_snapshot, snapshot_of) whose
   * disks are read-only snapshots of the VM's VDIs, taken live under a running VM.
   */
  vmSnapshot: { args: { vm: string; name: string }; result: VmInfo };
  /** vm-clone (XAPI's VM.clone): a new halted VM of a halted VM or a snapshot, its disks clones sharing their base. */
  vmClone: { args: { vm: string; name: string }; result: VmInfo };
  /** vm-copy (XAPI's VM.copy): a new halted VM with full copies of a halted VM's (or a snapshot's) disks, into `sr` or each disk's own SR. */
  vmCopy: { args: { vm: string; name: string; sr?: string }; result: VmInfo };
  /** vm-revert (XAPI's VM.revert): the VM a snapshot was taken of, halted, with the snapshot's configuration and clones of its disks. */
  vmRevert: { args: { snapshot: string }; result: VmInfo };
  /**
   * vdi-param-set, sr-param-set, network-param-set, host-param-set, pool-param-set (XAPI's
   * set_name_label, set_name_description, add_to_other_config, remove_from_other_config of those
   * classes): a record (by uuid or name; the pool, and this host, need neither) gets a name, a description, or
   * other_config[key] set (removed when no value is given). A VBD or VIF (by uuid; vbd-param-set,
   * vif-param-set) has only other_config.
   */
  recordSet: {
    args: { cls: 'VDI' | 'SR' | 'network' | 'host' | 'pool' | 'VBD' | 'VIF'; id: string; name?: string; description?: string; otherConfigKey?: string; otherConfigValue?: string };
    result: { uuid: string };
  };
  /** vdi-copy (XAPI's VDI.copy): a new VDI with a full copy of a VDI's contents, in `sr` (its own SR when absent). */
  vdiCopy: { args: { vdi: string; sr?: string; name?: string }; result: VdiInfo };
  /** XAPI's network.create: a network record for a bridge of dom0's switch (made when a vif first joins it). */
  networkCreate: { args: { name: string; bridge?: string; description?: string }; result: { uuid: string; bridge: string } };
  /**
   * network-param-set --default-locking-mode (XAPI's network.set_default_locking_mode): what the
   * network's vifs with no locking mode of their own (network_default) do from their next plug:
   * `disabled` nothing, `unlocked` send from their MAC (xenode's default). Refused (EBUSY) while
   * a vif on the network is plugged, as XAPI refuses it (VIF_IN_USE).
   */
  networkSet: { args: { network: string; defaultLockingMode: 'unlocked' | 'disabled' }; result: { uuid: string } };
}

export interface GcResult {
  readonly removed: string[];
  readonly coalesced: { readonly parent: string; readonly child: string; readonly leaf: boolean }[];
  readonly deferred: { readonly uuid: string; readonly why: string }[];
}

/** The first line of debug key 'e''s host log entry (Xen's own). */
export const EVTCHN_DUMP_HEADER = "'e' pressed -> dumping event-channel info";

/** Operations that may run as tasks: the long ones, which report progress and can be cancelled. */
export const TASK_OPS = ['vdiImport', 'vdiExport', 'vdiMigrate', 'srGc', 'vmSuspend', 'vmResume', 'migrate', 'vmCopy', 'vdiCopy'] as const;
export type TaskOp = (typeof TASK_OPS)[number];
export type TaskCall = { [K in TaskOp]: { readonly op: K; readonly args: Commands[K]['args'] } }[TaskOp];


/** XAPI's roles, most powerful first: each may do everything the ones after it may. */
export const XAPI_ROLES = ['pool-admin', 'pool-operator', 'vm-power-admin', 'vm-admin', 'vm-operator', 'read-only'] as const;
export type XapiRole = (typeof XAPI_ROLES)[number];

export function isXapiRole(s: string): s is XapiRole {
  return (XAPI_ROLES as readonly string[]).includes(s);
}

/** XenAPI's users, as the command layer manages them (`xenode user-add`). */
export interface UserDirectory {
  /** Add or replace; true when it replaced a user. */
  add(name: string, role: XapiRole, password: string): Promise<boolean>;
}

export type Op = keyof Commands;
export type Args<K extends Op> = Commands[K]['args'];
export type Result<K extends Op> = Commands[K]['result'];

/**
 * Operations that turn their connection into a stream once their reply is out: a console
 * (raw bytes both ways, as a pty carries them) and the host's events (one HostEvent a line).
 */
export interface Streams {
  console: { args: { domain: DomainRef; replay?: boolean }; result: DomainId };
  events: { args: NoArgs; result: NoArgs };
}

export type StreamOp = keyof Streams;

/** One request as the edge decoded it: an operation and its typed arguments. */
export type Request = { [K in Op]: { readonly kind: 'call'; readonly op: K; readonly args: Args<K> } }[Op]
  | { [K in StreamOp]: { readonly kind: 'stream'; readonly op: K; readonly args: Streams[K]['args'] } }[StreamOp];

export interface ConsoleHandlers {
  onOutput(data: Uint8Array): void;
  /** The console went away (its domain was destroyed, or the host stopped). */
  onEnd(): void;
}

/** An attached console viewer. */
export interface ConsoleSession extends DomainId {
  /** Type into the guest's console. */
  write(data: Uint8Array): void;
  /** Detach (onEnd is not called). */
  close(): void;
}

export interface Subscription {
  close(): void;
}

/** What a front end sees of a host, wherever it runs (in this process or behind a socket). */
export interface Toolstack {
  call<K extends Op>(op: K, args: Args<K>): Promise<Result<K>>;
  /** Attach to a domain's console; `replay` delivers the kept log first. */
  console(domain: DomainRef, handlers: ConsoleHandlers, opts?: { replay?: boolean }): Promise<ConsoleSession>;
  /** Every host event from now on; `onEnd` if the host goes away. */
  events(onEvent: (e: HostEvent) => void, onEnd?: () => void): Promise<Subscription>;
  close(): void;
}

/** An argument a caller got wrong: `field` names it (EINVAL on the wire). */
export class InvalidArgument extends XenError {
  override name = 'InvalidArgument';
  constructor(readonly op: string, readonly field: string | null, detail: string) {
    super('EINVAL', `${op}: ${detail}`);
  }
}

/** Reads one operation's arguments, refusing wrong types and unknown keys. */
export class Fields {
  readonly #seen = new Set<string>();
  readonly #raw: Record<string, unknown>;

  constructor(readonly op: string, raw: unknown) {
    if (raw === undefined) raw = {};
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidArgument(op, null, 'arguments must be an object');
    this.#raw = raw as Record<string, unknown>;
  }

  #get(key: string): unknown {
    this.#seen.add(key);
    return Object.hasOwn(this.#raw, key) ? this.#raw[key] : undefined;
  }

  #fail(key: string, want: string): InvalidArgument {
    return new InvalidArgument(this.op, key, `${key} must be ${want}`);
  }

  string(key: string): string {
    const v = this.#get(key);
    if (typeof v !== 'string' || v === '') throw this.#fail(key, 'a non-empty string');
    return v;
  }

  optionalString(key: string): string | undefined {
    const v = this.#get(key);
    if (v !== undefined && typeof v !== 'string') throw this.#fail(key, 'a string');
    return v;
  }

  /** An optional flag: absent reads as false. */
  bool(key: string): boolean {
    const v = this.#get(key);
    if (v !== undefined && typeof v !== 'boolean') throw this.#fail(key, 'true or false');
    return v === true;
  }

  optionalBool(key: string): boolean | undefined {
    const v = this.#get(key);
    if (v !== undefined && typeof v !== 'boolean') throw this.#fail(key, 'true or false');
    return v;
  }

  optionalInteger(key: string, min: number, max: number): number | undefined {
    const v = this.#get(key);
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= min && (v as number) <= max)) throw this.#fail(key, `an integer in ${min}..${max}`);
    return v as number | undefined;
  }

  /** An optional object of non-empty strings. */
  stringMap(key: string): Record<string, string> | undefined {
    const v = this.#get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string' && x !== '')) throw this.#fail(key, 'an object of non-empty strings');
    return { ...(v as Record<string, string>) };
  }

  domain(key = 'domain'): DomainRef {
    const v = this.#get(key);
    if (!isDomainRef(v)) throw this.#fail(key, 'a domain name or id');
    return v;
  }

  optionalDomain(key = 'domain'): DomainRef | undefined {
    const v = this.#get(key);
    if (v !== undefined && !isDomainRef(v)) throw this.#fail(key, 'a domain name or id');
    return v as DomainRef | undefined;
  }

  domains(key: string): DomainRef[] | undefined {
    const v = this.#get(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every(isDomainRef)) throw this.#fail(key, 'a list of domain names or ids');
    return v;
  }

  /** An operation to run as a task: {op, args}, the op one of TASK_OPS, its args decoded as that op's. */
  taskCall(key: string): TaskCall {
    const v = this.#get(key);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw this.#fail(key, 'an object {op, args}');
    const { op, args, ...rest } = v as Record<string, unknown>;
    if (Object.keys(rest).length) throw this.#fail(key, 'an object with only op and args');
    if (typeof op !== 'string' || !(TASK_OPS as readonly string[]).includes(op)) throw this.#fail(key, `{op, args} with op one of ${TASK_OPS.join(', ')}`);
    const k = op as TaskOp;
    try {
      return { op: k, args: COMMAND_ARGS[k](new Fields(k, args)) } as TaskCall;
    } catch (e) {
      throw new InvalidArgument(this.op, key, `${key}.args of ${k}: ${(e as Error).message.replace(/^EINVAL: /, '')}`);
    }
  }

  /** Call last: an argument nobody asked for is a mistake of the caller's. */
  done<T>(value: T): T {
    const extra = Object.keys(this.#raw).filter((k) => !this.#seen.has(k));
    if (extra.length) throw new InvalidArgument(this.op, extra[0]!, `unknown argument ${extra.map((k) => `'${k}'`).join(', ')}`);
    return value;
  }
}

export function isDomainRef(v: unknown): v is DomainRef {
  return (typeof v === 'string' && v !== '' && v.length <= 256) || (Number.isInteger(v) && (v as number) >= 0 && (v as number) < DOMID_FIRST_RESERVED);
}

type Decoder<T> = (f: Fields) => T;

const domainOnly: Decoder<{ domain: DomainRef }> = (f) => f.done({ domain: f.domain() });
const none: Decoder<NoArgs> = (f) => f.done({});

/** Each operation's decoder: the one place where raw arguments become typed ones. */
export const COMMAND_ARGS: { readonly [K in Op]: Decoder<Args<K>> } = {
  create: (f) => {
    const file = f.string('file');
    if (!file.startsWith('/')) throw new InvalidArgument('create', 'file', `the configuration file must be an absolute path, not '${file}'`);
    const text = f.optionalString('text');
    return f.done({ file, ...(text !== undefined && { text }), paused: f.bool('paused') });
  },
  list: (f) => {
    const domains = f.domains('domains');
    return f.done({ ...(domains && { domains }), long: f.bool('long') });
  },
  listColumns: (f) => {
    const domains = f.domains('domains');
    return f.done({ ...(domains && { domains }) });
  },
  lookup: domainOnly,
  destroy: domainOnly,
  shutdown: (f) => f.done({ domain: f.domain(), reboot: f.bool('reboot') }),
  pause: domainOnly,
  hardReboot: domainOnly,
  unpause: domainOnly,
  rename: (f) => f.done({ domain: f.domain(), name: f.string('name') }),
  blockAttach: (f) => f.done({ domain: f.domain(), spec: f.string('spec') }),
  blockDetach: (f) => f.done({ domain: f.domain(), vdev: f.string('vdev'), force: f.bool('force') }),
  blockList: domainOnly,
  networkAttach: (f) => f.done({ domain: f.domain(), spec: f.optionalString('spec') ?? '' }),
  networkDetach: (f) => f.done({ domain: f.domain(), vif: f.string('vif'), force: f.bool('force') }),
  networkList: domainOnly,
  networkForward: (f) => f.done({ domain: f.domain(), spec: f.string('spec'), remove: f.bool('remove') }),
  networkForwardList: (f) => {
    const domain = f.optionalDomain();
    return f.done(domain === undefined ? {} : { domain });
  },
  bridgeTap: (f) => {
    const bridge = f.string('bridge');
    const tap = f.string('tap');
    const address = f.optionalString('address');
    return f.done({ bridge, tap, ...(address !== undefined && { address }), remove: f.bool('remove') });
  },
  networkGateway: (f) => {
    const bridge = f.string('bridge');
    const restrict = f.optionalString('restrict');
    if (restrict !== undefined && restrict !== 'on' && restrict !== 'off') throw new InvalidArgument('networkGateway', 'restrict', "restrict must be 'on' or 'off'");
    return f.done({ bridge, ...(restrict !== undefined && { restrict }) });
  },
  consoleLog: domainOnly,
  info: none,
  deviceStats: none,
  dmesg: (f) => f.done({ clear: f.bool('clear') }),
  debugKeys: (f) => f.done({ keys: f.string('keys') }),
  stop: none,
  userAdd: (f) => {
    const name = f.string('name');
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/.test(name)) throw new InvalidArgument('userAdd', 'name', `a user name is 1-64 letters, digits, '_', '.', '@' or '-', not '${name.slice(0, 80)}'`);
    // XAPI's sessions of root are grouped with the host's own (the local socket's), not as a user's.
    if (name === 'root') throw new InvalidArgument('userAdd', 'name', "'root' is the host's own user (the local socket's): give another name");
    const role = f.string('role');
    if (!isXapiRole(role)) throw new InvalidArgument('userAdd', 'role', `role must be one of ${XAPI_ROLES.join(', ')}`);
    const password = f.string('password');
    if (password.length > 1024) throw new InvalidArgument('userAdd', 'password', 'a password is at most 1024 characters');
    return f.done({ name, role, password });
  },
  bridgeList: none,
  capture: (f) => {
    const target = f.string('target');
    const file = f.string('file');
    if (!file.startsWith('/')) throw new InvalidArgument('capture', 'file', `the capture file must be an absolute path, not '${file}'`);
    const count = f.optionalInteger('count', 1, Number.MAX_SAFE_INTEGER);
    const snaplen = f.optionalInteger('snaplen', 1, 262_144);
    const maxBytes = f.optionalInteger('maxBytes', 24, 2 ** 32);
    return f.done({ target, file, ...(count !== undefined && { count }), ...(snaplen !== undefined && { snaplen }), ...(maxBytes !== undefined && { maxBytes }) });
  },
  captureStop: (f) => f.done({ file: f.string('file') }),
  bridgeLink: (f) => {
    const bridge = f.string('bridge');
    const remote = f.string('remote');
    const local = f.optionalString('local');
    const vni = f.optionalInteger('vni', 0, 0xff_ffff);
    return f.done({ bridge, remote, ...(local !== undefined && { local }), ...(vni !== undefined && { vni }) });
  },
  bridgeUnlink: (f) => f.done({ bridge: f.string('bridge'), remote: f.string('remote') }),
  srList: none,
  srCreate: (f) => {
    const name = f.string('name');
    const type = f.string('type');
    if (!(SR_TYPES as readonly string[]).includes(type)) throw new InvalidArgument('srCreate', 'type', `type must be one of ${SR_TYPES.join(', ')}, not '${type}'`);
    const path = f.optionalString('path');
    const description = f.optionalString('description');
    return f.done({ name, type: type as SrType, ...(path !== undefined && { path }), ...(description !== undefined && { description }) });
  },
  srScan: (f) => f.done({ sr: f.string('sr') }),
  vdiCreate: (f) => {
    const args = { sr: f.string('sr'), name: f.string('name'), size: f.string('size') };
    const format = f.optionalString('format');
    const description = f.optionalString('description');
    return f.done({ ...args, ...(format !== undefined && { format }), ...(description !== undefined && { description }) });
  },
  vdiList: (f) => {
    const sr = f.optionalString('sr');
    return f.done(sr === undefined ? {} : { sr });
  },
  vdiDestroy: (f) => f.done({ vdi: f.string('vdi') }),
  vdiResize: (f) => f.done({ vdi: f.string('vdi'), size: f.string('size') }),
  vdiImport: (f) => {
    const args = { sr: f.string('sr'), file: f.string('file') };
    const name = f.optionalString('name');
    const format = f.optionalString('format');
    const description = f.optionalString('description');
    return f.done({ ...args, ...(name !== undefined && { name }), ...(format !== undefined && { format }), ...(description !== undefined && { description }) });
  },
  vdiExport: (f) => f.done({ vdi: f.string('vdi'), file: f.string('file'), format: f.string('format') }),
  vdiSnapshot: (f) => {
    const args = { vdi: f.string('vdi'), name: f.string('name'), clone: f.bool('clone') };
    const description = f.optionalString('description');
    return f.done({ ...args, ...(description !== undefined && { description }) });
  },
  vdiMigrate: (f) => f.done({ vdi: f.string('vdi'), sr: f.string('sr') }),
  srGc: (f) => f.done({ sr: f.string('sr') }),
  taskSubmit: (f) => f.done({ call: f.taskCall('call') }),
  taskGet: (f) => f.done({ task: f.string('task') }),
  taskList: none,
  taskCancel: (f) => f.done({ task: f.string('task') }),
  save: (f) => {
    const domain = f.domain();
    const file = absoluteFile(f.string('file'), 'save');
    const timeoutMs = f.optionalInteger('timeoutMs', 1, 3_600_000);
    return f.done({ domain, file, checkpoint: f.bool('checkpoint'), paused: f.bool('paused'), ...(timeoutMs !== undefined && { timeoutMs }) });
  },
  restore: (f) => f.done({ file: absoluteFile(f.string('file'), 'restore'), paused: f.bool('paused') }),
  migrate: (f) => {
    const domain = f.domain();
    const target = f.string('target');
    const token = f.string('token');
    if (!isToken(token)) throw new InvalidArgument('migrate', 'token', `a migration token is ${TOKEN_HEX} lowercase hex digits (the destination's migration-token file)`);
    const maxRounds = f.optionalInteger('maxRounds', 1, 100);
    const dirtyThreshold = f.optionalInteger('dirtyThreshold', 0, 1 << 20);
    const withDisks = f.bool('withDisks');
    const vdiMap = f.stringMap('vdiMap');
    return f.done({ domain, target, token, ...(maxRounds !== undefined && { maxRounds }), ...(dirtyThreshold !== undefined && { dirtyThreshold }),
      ...(withDisks && { withDisks }), ...(vdiMap !== undefined && { vdiMap }) });
  },
  cpupoolCreate: (f) => {
    const name = f.string('name');
    const cpus = f.optionalInteger('cpus', 1, 64);
    if (cpus === undefined) throw new InvalidArgument('cpupoolCreate', 'cpus', 'cpus must be given: the number of pCPU threads, 1..64');
    const sched = f.optionalString('sched');
    if (sched !== undefined && sched !== 'credit') throw new InvalidArgument('cpupoolCreate', 'sched', `sched must be credit (the one scheduler here), not '${sched.slice(0, 40)}'`);
    const shells = f.optionalInteger('shells', 0, MAX_POOL_SHELLS);
    const shellMemory = f.optionalInteger('shellMemory', MIN_MEMORY_MIB, 1 << 20);
    return f.done({ name, cpus, ...(sched !== undefined && { sched }), ...(shells !== undefined && { shells }), ...(shellMemory !== undefined && { shellMemory }) });
  },
  cpupoolList: none,
  summon: (f) => {
    const name = f.string('name');
    const file = f.string('file');
    if (!file.startsWith('/')) throw new InvalidArgument('summon', 'file', `the configuration file must be an absolute path, not '${file}'`);
    const text = f.optionalString('text');
    return f.done({ name, file, ...(text !== undefined && { text }) });
  },
  summonList: none,
  summonForward: (f) => {
    const spec = f.string('spec');
    const vm = f.optionalString('vm');
    const file = f.optionalString('file');
    const text = f.optionalString('text');
    const remove = f.bool('remove');
    if (remove) return f.done({ spec, remove });
    if (vm === undefined && file === undefined) throw new InvalidArgument('summonForward', 'file', 'give the configuration file (file) or the halted VM (vm) the forward boots');
    if (vm !== undefined && file !== undefined) throw new InvalidArgument('summonForward', 'vm', 'give the halted VM (vm) or the configuration file (file), not both');
    if (file !== undefined && !file.startsWith('/')) throw new InvalidArgument('summonForward', 'file', `the configuration file must be an absolute path, not '${file}'`);
    if (text !== undefined && file === undefined) throw new InvalidArgument('summonForward', 'text', 'text is the content of file: give file too');
    return f.done({ spec, ...(vm !== undefined && { vm }), ...(file !== undefined && { file }), ...(text !== undefined && { text }) });
  },
  summonForwardList: none,
  unsummon: (f) => f.done({ name: f.string('name') }),
  cpupoolDestroy: (f) => f.done({ name: f.string('name') }),
  cpupoolMigrate: (f) => f.done({ domain: f.domain(), pool: f.string('pool') }),
  vmImport: (f) => {
    const file = f.string('file');
    if (!file.startsWith('/')) throw new InvalidArgument('vmImport', 'file', `the configuration file must be an absolute path, not '${file}'`);
    const text = f.optionalString('text');
    const description = f.optionalString('description');
    return f.done({ file, ...(text !== undefined && { text }), ...(description !== undefined && { description }) });
  },
  vmStart: (f) => f.done({ vm: f.string('vm'), paused: f.bool('paused') }),
  vmList: none,
  vmSuspend: (f) => f.done({ vm: f.string('vm') }),
  vmResume: (f) => {
    const vm = f.string('vm');
    const paused = f.bool('paused');
    const discard = f.bool('discard');
    if (paused && discard) throw new InvalidArgument('vmResume', 'discard', 'discard halts the VM: it cannot also be resumed paused');
    return f.done({ vm, ...(paused && { paused }), ...(discard && { discard }) });
  },
  vmUninstall: (f) => f.done({ vm: f.string('vm') }),
  vmDevice: (f) => {
    const vm = f.string('vm');
    const changes = {
      disk: f.optionalString('disk'), vif: f.optionalString('vif'), removeDisk: f.optionalString('removeDisk'), removeVif: f.optionalString('removeVif'),
      plugDisk: f.optionalString('plugDisk'), unplugDisk: f.optionalString('unplugDisk'), plugVif: f.optionalString('plugVif'), unplugVif: f.optionalString('unplugVif'),
    };
    const given = Object.entries(changes).filter(([, v]) => v !== undefined);
    if (given.length !== 1) throw new InvalidArgument('vmDevice', 'disk', `give exactly one of ${Object.keys(changes).join(', ')}`);
    const force = f.bool('force');
    return f.done({ vm, [given[0]![0]]: given[0]![1], ...(force && { force }) });
  },
  vmSnapshot: (f) => f.done({ vm: f.string('vm'), name: f.string('name') }),
  vmClone: (f) => f.done({ vm: f.string('vm'), name: f.string('name') }),
  vmCopy: (f) => {
    const args = { vm: f.string('vm'), name: f.string('name') };
    const sr = f.optionalString('sr');
    return f.done({ ...args, ...(sr !== undefined && { sr }) });
  },
  vmRevert: (f) => f.done({ snapshot: f.string('snapshot') }),
  recordSet: (f) => {
    const cls = f.string('cls');
    if (!['VDI', 'SR', 'network', 'host', 'pool', 'VBD', 'VIF'].includes(cls)) throw new InvalidArgument('recordSet', 'cls', 'cls must be VDI, SR, network, host, pool, VBD or VIF');
    const id = cls === 'pool' || cls === 'host' ? (f.optionalString('id') ?? '') : f.string('id');
    const name = f.optionalString('name');
    const description = f.optionalString('description');
    const otherConfigKey = f.optionalString('otherConfigKey');
    const otherConfigValue = f.optionalString('otherConfigValue');
    if (otherConfigValue !== undefined && otherConfigKey === undefined) throw new InvalidArgument('recordSet', 'otherConfigKey', 'otherConfigKey must name the key otherConfigValue is for');
    return f.done({
      cls: cls as Args<'recordSet'>['cls'], id, ...(name !== undefined && { name }), ...(description !== undefined && { description }),
      ...(otherConfigKey !== undefined && { otherConfigKey }), ...(otherConfigValue !== undefined && { otherConfigValue }),
    });
  },
  vdiCopy: (f) => {
    const vdi = f.string('vdi');
    const sr = f.optionalString('sr');
    const name = f.optionalString('name');
    return f.done({ vdi, ...(sr !== undefined && { sr }), ...(name !== undefined && { name }) });
  },
  vifSet: (f) => {
    const vm = f.string('vm');
    const vif = f.string('vif');
    const lockingMode = f.optionalString('lockingMode');
    if (lockingMode !== undefined && !['network_default', 'locked', 'unlocked', 'disabled'].includes(lockingMode)) {
      throw new InvalidArgument('vifSet', 'lockingMode', 'must be network_default, locked, unlocked or disabled');
    }
    const ipv4Allowed = f.optionalString('ipv4Allowed');
    const ipv6Allowed = f.optionalString('ipv6Allowed');
    return f.done({
      vm, vif, ...(lockingMode !== undefined && { lockingMode: lockingMode as Args<'vifSet'>['lockingMode'] & string }),
      ...(ipv4Allowed !== undefined && { ipv4Allowed }), ...(ipv6Allowed !== undefined && { ipv6Allowed }),
    });
  },
  vbdSet: (f) => {
    const vm = f.string('vm');
    const vbd = f.string('vbd');
    const mode = f.optionalString('mode');
    if (mode !== undefined && mode !== 'RO' && mode !== 'RW') throw new InvalidArgument('vbdSet', 'mode', 'must be RO or RW');
    const bootable = f.optionalBool('bootable');
    const userdevice = f.optionalInteger('userdevice', 0, 701);
    if (mode === undefined && bootable === undefined && userdevice === undefined) throw new InvalidArgument('vbdSet', 'mode', 'give mode, bootable or userdevice');
    return f.done({
      vm, vbd, ...(mode !== undefined && { mode: mode as 'RO' | 'RW' }), ...(bootable !== undefined && { bootable }), ...(userdevice !== undefined && { userdevice }),
    });
  },
  networkSet: (f) => {
    const network = f.string('network');
    const mode = f.string('defaultLockingMode');
    if (mode !== 'unlocked' && mode !== 'disabled') throw new InvalidArgument('networkSet', 'defaultLockingMode', 'must be unlocked or disabled');
    return f.done({ network, defaultLockingMode: mode });
  },
  networkCreate: (f) => {
    const name = f.string('name');
    const bridge = f.optionalString('bridge');
    const description = f.optionalString('description');
    return f.done({ name, ...(bridge !== undefined && { bridge }), ...(description !== undefined && { description }) });
  },
  vmSet: (f) => {
    const vm = f.string('vm');
    const name = f.optionalString('name');
    const description = f.optionalString('description');
    const memory = f.optionalInteger('memory', 1, 2 ** 20);
    const maxmem = f.optionalInteger('maxmem', 1, 2 ** 20);
    const otherConfigKey = f.optionalString('otherConfigKey');
    const otherConfigValue = f.optionalString('otherConfigValue');
    if (otherConfigValue !== undefined && otherConfigKey === undefined) throw new InvalidArgument('vmSet', 'otherConfigKey', 'otherConfigKey must name the key otherConfigValue is for');
    return f.done({
      vm, ...(name !== undefined && { name }), ...(description !== undefined && { description }), ...(memory !== undefined && { memory }),
      ...(maxmem !== undefined && { maxmem }), ...(otherConfigKey !== undefined && { otherConfigKey }), ...(otherConfigValue !== undefined && { otherConfigValue }),
    });
  },
};

function absoluteFile(file: string, op: 'save' | 'restore'): string {
  if (!file.startsWith('/')) throw new InvalidArgument(op, 'file', `the save file must be an absolute path, not '${file}'`);
  return file;
}

export const STREAM_ARGS: { readonly [K in StreamOp]: Decoder<Streams[K]['args']> } = {
  console: (f) => f.done({ domain: f.domain(), replay: f.bool('replay') }),
  events: none,
};

const OPS = Object.keys(COMMAND_ARGS) as Op[];

/** A request's operation and raw arguments, validated: ENOSYS for an unknown op, InvalidArgument for bad arguments. */
export function decodeRequest(op: string, raw: unknown): Request {
  if (Object.hasOwn(COMMAND_ARGS, op)) {
    const k = op as Op;
    return { kind: 'call', op: k, args: COMMAND_ARGS[k](new Fields(k, raw)) } as Request;
  }
  if (Object.hasOwn(STREAM_ARGS, op)) {
    const k = op as StreamOp;
    return { kind: 'stream', op: k, args: STREAM_ARGS[k](new Fields(k, raw)) } as Request;
  }
  throw new XenError('ENOSYS', `unknown operation '${op}' (known: ${[...OPS, ...Object.keys(STREAM_ARGS)].join(', ')})`);
}
