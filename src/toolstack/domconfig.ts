// A domain's configuration: xl.cfg(5) settings read into typed values, checked as xl checks
// them (and in places more strictly, where xl would only fail later or silently ignore).
//
// Defaults are xl's: memory 32 MiB (libxl), maxmem = memory, on_poweroff destroy, on_reboot
// restart, on_crash destroy, on_watchdog destroy, on_soft_reset soft-reset. The grant,
// maptrack and event-channel limits stay undefined when not given, meaning the host's default
// (xl takes them from xl.conf, which takes them from the hypervisor).
//
// Keys this version does not read are reported as warnings, one per key, never dropped
// silently. Any malformed value is a ConfigError naming the file, line, column and key.
import { dirname, isAbsolute, resolve } from 'node:path';
import { readNamed } from '../storage/named.js';
import { CREDIT_MAX_WEIGHT, CREDIT_MIN_WEIGHT } from '../hypervisor/sched.js';
import { DiskSpecError, parseDiskSpec, type DiskSpec } from './diskspec.js';
import { resolveConfigTarget } from './images.js';
import { MAX_NAME_BYTES, hostLimits, type Bounds, type HostLimits } from './limits.js';
import { VifSpecError, parseVifSpec, type VifSpec } from './vifspec.js';
import { ForwardSpecError, forwardClashes, parseForwardSpec, type ForwardSpec } from '../network/gateway/forwardspec.js';
import {
  ConfigError, parseCInteger, parseXlCfg, type CfgPosition, type CfgSetting, type CfgValue, type XlConfig,
} from './xlcfg.js';

export const SHUTDOWN_ACTIONS = [
  'destroy', 'restart', 'rename-restart', 'preserve', 'coredump-destroy', 'coredump-restart', 'soft-reset',
] as const;
export type ShutdownAction = (typeof SHUTDOWN_ACTIONS)[number];

/** A vif of a domain: its devid is settled (the spec's, else its index in the vif list). */
export interface DomainVif extends VifSpec {
  readonly devid: number;
}

export interface DomainConfig {
  readonly name: string;
  /** Lowercase canonical form; undefined means the toolstack generates one. */
  readonly uuid?: string;
  /** Absolute path of the guest program (relative paths are resolved from the config file's directory). */
  readonly kernel: string;
  /** MiB. */
  readonly memory: number;
  /** MiB, at least memory. */
  readonly maxmem: number;
  /** This version runs one vCPU per domain. */
  readonly vcpus: 1;
  /** Credit scheduler weight (cpu_weight=, 1..65535); 256 when absent. */
  readonly cpuWeight?: number;
  /** pool=: the cpupool whose pCPUs run the domain (hypervisor/cpupool.ts); Pool-0 when absent. */
  readonly pool?: string;
  /** cap=: credit scheduler cap, a percentage of one pCPU (0: none); in shared pools only. */
  readonly cpuCap?: number;
  /** driver_domain=1: the domain serves devices to others (it gets the libxl and device-model directories libxl gives one). */
  readonly driverDomain?: boolean;
  /** The guest's command line, from cmdline=, or else from root= and extra=; undefined if none. */
  readonly cmdline?: string;
  readonly onPoweroff: ShutdownAction;
  readonly onReboot: ShutdownAction;
  readonly onCrash: ShutdownAction;
  readonly onWatchdog: ShutdownAction;
  readonly onSoftReset: ShutdownAction;
  readonly disks: readonly DiskSpec[];
  readonly vifs: readonly DomainVif[];
  readonly maxGrantFrames?: number;
  readonly maxMaptrackFrames?: number;
  readonly maxEventChannels?: number;
  /** xenode's own `forward = [ 'tcp:8080:80' ]` (not xl's): host ports forwarded to the first vif by its bridge's gateway. */
  readonly forwards?: readonly ForwardSpec[];
}

/** libxl's default memory (and so maxmem) in MiB. */
export const DEFAULT_MEMORY_MIB = 32;
const INT_MAX = 0x7fffffff;
/** Larger files are refused before they are read: no real configuration comes close. */
export const MAX_CONFIG_BYTES = 1 << 20;

/**
 * Why name cannot name a domain, or undefined if it can. Beyond xl's own rule (non-empty), a
 * name may not be only digits (xl commands read such an argument as a domain id), nor contain
 * '/' or control characters (it names files and xenstore values), nor be longer than xenstore
 * can hold (MAX_NAME_BYTES).
 */
export function domainNameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) return `${Buffer.byteLength(name)} bytes is too long: this host takes at most ${MAX_NAME_BYTES} bytes`;
  if (/^[0-9]+$/.test(name)) return `'${name}' is only digits, which xl commands would read as a domain id`;
  if (name.includes('/')) return `'${name}' contains '/'`;
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'contains a control character';
  return undefined;
}

