// The toolstack's command API: every feature of the `xenode` command (and later XenAPI) is one
// operation of contract.ts, implemented once, by one row of the handler table below. The host
// daemon serves it on its control socket (server.ts), the CLI reaches it through client.ts,
// and `xenode run`/`xenode demo` call a ToolstackApi in-process. Raw input is validated at the
// edge (contract.ts's decodeRequest); handlers take typed arguments.
import { availableParallelism, cpus, freemem, hostname, machine, release, totalmem, version } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { PAGE_SIZE } from '../abi/xen.js';
import { XenError } from '../errors.js';
import type { Domain } from '../hypervisor/hypervisor.js';
import { VERSION } from '../version.js';
import { MAIN_WAIT_MS, mainLate, type BuiltDomain } from './builder.js';
import type { BlkbackStats } from '../drivers/blk/back/queue.js';
import type {
  Args, ConsoleHandlers, ConsoleSession, CpupoolInfo, CreateResult, DiskDevice, DomainColumns, DomainId, DomainInfo, DomainRef, HostEvent, HostInfo, NicDevice, Op, Result,
  SrInfo, Subscription, Toolstack, UserDirectory, VdiInfo, VmChanges, VmInfo,
} from './contract.js';
import { findVm, unpluggedOf, userdevice, vdevOf, vmInfo } from './vms.js';
import type { Ref, VMRecord } from './db/records.js';
import type { DomainConfig, DomainVif } from './domconfig.js';
import { domainNameProblem } from './domconfig.js';
import type { SrView } from '../storage/sr.js';
import type { VdiView } from '../storage/vdi.js';
import { dom0VbdDeviceStats, dom0VbdStats, listDisks } from './devices.js';
import { DiskSpecError, parseDiskSpec, vdevToDevid, type DiskSpec } from './diskspec.js';
import { VifSpecError, parseVifSpec, type VifSpec } from './vifspec.js';
import { dom0VifDeviceTraffic, dom0VifTraffic, listVifs, settleVifMacs, type VifTraffic } from './vifs.js';
import { DEFAULT_MEMORY_MIB, MAX_CONFIG_BYTES, loadDomainConfig, parseDomainConfig } from './domconfig.js';
import type { Host } from './host.js';
import { bridgeInfos, linkInfo } from '../network/info.js';
import { parseEndpoint } from '../network/vxlan.js';
import { parseForwardSpec } from '../network/gateway/forwardspec.js';
import type { HostLog } from './hostlog.js';
import { checkDebugKeys, hostEvtchnInfo } from './debug-keys.js';
import { Tasks, taskControl } from './tasks.js';
import { saveDomain } from '../migration/save.js';
import { restoreFile, type RestoreInfo } from '../migration/restore.js';
import { discardSuspend, resumeVm, suspendVm } from './suspend.js';
import { migrateDomain } from '../migration/migrate.js';
import { cloneVm, revertVm, type VmCopyMode } from './vmclone.js';
import { setNetworkLocking, setParams } from './params.js';

const TAIL_LINES = 5;
/** blkback counts sectors of 512 bytes, whatever the disk's own sector size. */
const SECTOR = 512;

function consoleTail(data: Uint8Array): string {
  const lines = Buffer.from(data).toString('utf8').trimEnd().split('\n');
  return lines.slice(-TAIL_LINES).join(' | ');
}

type Handler<K extends Op> = (args: Args<K>) => Result<K> | Promise<Result<K>>;

interface BootWaiter {
  /** Settles the create: with no error, as booted. */
  settle(e?: Error): void;
}

export interface ToolstackApiOptions {
  readonly log: HostLog;
  /** How `stop` stops the host; absent for an in-process host, which refuses it. */
  readonly onStop?: () => void;
}

/** The command API over an in-process Host. */
export class ToolstackApi implements Toolstack {
  readonly #host: Host;
  readonly #log: HostLog;
  readonly #onStop: (() => void) | undefined;
  /** XenAPI's users; none on a host that serves no XenAPI. */
  #users: UserDirectory | undefined;
  readonly #viewers = new Map<number, Set<ConsoleHandlers>>();
  readonly #booting = new Map<number, BootWaiter>();
  readonly #tasks = new Tasks();

