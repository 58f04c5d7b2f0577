// The toolstack's command API: every feature of the `xenode` command (and later XenAPI) is one
// operation here, so each has one implementation. `Toolstack` is what callers see; the host
// daemon serves it on its control socket (server.ts), the CLI reaches it through client.ts,
// and `xenode run`/`xenode demo` call a ToolstackApi in-process. Arguments are validated here,
// whoever the caller, because they may come from outside.
import { cpus, freemem, hostname, machine, release, totalmem, version } from 'node:os';
import { isAbsolute } from 'node:path';
import { DOMID_FIRST_RESERVED, PAGE_SIZE } from '../abi/xen.js';
import { XenError } from '../errors.js';
import type { Domain } from '../hypervisor/hypervisor.js';
import { VERSION } from '../version.js';
import type { BuiltDomain } from './builder.js';
import type { BlkbackStats } from '../drivers/blk/back/queue.js';
import { dom0VbdStats, listDisks, type DiskDevice } from './devices.js';
import { DiskSpecError, parseDiskSpec } from './diskspec.js';
import { MAX_CONFIG_BYTES, loadDomainConfig, parseDomainConfig, type DomainConfig } from './domconfig.js';
import type { Host } from './host.js';
import type { HostEvent, HostLog } from './hostlog.js';

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
  /** When it was created, in ms since the epoch. */
  readonly startTime: number;
  /** With `long`: the configuration it was created from. */
  readonly config?: DomainConfig;
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
  /** xl domid / xl domname. */
  lookup: { args: { domain: DomainRef }; result: DomainId };
  destroy: { args: { domain: DomainRef }; result: DomainId };
  /** xl shutdown, or xl reboot with `reboot`: ask the guest through control/shutdown. */
  shutdown: { args: { domain: DomainRef; reboot?: boolean }; result: DomainId };
  pause: { args: { domain: DomainRef }; result: DomainId };
  unpause: { args: { domain: DomainRef }; result: DomainId };
  rename: { args: { domain: DomainRef; name: string }; result: DomainId };
  /** xl block-attach: `spec` in xl-disk-configuration(5) syntax. */
  blockAttach: { args: { domain: DomainRef; spec: string }; result: DiskDevice };
  /** xl block-detach [-f]: the guest closes the device first, unless forced. */
  blockDetach: { args: { domain: DomainRef; vdev: string; force?: boolean }; result: DomainId };
  blockList: { args: { domain: DomainRef }; result: DiskDevice[] };
  /** The console output the host kept (bounded), base64. */
  consoleLog: { args: { domain: DomainRef }; result: DomainId & { data: string } };
  info: { args: Record<string, never>; result: HostInfo };
  /** The host log's latest entries; `clear` empties it after reading (xl dmesg -c). */
  dmesg: { args: { clear?: boolean }; result: HostEvent[] };
  /** Stop the host daemon: guests are shut down, then destroyed if they linger. */
  stop: { args: Record<string, never>; result: Record<string, never> };
}

export type Op = keyof Commands;
const OPS: readonly Op[] = [
  'create', 'list', 'lookup', 'destroy', 'shutdown', 'pause', 'unpause', 'rename', 'blockAttach', 'blockDetach', 'blockList',
  'consoleLog', 'info', 'dmesg', 'stop',
];

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

export interface Toolstack {
  call<K extends Op>(op: K, args: Commands[K]['args']): Promise<Commands[K]['result']>;
  /** Attach to a domain's console; `replay` delivers the kept log first. */
  console(domain: DomainRef, handlers: ConsoleHandlers, opts?: { replay?: boolean }): Promise<ConsoleSession>;
  /** Every host event from now on; `onEnd` if the host goes away. */
  events(onEvent: (e: HostEvent) => void, onEnd?: () => void): Promise<Subscription>;
  close(): void;
}

/** Reads one operation's arguments, refusing wrong types and unknown keys. */
class Args {
  readonly #seen = new Set<string>();
  readonly #raw: Record<string, unknown>;

  constructor(readonly op: string, raw: unknown) {
    if (raw === undefined) raw = {};
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new XenError('EINVAL', `${op}: arguments must be an object`);
    this.#raw = raw as Record<string, unknown>;
  }

  #get(key: string): unknown {
    this.#seen.add(key);
    return Object.hasOwn(this.#raw, key) ? this.#raw[key] : undefined;
  }

  #fail(key: string, want: string): XenError {
    return new XenError('EINVAL', `${this.op}: ${key} must be ${want}`);
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