function describe(v: CfgValue): string {
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'number') return `the number ${v}`;
  const s = v as string;
  return `the string "${s.length > 40 ? `${s.slice(0, 40)}...` : s}"`;
}

/** Reads settings by key, remembering which keys it was asked for. */
class Reader {
  readonly #asked = new Set<string>();
  readonly warnings: string[] = [];

  constructor(readonly cfg: XlConfig, readonly limits: HostLimits) {}

  setting(key: string): CfgSetting | undefined {
    this.#asked.add(key);
    return this.cfg.settings.get(key);
  }

  fail(s: CfgSetting, reason: string, pos: CfgPosition = s.valuePos): ConfigError {
    return new ConfigError(this.cfg.file, pos, reason, s.key);
  }

  warn(line: number, text: string): void {
    this.warnings.push(`${this.cfg.file}:${line}: warning: ${text}`);
  }

  string(key: string): string | undefined {
    const s = this.setting(key);
    if (s === undefined) return undefined;
    if (typeof s.value !== 'string') throw this.fail(s, `expected a quoted string, found ${describe(s.value)}`);
    return s.value;
  }

  /**
   * An integer in [min, max]: a number, or a string holding one (xl reads both). `host`: the
   * bounds are what this host can give, and the message says so.
   */
  integer(key: string, min: number, max: number, unit = '', host = false): number | undefined {
    const s = this.setting(key);
    if (s === undefined) return undefined;
    const n = typeof s.value === 'number' ? s.value : typeof s.value === 'string' ? parseCInteger(s.value) : undefined;
    const range = `an integer${unit} from ${min} to ${max}`;
    if (n === undefined) throw this.fail(s, `expected ${range}, found ${describe(s.value)}`);
    if (n < min || n > max) throw this.fail(s, `${n} is out of range: ${host ? 'this host can give' : 'expected'} ${range}`);
    return n;
  }

  /** An integer within what this host can give. */
  bounded(key: string, bounds: Bounds, unit = ''): number | undefined {
    return this.integer(key, bounds.min, bounds.max, unit, true);
  }

  /** A string of at most `maxBytes` bytes of UTF-8. */
  boundedString(key: string, maxBytes: number): string | undefined {
    const v = this.string(key);
    const bytes = v === undefined ? 0 : Buffer.byteLength(v);
    if (bytes > maxBytes) throw this.fail(this.setting(key)!, `${bytes} bytes is too long: this host takes at most ${maxBytes} bytes`);
    return v;
  }

  /** xl's boolean: 0 or 1, as a number or a string holding one. */
  boolean(key: string): boolean | undefined {
    const n = this.integer(key, 0, 1);
    return n === undefined ? undefined : n === 1;
  }

  /** A list of strings, each with its position. */
  stringList(key: string): { setting: CfgSetting; items: [string, CfgPosition][] } | undefined {
    const s = this.setting(key);
    if (s === undefined) return undefined;
    if (!Array.isArray(s.value)) throw this.fail(s, `expected a list [ '...', ... ], found ${describe(s.value)}`);
    const items = (s.value as readonly CfgValue[]).map((v, i): [string, CfgPosition] => {
      if (typeof v !== 'string') throw this.fail(s, `entry ${i} must be a quoted string, found ${describe(v)}`, s.itemPos[i]);
      return [v, s.itemPos[i]!];
    });
    return { setting: s, items };
  }

  action(key: string, fallback: ShutdownAction): ShutdownAction {
    const v = this.string(key);
    if (v === undefined) return fallback;
    if (!(SHUTDOWN_ACTIONS as readonly string[]).includes(v)) {
      throw this.fail(this.setting(key)!, `unknown action '${v}': use one of ${SHUTDOWN_ACTIONS.join(', ')}`);
    }
    return v as ShutdownAction;
  }

  /** Warnings for the keys nobody asked for, in file order. */
  unasked(): void {
    for (const s of this.cfg.settings.values()) {
      if (!this.#asked.has(s.key)) this.warn(s.pos.line, `'${s.key}' is not supported by this version and is ignored`);
    }
  }
}

function readName(r: Reader): string {
  const name = r.string('name');
  const s = r.setting('name');
  if (name === undefined || s === undefined) {
    throw new ConfigError(r.cfg.file, { line: 1, column: 1 }, 'the domain has no name: add name = "..."', 'name');
  }
  const problem = domainNameProblem(name);
  if (problem !== undefined) throw r.fail(s, `invalid domain name: ${problem}`);
  return name;
}

function readUuid(r: Reader): string | undefined {
  const uuid = r.string('uuid');
  if (uuid === undefined) return undefined;
  if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(uuid)) {
    throw r.fail(r.setting('uuid')!, `'${uuid}' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, hex digits)`);
  }
  return uuid.toLowerCase();
}