  constructor(host: Host, opts: ToolstackApiOptions) {
    this.#host = host;
    this.#log = opts.log;
    this.#log.setMaxListeners(0);
    this.#onStop = opts.onStop;
    // One listener each, dispatched by domid: a thousand guests must not mean a thousand listeners.
    host.consoled.on('output', (domid, data) => {
      for (const v of this.#viewers.get(domid) ?? []) v.onOutput(data);
    });
    host.consoled.on('broken', (domid) => this.#endViewers(domid));
    host.on('shutdown', (domid, name, reason) => {
      const waiter = this.#booting.get(domid);
      if (!waiter) return;
      // A crash in main() may reach dom0 before the guest's 'main' status (another port).
      if (host.hv.findDomain(domid)?.mainCalled) return waiter.settle();
      const tail = consoleTail(host.consoled.log(domid));
      waiter.settle(new XenError('ENOEXEC', `domain '${name}' (id ${domid}) shut down (${reason}) before its main() ran${tail ? `: ${tail}` : ''}`));
    });
    host.on('destroyed', (domid, name) => {
      this.#booting.get(domid)?.settle(new XenError('ESRCH', `domain '${name}' (id ${domid}) was destroyed while it booted`));
      this.#endViewers(domid);
    });
  }

  call<K extends Op>(op: K, args: Args<K>): Promise<Result<K>> {
    // A handler that throws at once rejects like one that fails later.
    return Promise.resolve().then(() => this.#handlers[op](args));
  }

  /** One row per operation: the compiler refuses an operation of the contract without one. */
  readonly #handlers: { readonly [K in Op]: Handler<K> } = {
    create: (a) => this.#create(a.file, a.text, a.paused === true),
    list: async (a) => {
      const domains = a.domains ? a.domains.map((r) => this.#resolve(r)) : this.#host.domains();
      const [vbd, net] = await Promise.all([dom0VbdStats(this.#host), dom0VifTraffic(this.#host.hv)]);
      return domains.map((d) => this.#info(d, a.long === true, vbd.get(d.domid), net.get(d.domid)));
    },
    listColumns: (a) => this.#columns(a.domains ? a.domains.map((r) => this.#resolve(r)) : this.#host.domains()),
    lookup: (a) => id(this.#resolve(a.domain)),
    destroy: (a) => this.#destroy(a.domain),
    shutdown: async (a) => {
      const d = this.#resolve(a.domain);
      await this.#host.requestShutdown(d.domid, a.reboot ? 'reboot' : 'poweroff');
      return id(d);
    },
    pause: async (a) => {
      const d = this.#resolve(a.domain);
      await this.#host.pause(d.domid);
      return id(d);
    },
    hardReboot: async (a) => {
      const d = this.#resolve(a.domain);
      const built = await this.#host.hardReboot(d.domid);
      return id(built.domain);
    },
    unpause: async (a) => {
      const d = this.#resolve(a.domain);
      await this.#host.unpause(d.domid);
      return id(d);
    },
    rename: async (a) => {
      const d = this.#resolve(a.domain);
      await this.#host.rename(d.domid, a.name);
      return id(d);
    },
    blockAttach: (a) => this.#attachDisk(a.domain, parseDisk(a.spec)),
    blockDetach: async (a) => {
      const d = this.#resolve(a.domain);
      await this.#host.detachDisk(d.domid, a.vdev, a.force === true);
      return id(d);
    },
    blockList: (a) => listDisks(this.#host.devices, this.#resolve(a.domain).domid),
    networkAttach: (a) => this.#attachVif(a.domain, parseVif(a.spec)),
    networkDetach: async (a) => {
      const d = this.#resolve(a.domain);
      await this.#host.detachVif(d.domid, a.vif, a.force === true);
      return id(d);
    },
    networkList: (a) => listVifs(this.#host.devices, this.#resolve(a.domain).domid),
    networkForward: (a) => {
      const d = this.#resolve(a.domain);
      const spec = parseForwardSpec(a.spec);
      return a.remove ? this.#host.removeForward(d.domid, spec) : this.#host.addForward(d.domid, spec);
    },
    networkForwardList: (a) => this.#host.forwards.list(a.domain === undefined ? undefined : this.#resolve(a.domain).domid),
    networkGateway: (a) => {
      const gw = this.#host.gateway(a.bridge);
      if (a.restrict !== undefined) gw.restrict = a.restrict === 'on';
      return gw.info();
    },
    consoleLog: (a) => {
      const d = this.#guestWithConsole(a.domain);
      return { ...id(d), data: Buffer.from(this.#host.consoled.log(d.domid)).toString('base64') };
    },
    info: () => this.#hostInfo(),
    deviceStats: async () => {
      const [vbds, vifs] = await Promise.all([dom0VbdDeviceStats(this.#host), dom0VifDeviceTraffic(this.#host.hv)]);
      return this.#host.domains().filter((d) => vbds.has(d.domid) || vifs.has(d.domid)).map((d) => {
        const disks = this.#host.config(d.domid)?.disks ?? [];
        return {
          ...id(d),
          vbds: (vbds.get(d.domid) ?? []).map(({ devid, stats }) => ({
            vdev: disks.find((k) => k.devid === devid)?.vdev ?? String(devid), readBytes: stats.rdSect * SECTOR, writeBytes: stats.wrSect * SECTOR,
          })),
          vifs: vifs.get(d.domid) ?? [],
        };
      });
    },
    dmesg: (a) => {
      const entries = [...this.#log.entries()];
      if (a.clear) this.#log.clear();
      return entries;
    },
    debugKeys: async (a) => {
      checkDebugKeys(a.keys);
      // Only 'e' is known (checkDebugKeys): dumped once however often it is given, as one entry.
      this.#log.record({ type: 'message', text: (await hostEvtchnInfo(this.#host)).join('\n') });
      return {};
    },
    stop: () => {
      const stop = this.#onStop;
      if (!stop) throw new XenError('EOPNOTSUPP', 'this host runs inside another command and stops with it');
      // After this reply has gone out.
      setImmediate(stop);
      return {};
    },
    userAdd: async (a) => {
      if (!this.#users) throw new XenError('EOPNOTSUPP', 'this host serves no XenAPI, so it has no users');
      return { name: a.name, role: a.role, replaced: await this.#users.add(a.name, a.role, a.password) };
    },
    bridgeList: async () => ({ bridges: bridgeInfos(this.#host.switch), links: (await this.#host.switch.links()).map(linkInfo) }),
    capture: (a) => this.#host.switch.captureToFile(a.target, a.file, a),
    captureStop: (a) => ({ stopped: this.#host.switch.stopCapture(a.file) }),
    bridgeLink: async (a) => linkInfo(await this.#host.switch.link(a.bridge, parseEndpoint(a.remote),
      { ...(a.local !== undefined && { local: parseEndpoint(a.local, { local: true }) }), ...(a.vni !== undefined && { vni: a.vni }) })),
    bridgeUnlink: async (a) => {
      const remote = parseEndpoint(a.remote);
      const link = (await this.#host.switch.links()).find((l) => l.bridge === a.bridge && l.remote.address === remote.address && l.remote.port === remote.port);
      if (!link) throw new XenError('ENOENT', `bridge ${a.bridge} has no link to ${a.remote}`);
      const info = linkInfo(link);
      link.unlink();
      return info;
    },
    bridgeTap: async (a) => {
      if (a.remove) return this.#host.detachTap(a.tap, a.bridge).info;
      return (await this.#host.attachTap(a.bridge, a.tap, a.address)).info;
    },
    srList: async () => (await this.#host.storage.list()).map(srInfo),
    srCreate: async (a) => srInfo(await this.#host.storage.create(a)),
    srScan: (a) => this.#host.vdis.scan(a.sr),
    vdiCreate: async (a) => vdiInfo(await this.#host.vdis.create(a)),
    vdiList: async (a) => (await this.#host.vdis.list(a.sr)).map(vdiInfo),
    vdiDestroy: (a) => this.#host.vdis.destroy(a.vdi),
    vdiResize: async (a) => vdiInfo(await this.#host.vdis.resize(a.vdi, a.size)),
    vdiImport: async (a) => vdiInfo(await this.#host.vdis.import(a, taskControl())),
    vdiExport: (a) => this.#host.vdis.export(a.vdi, a, taskControl()),
    vdiSnapshot: async (a) => {
      const v = await this.#host.vdis.snapshot(a.vdi, { name: a.name, clone: a.clone === true, ...(a.description !== undefined && { description: a.description }) });
      return { ...vdiInfo(v), paused_ms: v.pausedMs };
    },
    vdiMigrate: async (a) => {
      const v = await this.#host.vdis.migrate(a.vdi, a.sr, taskControl());
      return { ...vdiInfo(v), max_paused_ms: v.maxPausedMs, copied_bytes: v.copiedBytes, mirrored_bytes: v.mirroredBytes };
    },
    srGc: async (a) => this.#host.vdis.collectGarbage(await this.#host.storage.resolve(a.sr), taskControl()),
    taskSubmit: (a) => this.#tasks.start(a.call.op, () => this.call(a.call.op, a.call.args as never)),
    taskGet: (a) => this.#tasks.get(a.task),
    taskList: () => this.#tasks.list(),
    taskCancel: (a) => this.#tasks.cancel(a.task),
    save: async (a) => {
      const d = this.#resolve(a.domain);
      if (d.domid === 0) throw new XenError('EPERM', 'Domain-0 cannot be saved');
      const r = await saveDomain(this.#host, d.domid, a.file, {
        checkpoint: a.checkpoint === true, paused: a.paused === true, ...(a.timeoutMs !== undefined && { timeoutMs: a.timeoutMs }),
      });
      return { ...id(d), ...r };
    },
    migrate: async (a) => {
      const d = this.#resolve(a.domain);
      if (d.domid === 0) throw new XenError('EPERM', 'Domain-0 cannot be migrated');
      // As a task (XenAPI's VM.migrate_send), each of xl's sender messages is a step of progress.
      const ctl = taskControl();
      let said = 0;
      const r = await migrateDomain(this.#host, d.domid, a.target, {
        token: a.token, ...(a.maxRounds !== undefined && { maxRounds: a.maxRounds }), ...(a.dirtyThreshold !== undefined && { dirtyThreshold: a.dirtyThreshold }),
        ...(a.withDisks && { withDisks: true }), ...(a.vdiMap && { vdiMap: a.vdiMap }),
        ...(ctl && { say: () => ctl.progress(++said, said + 1), signal: ctl.signal }),
      });
      return { domid: d.domid, name: d.name.replace(/--migratedaway$/, ''), ...r };
    },
    restore: async (a) => this.#restored(await restoreFile(this.#host, a.file, { paused: a.paused === true }), a.paused === true),
    cpupoolCreate: async (a) => {
      const shells = a.shells ? { shells: { count: a.shells, memory: a.shellMemory ?? DEFAULT_MEMORY_MIB } } : {};
      await this.#host.createCpupool(a.name, a.cpus, 'credit', shells);
      return this.#cpupools().find((p) => p.name === a.name)!;
    },
    cpupoolList: () => this.#cpupools(),
    summon: async (a) => {
      const { config } = await this.#config('summon', a.file, a.text);
      const dns = await this.#host.summoner.listen();
      return { ...this.#host.summoner.add(a.name, config), dns: `${dns.address}:${dns.port}` };
    },
    summonList: () => {
      const at = this.#host.summoner.listening;
      return { dns: at ? `${at.address}:${at.port}` : null, names: this.#host.summoner.list() };
    },
    summonForward: async (a) => {
      const spec = parseForwardSpec(a.spec);
      if (a.remove) return this.#host.summonedForwards.remove(spec);
      if (a.vm !== undefined) return this.#host.summonedForwards.add((await this.#host.storedConfig(a.vm)).config, spec, a.vm);
      const { config } = await this.#config('summonForward', a.file!, a.text);
      return this.#host.summonedForwards.add(config, spec);
    },
    summonForwardList: () => this.#host.summonedForwards.list(),
    unsummon: (a) => {
      this.#host.summoner.remove(a.name);
      return { name: a.name };
    },
    cpupoolDestroy: async (a) => {
      await this.#host.destroyCpupool(a.name);
      return { name: a.name };
    },
    cpupoolMigrate: (a) => {
      const d = this.#resolve(a.domain);
      this.#host.migrateToCpupool(d.domid, a.pool);
      return { ...id(d), pool: a.pool };
    },
    vmImport: async (a) => {
      const { config } = await this.#config('vmImport', a.file, a.text);
      const { ref } = await this.#host.vms.create(config, a.description === undefined ? {} : { name_description: a.description });
      return this.#host.db.read((tx) => vmInfo(tx.VM.get(ref)));
    },
    vmStart: async (a) => this.#boot(await this.#host.start(a.vm, { paused: a.paused === true }), [], a.paused === true),
    vmSuspend: async (a) => {
      const ref = await this.#host.db.read((tx) => findVm(tx, a.vm));
      const r = await suspendVm(this.#host, ref);
      return { ...r, uuid: await this.#host.db.read((tx) => tx.VM.get(ref).uuid) };
    },
    vmResume: async (a) => {
      const { ref, uuid } = await this.#host.db.read((tx) => {
        const ref = findVm(tx, a.vm);
        return { ref, uuid: tx.VM.get(ref).uuid };
      });
      if (a.discard) {
        await discardSuspend(this.#host, ref);
        return { uuid, domid: -1 };
      }
      const r = await this.#restored(await resumeVm(this.#host, ref, { paused: a.paused === true }), a.paused === true);
      return { uuid, domid: r.domid };
    },
    vmList: () => this.#host.db.read((tx) => [...tx.VM.getAllRecords().values()].map(vmInfo)),
    vmUninstall: async (a) => {
      const ref = await this.#host.db.read((tx) => findVm(tx, a.vm));
      const { uuid } = await this.#host.db.read((tx) => tx.VM.get(ref));
      await this.#host.vms.remove(ref);
      return { uuid };
    },
    vmSet: (a) => this.#vmSet(a.vm, a),
    vmDevice: async (a) => {
      const { ref, domid } = await this.#host.db.read((tx) => {
        const ref = findVm(tx, a.vm);
        return { ref, domid: tx.VM.get(ref).domid };
      });
      if (domid >= 0) return vmInfo(await this.#runningVmDevice(ref, domid, a));
      if (a.plugDisk ?? a.unplugDisk ?? a.plugVif ?? a.unplugVif) throw new XenError('EINVAL', `VM ${a.vm} is halted: its devices are plugged when it starts`);
      return vmInfo(await this.#host.vms.reconfigure(ref, (c) => {
        if (a.disk !== undefined) {
          const d = parseDisk(a.disk);
          if (c.disks.some((x) => x.devid === d.devid)) throw new XenError('EEXIST', `the VM has a disk ${d.vdev} already`);
          return { ...c, disks: [...c.disks, d] };
        }
        if (a.vif !== undefined) {
          const v = parseVif(a.vif);
          const devid = v.devid ?? (c.vifs.length ? Math.max(...c.vifs.map((x) => x.devid)) + 1 : 0);
          if (c.vifs.some((x) => x.devid === devid)) throw new XenError('EEXIST', `the VM has a vif ${devid} already`);
          return { ...c, vifs: [...c.vifs, { ...v, devid }] };
        }
        if (a.removeDisk !== undefined) {
          const disks = c.disks.filter((x) => x.vdev !== a.removeDisk && String(x.devid) !== a.removeDisk);
          if (disks.length === c.disks.length) throw new XenError('ENOENT', `the VM has no disk ${a.removeDisk}`);
          return { ...c, disks };
        }
        const which = a.removeVif!.toLowerCase();
        const vifs = c.vifs.filter((x) => String(x.devid) !== which && x.mac !== which);
        if (vifs.length === c.vifs.length) throw new XenError('ENOENT', `the VM has no vif ${a.removeVif}`);
        return { ...c, vifs };
      }));
    },
    vmSnapshot: (a) => this.#cloneVm(a.vm, 'snapshot', { name: a.name }),
    vmClone: (a) => this.#cloneVm(a.vm, 'clone', { name: a.name }),
    vmCopy: (a) => this.#cloneVm(a.vm, 'copy', { name: a.name, ...(a.sr !== undefined && { sr: a.sr }) }),
    vmRevert: async (a) => {
      const ref = await revertVm(this.#host, await this.#host.db.read((tx) => findVm(tx, a.snapshot)));
      return this.#host.db.read((tx) => vmInfo(tx.VM.get(ref)));
    },
    recordSet: (a) => this.#host.db.transaction((tx) => setParams(tx, a)),
    networkSet: (a) => this.#host.db.transaction((tx) => setNetworkLocking(tx, a)),
    vdiCopy: async (a) => vdiInfo(await this.#host.vdis.copy(a.vdi, { ...(a.sr !== undefined && { sr: a.sr }), ...(a.name !== undefined && { name: a.name }) }, taskControl())),
    vifSet: async (a) => {
      // Checked as a vif spec's keys are.
      parseVifSpec([a.lockingMode && a.lockingMode !== 'network_default' && `locking-mode=${a.lockingMode}`,
        a.ipv4Allowed && `ipv4-allowed=${a.ipv4Allowed}`, a.ipv6Allowed && `ipv6-allowed=${a.ipv6Allowed}`].filter(Boolean).join(','));
      const edit = (v: DomainVif): DomainVif => {
        const { lockingMode, ipv4Allowed, ipv6Allowed, ...rest } = v;
        const mode = a.lockingMode === undefined ? lockingMode : a.lockingMode === 'network_default' ? undefined : a.lockingMode;
        const v4 = a.ipv4Allowed === undefined ? ipv4Allowed : a.ipv4Allowed.trim() || undefined;
        const v6 = a.ipv6Allowed === undefined ? ipv6Allowed : a.ipv6Allowed.trim() || undefined;
        return { ...rest, ...(mode && { lockingMode: mode }), ...(v4 && { ipv4Allowed: v4 }), ...(v6 && { ipv6Allowed: v6 }) };
      };
      const which = a.vif.toLowerCase();
      const is = (v: DomainVif) => String(v.devid) === which || v.mac === which;
      const { ref, domid } = await this.#host.db.read((tx) => {
        const ref = findVm(tx, a.vm);
        return { ref, domid: tx.VM.get(ref).domid };
      });
      const config = domid >= 0 ? this.#host.config(domid) : undefined;
      const plugged = config?.vifs.find(is);
      if (plugged) {
        await this.#host.setVifLocking(domid, edit(plugged));
        return vmInfo(await this.#host.db.read((tx) => tx.VM.get(ref)));
      }
      if (domid >= 0) {
        if (!config) throw new XenError('EBUSY', `domain ${domid} is being created or destroyed`);
        const unplugged = await this.#host.db.read((tx) => unpluggedOf(tx.VM.get(ref)));
        if (!unplugged.vifs.some(is)) throw new XenError('ENOENT', `the VM has no vif ${a.vif}`);
        return vmInfo(await this.#host.vms.setUnplugged(ref, (u) => ({ ...u, vifs: u.vifs.map((v) => (is(v) ? edit(v) : v)) })));
      }
      return vmInfo(await this.#host.vms.reconfigure(ref, (c) => {
        if (!c.vifs.some(is)) throw new XenError('ENOENT', `the VM has no vif ${a.vif}`);
        return { ...c, vifs: c.vifs.map((v) => (is(v) ? edit(v) : v)) };
      }));
    },
    vbdSet: async (a) => {
      const ref = await this.#host.db.read((tx) => findVm(tx, a.vm));
      return vmInfo(await this.#host.vms.reconfigure(ref, (c) => {
        const i = c.disks.findIndex((d) => d.vdev === a.vbd || userdevice(d.vdev, d.devid) === a.vbd);
        if (i < 0) throw new XenError('ENOENT', `the VM has no disk ${a.vbd}`);
        let d = c.disks[i]!;
        if (a.mode !== undefined) {
          if (d.cdrom && a.mode === 'RW') throw new XenError('EINVAL', `disk ${d.vdev} is a cdrom drive, always read-only`);
          d = { ...d, access: a.mode === 'RO' ? 'ro' : 'rw' };
        }
        if (a.userdevice !== undefined) {
          const vdev = vdevOf(a.userdevice);
          const devid = vdevToDevid(vdev)!;
          if (c.disks.some((x, j) => j !== i && x.devid === devid)) throw new XenError('EEXIST', `the VM has a disk ${vdev} (userdevice ${a.userdevice}) already`);
          d = { ...d, vdev, devid };
        }
        const rest = c.disks.filter((_, j) => j !== i);
        // The first disk is the one the VM boots from (syncDevices' bootable).
        const at = a.bootable === true ? 0 : a.bootable === false && i === 0 ? Math.min(1, rest.length) : i;
        if (a.bootable === false && rest.length === 0) throw new XenError('EINVAL', `disk ${d.vdev} is the VM's only disk, which it boots from`);
        return { ...c, disks: [...rest.slice(0, at), d, ...rest.slice(at)] };
      }));
    },
    networkCreate: (a) => this.#host.db.transaction((tx) => {
      const bridge = a.bridge ?? `xenbr${tx.network.getAll().length}`;
      if (!/^[A-Za-z0-9_.-]{1,15}$/.test(bridge)) throw new XenError('EINVAL', `bridge '${bridge}' is not a bridge name (1-15 letters, digits, '_', '.', '-')`);
      if (tx.network.where('bridge', bridge).length) throw new XenError('EEXIST', `a network on bridge ${bridge} exists already`);
      const ref = tx.network.create({ name_label: a.name, name_description: a.description ?? '', bridge });
      return { uuid: tx.network.get(ref).uuid, bridge };
    }),
  };

  /** vm-snapshot, vm-clone, vm-copy (vmclone.ts): the new VM. */
  async #cloneVm(vm: string, mode: VmCopyMode, opts: { name: string; sr?: string }): Promise<VmInfo> {
    const ref = await cloneVm(this.#host, await this.#host.db.read((tx) => findVm(tx, vm)), mode, opts);
    return this.#host.db.read((tx) => vmInfo(tx.VM.get(ref)));
  }

  /** A domain restored (xl restore, VM.resume): once its main() runs again, what restore returns. */
  async #restored(built: BuiltDomain & RestoreInfo, paused: boolean): Promise<Result<'restore'>> {
    const t = performance.now();
    const warnings: string[] = [];
    if (!paused && !(await this.#booted(built))) warnings.push(mainLate(built.domain));
    return { ...id(built.domain), warnings, info: built.info, ms: { ...built.timings, main: paused ? 0 : performance.now() - t } };
  }

  /** xl block-attach (and XAPI's VBD.plug). */
  #attachDisk(domain: DomainRef, spec: DiskSpec): Promise<DiskDevice> {
    return this.#host.attachDisk(this.#resolve(domain).domid, spec);
  }

  /** xl network-attach (and XAPI's VIF.plug). */
  async #attachVif(domain: DomainRef, vif: VifSpec): Promise<NicDevice> {
    const d = this.#resolve(domain);
    // xl's default devid: one past the highest in use.
    const ids = (await listVifs(this.#host.devices, d.domid)).map((n) => n.devid);
    return this.#host.attachVif(d.domid, { ...vif, devid: vif.devid ?? (ids.length ? Math.max(...ids) + 1 : 0) });
  }

  /** vmDevice on a running VM: unplugged devices are the record's (vms.ts), plugging is block-attach's and network-attach's. */
  async #runningVmDevice(vm: Ref<'VM'>, domid: number, a: Args<'vmDevice'>): Promise<VMRecord> {
    const vms = this.#host.vms;
    const config = this.#host.config(domid);
    if (!config) throw new XenError('EBUSY', `domain ${domid} is being created or destroyed`);
    const unplugged = await this.#host.db.read((tx) => unpluggedOf(tx.VM.get(vm)));
    const diskOf = (list: readonly DiskSpec[], which: string) => list.find((d) => d.vdev === which || String(d.devid) === which);
    const vifOf = (list: readonly DomainVif[], which: string) => list.find((v) => String(v.devid) === which || v.mac === which.toLowerCase());
    if (a.disk !== undefined) {
      const d = parseDisk(a.disk);
      if ([...config.disks, ...unplugged.disks].some((x) => x.devid === d.devid)) throw new XenError('EEXIST', `the VM has a disk ${d.vdev} already`);
      return vms.setUnplugged(vm, (u) => ({ ...u, disks: [...u.disks, d] }));
    }
    if (a.vif !== undefined) {
      const v = parseVif(a.vif);
      const all = [...config.vifs, ...unplugged.vifs];
      const devid = v.devid ?? (all.length ? Math.max(...all.map((x) => x.devid)) + 1 : 0);
      if (all.some((x) => x.devid === devid)) throw new XenError('EEXIST', `the VM has a vif ${devid} already`);
      const [settled] = settleVifMacs([{ ...v, devid }]);
      return vms.setUnplugged(vm, (u) => ({ ...u, vifs: [...u.vifs, settled!] }));
    }
    if (a.removeDisk !== undefined || a.removeVif !== undefined) {
      const which = (a.removeDisk ?? a.removeVif)!;
      const plugged = a.removeDisk !== undefined ? diskOf(config.disks, which) : vifOf(config.vifs, which);
      if (plugged) throw new XenError('EBUSY', `the device ${which} is plugged into domain ${domid}: unplug it first`);
      const gone = a.removeDisk !== undefined ? diskOf(unplugged.disks, which) : vifOf(unplugged.vifs, which);
      if (!gone) throw new XenError('ENOENT', `the VM has no device ${which}`);
      return a.removeDisk !== undefined ? vms.setUnplugged(vm, (u) => ({ ...u, disks: u.disks.filter((x) => x.devid !== gone.devid) }))
        : vms.setUnplugged(vm, (u) => ({ ...u, vifs: u.vifs.filter((x) => x.devid !== gone.devid) }));
    }
    if (a.plugDisk !== undefined) {
      const d = diskOf(unplugged.disks, a.plugDisk);
      if (!d) throw new XenError(diskOf(config.disks, a.plugDisk) ? 'EINVAL' : 'ENOENT', `the VM has no unplugged disk ${a.plugDisk}`);
      await this.#attachDisk(domid, d);
      await vms.setUnplugged(vm, (u) => ({ ...u, disks: u.disks.filter((x) => x.devid !== d.devid) }));
    } else if (a.plugVif !== undefined) {
      const v = vifOf(unplugged.vifs, a.plugVif);
      if (!v) throw new XenError(vifOf(config.vifs, a.plugVif) ? 'EINVAL' : 'ENOENT', `the VM has no unplugged vif ${a.plugVif}`);
      await this.#attachVif(domid, v);
      await vms.setUnplugged(vm, (u) => ({ ...u, vifs: u.vifs.filter((x) => x.devid !== v.devid) }));
    } else if (a.unplugDisk !== undefined) {
      const d = diskOf(config.disks, a.unplugDisk);
      if (!d) throw new XenError(diskOf(unplugged.disks, a.unplugDisk) ? 'EINVAL' : 'ENOENT', `the VM has no plugged disk ${a.unplugDisk}`);
      // The record first, so that the detach (which drops it from the configuration) leaves it the VM's.
      await vms.setUnplugged(vm, (u) => ({ ...u, disks: [...u.disks, d] }));
      await this.call('blockDetach', { domain: domid, vdev: d.vdev, force: a.force === true }).catch(async (e: unknown) => {
        await vms.setUnplugged(vm, (u) => ({ ...u, disks: u.disks.filter((x) => x.devid !== d.devid) })).catch(() => {});
        throw e;
      });
    } else {
      const v = vifOf(config.vifs, a.unplugVif!);
      if (!v) throw new XenError(vifOf(unplugged.vifs, a.unplugVif!) ? 'EINVAL' : 'ENOENT', `the VM has no plugged vif ${a.unplugVif}`);
      await vms.setUnplugged(vm, (u) => ({ ...u, vifs: [...u.vifs, v] }));
      await this.call('networkDetach', { domain: domid, vif: String(v.devid), force: a.force === true }).catch(async (e: unknown) => {
        await vms.setUnplugged(vm, (u) => ({ ...u, vifs: u.vifs.filter((x) => x.devid !== v.devid) })).catch(() => {});
        throw e;
      });
    }
    return this.#host.db.read((tx) => tx.VM.get(vm));
  }

  async #vmSet(vm: string, a: VmChanges): Promise<VmInfo> {
    const { ref, r } = await this.#host.db.read((tx) => {
      const ref = findVm(tx, vm);
      return { ref, r: tx.VM.get(ref) };
    });
    if (a.name !== undefined) {
      if (r.domid >= 0) await this.#host.rename(r.domid, a.name);
      else {
        const problem = domainNameProblem(a.name);
        if (problem !== undefined) throw new XenError('EINVAL', `invalid VM name: ${problem}`);
        await this.#host.vms.reconfigure(ref, (c) => ({ ...c, name: a.name! }));
      }
    }
    if (a.memory !== undefined || a.maxmem !== undefined) {
      await this.#host.vms.reconfigure(ref, (c) => {
        const memory = a.memory ?? c.memory;
        const maxmem = a.maxmem ?? Math.max(c.maxmem, memory);
        if (maxmem < memory) throw new XenError('EINVAL', `maxmem (${maxmem} MiB) is below memory (${memory} MiB)`);
        return { ...c, memory, maxmem };
      });
    }
    const other = { ...r.other_config };
    if (a.otherConfigKey !== undefined) {
      if (a.otherConfigValue === undefined) delete other[a.otherConfigKey];
      else other[a.otherConfigKey] = a.otherConfigValue;
    }
    const after = await this.#host.vms.annotate(ref, { name_description: a.description ?? r.name_description, other_config: other });
    return vmInfo(after);
  }

  /** Where userAdd keeps users: the daemon sets it once its XenAPI service is up. */
  setUsers(users: UserDirectory): void {
    this.#users = users;
  }

  async console(ref: DomainRef, handlers: ConsoleHandlers, opts: { replay?: boolean } = {}): Promise<ConsoleSession> {
    const d = this.#guestWithConsole(ref);
    const { domid } = d;
    if (opts.replay) {
      const kept = this.#host.consoled.log(domid);
      if (kept.length) handlers.onOutput(kept);
    }
    let set = this.#viewers.get(domid);
    if (!set) this.#viewers.set(domid, (set = new Set()));
    set.add(handlers);
    return {
      ...id(d),
      write: (data) => this.#host.consoled.input(domid, data),
      close: () => {
        set.delete(handlers);
        if (set.size === 0 && this.#viewers.get(domid) === set) this.#viewers.delete(domid);
      },
    };
  }

  async events(onEvent: (e: HostEvent) => void): Promise<Subscription> {
    this.#log.on('event', onEvent);
    return { close: () => this.#log.off('event', onEvent) };
  }

  close(): void {}

  #endViewers(domid: number): void {
    const set = this.#viewers.get(domid);
    this.#viewers.delete(domid);
    for (const v of set ?? []) v.onEnd();
  }

  /** A domain by name (live ones only: names are reused) or by id (dying ones too, as xl). */
  #resolve(ref: DomainRef): Domain {
    if (typeof ref === 'number' || /^[0-9]+$/.test(ref)) {
      const domid = Number(ref);
      const d = this.#host.findDomain(domid);
      if (!d) throw new XenError('ESRCH', `no domain with id ${domid}: \`xenode list\` shows the domains`);
      return d;
    }
    const d = this.#host.liveDomainNamed(ref);
    if (!d) throw new XenError('ESRCH', `no domain named '${ref}': \`xenode list\` shows the domains`);
    return d;
  }

  #guestWithConsole(ref: DomainRef): Domain {
    const d = this.#resolve(ref);
    if (d.domid === 0) throw new XenError('EINVAL', 'Domain-0 has no PV console: its messages are in `xenode dmesg`');
    if (!this.#host.consoled.has(d.domid)) throw new XenError('ENOENT', `domain ${d.domid} ('${d.name}') has no console (it is being created or destroyed)`);
    return d;
  }

  async #create(file: string, text: string | undefined, paused: boolean): Promise<CreateResult> {
    const { config, warnings } = await this.#config('create', file, text);
    return this.#boot(await this.#host.create(config, { paused }), warnings, paused);
  }

  async #config(op: Op, file: string, text: string | undefined) {
    if (text !== undefined && Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
      throw new XenError('E2BIG', `${op}: the configuration is ${Buffer.byteLength(text)} bytes; the limit is ${MAX_CONFIG_BYTES}`);
    }
    return text === undefined ? loadDomainConfig(file) : parseDomainConfig(text, file);
  }

  /** A domain built: once its main() runs (or it was created paused), what create returns. */
  async #boot(built: BuiltDomain, warnings: string[], paused: boolean): Promise<CreateResult> {
    const t = performance.now();
    if (!paused && !(await this.#booted(built))) warnings.push(mainLate(built.domain));
    return { ...id(built.domain), warnings, ms: { ...built.timings, main: paused ? 0 : performance.now() - t } };
  }

  /**
   * Until the guest's main() runs (true), or MAIN_WAIT_MS pass first (false); an error if the
   * domain shuts down or goes first.
   */
  #booted(built: BuiltDomain): Promise<boolean> {
    const { domid } = built.domain;
    return new Promise<boolean>((resolve, reject) => {
      const settle = (e?: Error, called = true) => {
        if (this.#booting.get(domid) !== waiter) return;
        this.#booting.delete(domid);
        clearTimeout(timer);
        if (e) reject(e);
        else resolve(called);
      };
      const timer = setTimeout(() => settle(undefined, false), MAIN_WAIT_MS);
      const waiter: BootWaiter = { settle };
      this.#booting.set(domid, waiter);
      built.vcpu.mainCalled.then(() => settle(), (e: Error) => settle(new XenError('ENOEXEC', `domain ${domid}'s vCPU died while it booted: ${e.message}`)));
    });
  }

  async #destroy(ref: DomainRef): Promise<DomainId> {
    const d = this.#resolve(ref);
    if (d.domid === 0) throw new XenError('EPERM', 'Domain-0 cannot be destroyed');
    // Two destroys of one domain: the first does it, the second is told.
    if (this.#host.isBeingDestroyed(d)) throw new XenError('ESRCH', `domain ${d.domid} ('${d.name}') is already being destroyed`);
    await this.#host.destroy(d.domid);
    return id(d);
  }

  /** dom0 is the host's main thread: its JS heap (V8's own figure; process.memoryUsage() would read /proc for the RSS too, at every list) and its own frames. */
  #memoryKiB(d: Domain, cfg: DomainConfig | undefined): number {
    return d.domid === 0 ? Math.round(getHeapStatistics().total_heap_size / 1024) + (d.totPages * PAGE_SIZE) / 1024
      : cfg ? cfg.memory * 1024 : (d.totPages * PAGE_SIZE) / 1024;
  }

  #cpuSeconds(d: Domain): number {
    return (d.domid === 0 ? performance.eventLoopUtilization().active : (d.vcpu?.cpuTime() ?? 0)) / 1000;
  }

  #columns(domains: readonly Domain[]): DomainColumns {
    const c: DomainColumns = { domid: [], name: [], state: [], memoryKiB: [], vcpus: [], cpuSeconds: [], pool: [] };
    for (const d of domains) {
      c.domid.push(d.domid);
      c.name.push(d.name);
      c.state.push(d.stateString);
      c.memoryKiB.push(this.#memoryKiB(d, this.#host.config(d.domid)));
      c.vcpus.push(1);
      c.cpuSeconds.push(this.#cpuSeconds(d));
      c.pool.push(this.#host.poolOf(d.domid));
    }
    return c;
  }

  #info(d: Domain, long: boolean, vbd: BlkbackStats | undefined, net: VifTraffic | undefined): DomainInfo {
    const cfg = this.#host.config(d.domid);
    const info: DomainInfo = {
      domid: d.domid,
      name: d.name,
      uuid: d.uuid,
      state: d.stateString,
      memoryKiB: this.#memoryKiB(d, cfg),
      maxmemKiB: cfg ? cfg.maxmem * 1024 : null,
      vcpus: 1,
      cpuSeconds: this.#cpuSeconds(d),
      vbds: cfg?.disks.length ?? 0,
      vbdStats: vbd ? { oo: vbd.ooReq, rd: vbd.rdReq, wr: vbd.wrReq, rsect: vbd.rdSect, wsect: vbd.wrSect } : null,
      nets: cfg?.vifs.length ?? 0,
      netStats: net ? { txBytes: net.txBytes, rxBytes: net.rxBytes } : null,
      startTime: d.createdAt,
      pool: this.#host.poolOf(d.domid),
    };
    return long && cfg ? { ...info, config: cfg } : info;
  }

  /** Pool-0 first, as xl lists it; its domains are those no shared pool runs (parked shells are not domains users see). */
  #cpupools(): CpupoolInfo[] {
    const count = new Map<string, number>();
    for (const d of this.#host.domains()) {
      if (d.dying) continue;
      const pool = this.#host.poolOf(d.domid);
      count.set(pool, (count.get(pool) ?? 0) + 1);
    }
    return [
      { name: 'Pool-0', cpus: availableParallelism(), sched: 'credit', active: true, domains: count.get('Pool-0') ?? 0 },
      ...[...this.#host.cpupools.values()].map((p) => ({ name: p.name, cpus: p.cpus, sched: p.sched, active: true, domains: count.get(p.name) ?? 0 })),
    ];
  }

  #hostInfo(): HostInfo {
    const cpu = cpus();
    return {
      host: hostname(),
      release: release(),
      version: version(),
      machine: machine(),
      nrCpus: cpu.length,
      cpuMhz: cpu[0]?.speed ?? 0,
      totalMemoryMiB: Math.floor(totalmem() / 2 ** 20),
      freeMemoryMiB: Math.floor(freemem() / 2 ** 20),
      xenodeVersion: VERSION,
      nodeVersion: process.version,
      pageSize: PAGE_SIZE,
      commandline: process.argv.slice(1).join(' '),
      startTime: this.#host.hv.dom0.createdAt,
      stateDir: this.#host.paths?.stateDir ?? null,
      domains: this.#host.domains().length,
    };
  }
}

function parseDisk(text: string) {
  try {
    return parseDiskSpec(text);
  } catch (e) {
    if (e instanceof DiskSpecError) throw new XenError('EINVAL', e.message);
    throw e;
  }
}

function srInfo(v: SrView): SrInfo {
  return { ...v.record, path: v.path };
}

function vdiInfo(v: VdiView): VdiInfo {
  return { ...v.record, sr_uuid: v.srUuid, sr_name_label: v.srName };
}

function parseVif(text: string) {
  try {
    return parseVifSpec(text);
  } catch (e) {
    if (e instanceof VifSpecError) throw new XenError('EINVAL', e.message);
    throw e;
  }
}

function id(d: Domain): DomainId {
  return { domid: d.domid, name: d.name };
}