  bool(key: string): boolean {
    const v = this.#get(key);
    if (v !== undefined && typeof v !== 'boolean') throw this.#fail(key, 'true or false');
    return v === true;
  }

  domain(key = 'domain'): DomainRef {
    const v = this.#get(key);
    if (!isDomainRef(v)) throw this.#fail(key, 'a domain name or id');
    return v;
  }

  domains(key: string): DomainRef[] | undefined {
    const v = this.#get(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every(isDomainRef)) throw this.#fail(key, 'a list of domain names or ids');
    return v;
  }

  /** Call last: an argument nobody asked for is a mistake of the caller's. */
  done(): void {
    const extra = Object.keys(this.#raw).filter((k) => !this.#seen.has(k));
    if (extra.length) throw new XenError('EINVAL', `${this.op}: unknown argument ${extra.map((k) => `'${k}'`).join(', ')}`);
  }
}

function isDomainRef(v: unknown): v is DomainRef {
  return (typeof v === 'string' && v !== '' && v.length <= 256) || (Number.isInteger(v) && (v as number) >= 0 && (v as number) < DOMID_FIRST_RESERVED);
}

const TAIL_LINES = 5;

function consoleTail(data: Uint8Array): string {
  const lines = Buffer.from(data).toString('utf8').trimEnd().split('\n');
  return lines.slice(-TAIL_LINES).join(' | ');
}

interface BootWaiter {
  fail(e: Error): void;
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
  readonly #viewers = new Map<number, Set<ConsoleHandlers>>();
  readonly #booting = new Map<number, BootWaiter>();

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
      const tail = consoleTail(host.consoled.log(domid));
      this.#booting.get(domid)?.fail(new XenError('ENOEXEC', `domain '${name}' (id ${domid}) shut down (${reason}) before its main() ran${tail ? `: ${tail}` : ''}`));
    });
    host.on('destroyed', (domid, name) => {
      this.#booting.get(domid)?.fail(new XenError('ESRCH', `domain '${name}' (id ${domid}) was destroyed while it booted`));
      this.#endViewers(domid);
    });
  }

  call<K extends Op>(op: K, args: Commands[K]['args']): Promise<Commands[K]['result']> {
    return this.dispatch(op, args) as Promise<Commands[K]['result']>;
  }

  /** An operation by name with arguments of unknown shape (from the wire). */
  async dispatch(op: string, raw: unknown): Promise<unknown> {
    const a = new Args(op, raw);
    switch (op) {
      case 'create': {
        const file = a.string('file');
        const text = a.optionalString('text');
        const paused = a.bool('paused');
        a.done();
        return this.#create(file, text, paused);
      }
      case 'list': {
        const refs = a.domains('domains');
        const long = a.bool('long');
        a.done();
        const domains = refs ? refs.map((r) => this.#resolve(r)) : this.#host.hv.domains();
        const vbd = await dom0VbdStats(this.#host);
        return domains.map((d) => this.#info(d, long, vbd.get(d.domid)));
      }
      case 'lookup': {
        const d = this.#resolve(a.domain());
        a.done();
        return id(d);
      }
      case 'destroy': {
        const ref = a.domain();
        a.done();
        return this.#destroy(ref);
      }
      case 'shutdown': {
        const d = this.#resolve(a.domain());
        const reboot = a.bool('reboot');
        a.done();
        await this.#host.requestShutdown(d.domid, reboot ? 'reboot' : 'poweroff');
        return id(d);
      }
      case 'pause':
      case 'unpause': {
        const d = this.#resolve(a.domain());
        a.done();
        if (op === 'pause') this.#host.pause(d.domid);
        else this.#host.unpause(d.domid);
        return id(d);
      }
      case 'rename': {
        const d = this.#resolve(a.domain());
        const name = a.string('name');
        a.done();
        await this.#host.rename(d.domid, name);
        return id(d);
      }
      case 'blockAttach': {
        const d = this.#resolve(a.domain());
        const text = a.string('spec');
        a.done();
        return this.#host.attachDisk(d.domid, parseDisk(text));
      }
      case 'blockDetach': {
        const d = this.#resolve(a.domain());
        const vdev = a.string('vdev');
        const force = a.bool('force');
        a.done();
        await this.#host.detachDisk(d.domid, vdev, force);
        return id(d);
      }
      case 'blockList': {
        const d = this.#resolve(a.domain());
        a.done();
        return listDisks(this.#host.devices, d.domid);
      }
      case 'consoleLog': {
        const d = this.#guestWithConsole(a.domain());
        a.done();
        return { ...id(d), data: Buffer.from(this.#host.consoled.log(d.domid)).toString('base64') };
      }
      case 'info':
        a.done();
        return this.#hostInfo();
      case 'dmesg': {
        const clear = a.bool('clear');
        a.done();
        const entries = [...this.#log.entries()];
        if (clear) this.#log.clear();
        return entries;
      }
      case 'stop': {
        a.done();
        const stop = this.#onStop;
        if (!stop) throw new XenError('EOPNOTSUPP', 'this host runs inside another command and stops with it');
        // After this reply has gone out.
        setImmediate(stop);
        return {};
      }
      default:
        throw new XenError('ENOSYS', `unknown operation '${op}' (known: ${OPS.join(', ')})`);
    }
  }

  async console(ref: DomainRef, handlers: ConsoleHandlers, opts: { replay?: boolean } = {}): Promise<ConsoleSession> {
    if (!isDomainRef(ref)) throw new XenError('EINVAL', 'console: domain must be a domain name or id');
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
    const hv = this.#host.hv;
    if (typeof ref === 'number' || /^[0-9]+$/.test(ref)) {
      const domid = Number(ref);
      const d = hv.findDomain(domid);
      if (!d) throw new XenError('ESRCH', `no domain with id ${domid}: \`xenode list\` shows the domains`);
      return d;
    }
    const d = hv.domains().find((x) => x.name === ref && !x.dying);
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
    if (!isAbsolute(file)) throw new XenError('EINVAL', `create: the configuration file must be an absolute path, not '${file}'`);
    if (text !== undefined && Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
      throw new XenError('E2BIG', `create: the configuration is ${Buffer.byteLength(text)} bytes; the limit is ${MAX_CONFIG_BYTES}`);
    }
    const { config, warnings } = text === undefined ? await loadDomainConfig(file) : parseDomainConfig(text, file);
    const built = await this.#host.create(config, { paused });
    const t = performance.now();
    if (!paused) await this.#booted(built);
    return { ...id(built.domain), warnings, ms: { ...built.timings, main: paused ? 0 : performance.now() - t } };
  }

  /** Until the guest's main() runs; an error if the domain shuts down or goes first. */
  #booted(built: BuiltDomain): Promise<void> {
    const { domid } = built.domain;
    return new Promise<void>((resolve, reject) => {
      const settle = (e?: Error) => {
        if (this.#booting.get(domid) !== waiter) return;
        this.#booting.delete(domid);
        if (e) reject(e);
        else resolve();
      };
      const waiter: BootWaiter = { fail: settle };
      this.#booting.set(domid, waiter);
      built.vcpu.mainCalled.then(() => settle(), (e: Error) => settle(new XenError('ENOEXEC', `domain ${domid}'s vCPU died while it booted: ${e.message}`)));
    });
  }

  async #destroy(ref: DomainRef): Promise<DomainId> {
    const d = this.#resolve(ref);
    if (d.domid === 0) throw new XenError('EPERM', 'Domain-0 cannot be destroyed');
    // Two destroys of one domain: the first does it, the second is told.
    if (d.dying || this.#host.isDestroying(d.domid)) throw new XenError('ESRCH', `domain ${d.domid} ('${d.name}') is already being destroyed`);
    await this.#host.destroy(d.domid);
    return id(d);
  }

  #info(d: Domain, long: boolean, vbd: BlkbackStats | undefined): DomainInfo {
    const cfg = this.#host.config(d.domid);
    const dom0 = d.domid === 0;
    const ms = dom0 ? performance.eventLoopUtilization().active : (d.vcpu?.cpuTime() ?? 0);
    return {
      ...id(d),
      uuid: d.uuid,
      state: d.stateString,
      // dom0 is the host's main thread: its JS heap and its own frames.
      memoryKiB: dom0 ? Math.round(process.memoryUsage().heapTotal / 1024) + (d.totPages * PAGE_SIZE) / 1024
        : cfg ? cfg.memory * 1024 : (d.totPages * PAGE_SIZE) / 1024,
      maxmemKiB: cfg ? cfg.maxmem * 1024 : null,
      vcpus: 1,
      cpuSeconds: ms / 1000,
      vbds: cfg?.disks.length ?? 0,
      vbdStats: vbd ? { oo: vbd.ooReq, rd: vbd.rdReq, wr: vbd.wrReq, rsect: vbd.rdSect, wsect: vbd.wrSect } : null,
      startTime: d.createdAt,
      ...(long && cfg ? { config: cfg } : {}),
    };
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
      domains: this.#host.hv.domains().length,
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

function id(d: Domain): DomainId {
  return { domid: d.domid, name: d.name };
}