function readKernel(r: Reader): string {
  const kernel = r.string('kernel');
  const s = r.setting('kernel');
  if (kernel === undefined || s === undefined) {
    throw new ConfigError(r.cfg.file, { line: 1, column: 1 },
      'no kernel given: add kernel = "PATH" naming the guest program', 'kernel');
  }
  if (kernel === '') throw r.fail(s, 'must not be empty');
  return isAbsolute(kernel) ? resolve(kernel) : resolve(dirname(resolve(r.cfg.file)), kernel);
}

function readVcpus(r: Reader): 1 {
  for (const key of ['vcpus', 'maxvcpus']) {
    const n = r.integer(key, 0, INT_MAX);
    if (n !== undefined && (n !== 1 || n < r.limits.vcpus.min || n > r.limits.vcpus.max)) {
      throw r.fail(r.setting(key)!, `${n} vCPUs requested, but this version runs exactly one vCPU per domain: ` +
        `set ${key} = 1 or leave it out`);
    }
  }
  return 1;
}

/** xl's rule: cmdline= wins over root= and extra=; otherwise "root=ROOT EXTRA". */
function readCmdline(r: Reader): string | undefined {
  const max = r.limits.cmdlineBytes;
  const cmdline = r.boundedString('cmdline', max);
  const root = r.boundedString('root', max);
  const extra = r.boundedString('extra', max);
  if (cmdline !== undefined) {
    if (root !== undefined || extra !== undefined) {
      r.warn(r.setting('cmdline')!.pos.line, 'ignoring root= and extra= in favour of cmdline=');
    }
    return cmdline;
  }
  const joined = root === undefined ? extra : extra === undefined ? `root=${root}` : `root=${root} ${extra}`;
  const bytes = joined === undefined ? 0 : Buffer.byteLength(joined);
  if (bytes > max) throw r.fail(r.setting('extra') ?? r.setting('root')!, `root= and extra= make a ${bytes}-byte command line: this host takes at most ${max} bytes`);
  return joined;
}

function readMemory(r: Reader): { memory: number; maxmem: number } {
  const memory = r.bounded('memory', r.limits.memoryMiB, ' (MiB)') ?? DEFAULT_MEMORY_MIB;
  const maxmem = r.bounded('maxmem', r.limits.memoryMiB, ' (MiB)') ?? memory;
  if (maxmem < memory) {
    throw r.fail(r.setting('maxmem')!, `maxmem (${maxmem} MiB) is less than memory (${memory} MiB)`);
  }
  return { memory, maxmem };
}

/**
 * Parses each entry of a device list and refuses two devices with the same devid, which
 * would collide in xenstore.
 */
function readDevices<T extends { readonly devid: number }>(
  r: Reader, key: string, parse: (spec: string, index: number) => T, what: (d: T) => string,
): T[] {
  const list = r.stringList(key);
  if (list === undefined) return [];
  const seen = new Map<number, number>();
  return list.items.map(([spec, pos], i) => {
    let dev: T;
    try {
      dev = parse(spec, i);
    } catch (e) {
      if (e instanceof DiskSpecError || e instanceof VifSpecError) {
        throw r.fail(list.setting, `entry ${i} '${spec}': ${e.reason}`, pos);
      }
      throw e;
    }
    const other = seen.get(dev.devid);
    if (other !== undefined) throw r.fail(list.setting, `entry ${i}: ${what(dev)} is already used by entry ${other}`, pos);
    seen.set(dev.devid, i);
    return dev;
  });
}

/** Why `name` cannot name a cpupool, or undefined if it can (xl's pool names are free text; ours name rows and logs). */
export function poolNameProblem(name: string): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) return `'${name.slice(0, 70)}' is not a pool name (1-64 of A-Z a-z 0-9 _ . -, not starting with a punctuation mark)`;
  return undefined;
}

function readPool(r: Reader): string | undefined {
  const pool = r.string('pool');
  if (pool === undefined) return undefined;
  const problem = poolNameProblem(pool);
  if (problem) throw r.fail(r.setting('pool')!, problem);
  return pool;
}

/** xenode's `forward` key: each host address and port once. */
function readForwards(r: Reader): ForwardSpec[] | undefined {
  const list = r.stringList('forward');
  if (list === undefined) return undefined;
  const clash = forwardClashes();
  return list.items.map(([spec, pos], i) => {
    let f: ForwardSpec;
    try {
      f = parseForwardSpec(spec);
    } catch (e) {
      if (e instanceof ForwardSpecError) throw r.fail(list.setting, `entry ${i}: ${e.detail}`, pos);
      throw e;
    }
    const other = clash(f, i);
    if (other !== undefined) throw r.fail(list.setting, `entry ${i}: ${f.proto} ${f.hostAddress}:${f.hostPort} is already forwarded by entry ${other}`, pos);
    return f;
  });
}

function readConfig(r: Reader): DomainConfig {
  const name = readName(r);
  const uuid = readUuid(r);
  const kernel = readKernel(r);
  const { memory, maxmem } = readMemory(r);
  const vcpus = readVcpus(r);
  const cpuWeight = r.integer('cpu_weight', CREDIT_MIN_WEIGHT, CREDIT_MAX_WEIGHT);
  const driverDomain = r.boolean('driver_domain');
  const pool = readPool(r);
  const cpuCap = r.integer('cap', 0, 6400);
  const cmdline = readCmdline(r);
  const disks = readDevices(r, 'disk', (spec) => {
    const d = parseDiskSpec(spec);
    return d.target === undefined ? d : { ...d, target: resolveConfigTarget(d.target, r.cfg.file) };
  }, (d) => `vdev ${d.vdev} (device ${d.devid})`);
  const vifs = readDevices(r, 'vif', (spec, i): DomainVif => {
    const v = parseVifSpec(spec);
    return { ...v, devid: v.devid ?? i };
  }, (v) => `devid ${v.devid}`);
  const maxGrantFrames = r.bounded('max_grant_frames', r.limits.maxGrantFrames);
  const maxMaptrackFrames = r.bounded('max_maptrack_frames', r.limits.maxMaptrackFrames);
  const maxEventChannels = r.bounded('max_event_channels', r.limits.maxEventChannels);
  const forwards = readForwards(r);
  // The required fields in one literal, which the compiler checks is complete; the optional
  // ones assigned only when given (not spread: a create reads this on its path, and each spread
  // is an object made and copied).
  const c: { -readonly [K in keyof DomainConfig]: DomainConfig[K] } = {
    name, kernel, memory, maxmem, vcpus,
    onPoweroff: r.action('on_poweroff', 'destroy'),
    onReboot: r.action('on_reboot', 'restart'),
    onCrash: r.action('on_crash', 'destroy'),
    onWatchdog: r.action('on_watchdog', 'destroy'),
    onSoftReset: r.action('on_soft_reset', 'soft-reset'),
    disks, vifs,
  };
  if (uuid !== undefined) c.uuid = uuid;
  if (cpuWeight !== undefined) c.cpuWeight = cpuWeight;
  if (driverDomain) c.driverDomain = driverDomain;
  if (pool !== undefined) c.pool = pool;
  if (cpuCap !== undefined) c.cpuCap = cpuCap;
  if (cmdline !== undefined) c.cmdline = cmdline;
  if (maxGrantFrames !== undefined) c.maxGrantFrames = maxGrantFrames;
  if (maxMaptrackFrames !== undefined) c.maxMaptrackFrames = maxMaptrackFrames;
  if (maxEventChannels !== undefined) c.maxEventChannels = maxEventChannels;
  if (forwards !== undefined) c.forwards = forwards;
  return c;
}

/**
 * Reads a domain configuration from xl.cfg text; file names it in messages and anchors a
 * relative kernel path. Throws ConfigError (and nothing else) if the text is malformed or asks
 * for more than `limits` (this host's, by default) allow.
 */
export function parseDomainConfig(text: string, file: string, limits: HostLimits = hostLimits()): { config: DomainConfig; warnings: string[] } {
  const r = new Reader(parseXlCfg(text, file), limits);
  const config = readConfig(r);
  r.unasked();
  return { config, warnings: r.warnings };
}

/** The file's text; a byte sequence that is not UTF-8 is a ConfigError at its position. */
function decode(path: string, bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const lossy = new TextDecoder('utf-8').decode(bytes);
    const before = lossy.slice(0, Math.max(0, lossy.indexOf('\ufffd')));
    const lines = before.split('\n');
    throw new ConfigError(path, { line: lines.length, column: [...lines.at(-1)!].length + 1 },
      'the file is not valid UTF-8: save it as UTF-8');
  }
}

/**
 * Reads and parses a configuration file. A file that cannot be read is a NamedFileError (ENOENT
 * when it does not exist, EINVAL when it is not a regular file, E2BIG past MAX_CONFIG_BYTES);
 * a malformed one is a ConfigError.
 */
export async function loadDomainConfig(path: string, limits?: HostLimits): Promise<{ config: DomainConfig; warnings: string[] }> {
  const bytes = await readNamed(path, { what: 'configuration file', limit: MAX_CONFIG_BYTES });
  return parseDomainConfig(decode(path, bytes), path, limits);
}
