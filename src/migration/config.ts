// The domain configuration in a save image: xl keeps it as JSON in its header's optional data.
// A restore reads it back from a file or a peer, so every field is checked here as the xl.cfg
// parser checks it (domconfig.ts): types, names, the host's limits, disk and vif fields. The
// DomainConfig is built from the checked fields alone: a field the image adds is dropped, never
// carried into the domain unchecked.
import { isAbsolute } from 'node:path';
import { isIPv4 } from 'node:net';
import { MAX_DEVICES_OF_A_KIND } from '../abi/suspend.js';
import { PAGE_SIZE } from '../abi/xen.js';
import { XenError } from '../errors.js';
import { DEFAULT_MAX_GRANT_FRAMES, PFN_GRANT_TABLE } from '../hypervisor/layout.js';
import { forwardClashes, type ForwardSpec } from '../network/gateway/forwardspec.js';
import { memorySplit } from '../toolstack/builder.js';
import { DISK_ACCESS, DISK_BACKEND_TYPES, DISK_FORMATS, DISK_SPECIFICATIONS, type DiskSpec } from '../toolstack/diskspec.js';
import { SHUTDOWN_ACTIONS, domainNameProblem, poolNameProblem, type DomainConfig, type DomainVif } from '../toolstack/domconfig.js';
import { hostLimits, type Bounds } from '../toolstack/limits.js';
import { VIF_LOCKING_MODES, VIF_TYPES } from '../toolstack/vifspec.js';

/** Where a domain's RAM frames are: pfns first..end-1. */
export interface Geometry {
  readonly first: number;
  readonly end: number;
}

export function geometryOf(c: Pick<DomainConfig, 'memory' | 'maxGrantFrames'>): Geometry {
  const first = PFN_GRANT_TABLE + (c.maxGrantFrames ?? DEFAULT_MAX_GRANT_FRAMES);
  return { first, end: first + memorySplit(c.memory).ramFrames };
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DEVID: Bounds = { min: 0, max: 0x7fffffff };
const PORT: Bounds = { min: 1, max: 65535 };

function bad(what: string): XenError {
  return new XenError('EINVAL', `the save image's domain configuration is invalid: ${what}`);
}

type Obj = Record<string, unknown>;

function obj(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`${what} is not an object`);
  return v as Obj;
}

function list(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v) || v.length > MAX_DEVICES_OF_A_KIND) throw bad(`${what} is not a list of at most ${MAX_DEVICES_OF_A_KIND}`);
  return v;
}

/** An object's fields, each read once and checked: what it returns has the type it was checked for. */
class Fields {
  constructor(readonly o: Obj, readonly what: string) {}

  #absent(key: string): boolean {
    return this.o[key] === undefined;
  }

  string(key: string, max = 4096): string {
    const v = this.o[key];
    if (typeof v !== 'string' || Buffer.byteLength(v) > max || v.includes('\0')) throw bad(`${this.what}.${key} is not a string of at most ${max} octets`);
    return v;
  }

  optString(key: string, max?: number): string | undefined {
    return this.#absent(key) ? undefined : this.string(key, max);
  }

  int(key: string, b?: Bounds): number {
    const v = this.o[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || (b && (v < b.min || v > b.max))) {
      throw bad(`${this.what}.${key} is not an integer${b ? ` in ${b.min}..${b.max}` : ''}`);
    }
    return v;
  }

  optInt(key: string, b?: Bounds): number | undefined {
    return this.#absent(key) ? undefined : this.int(key, b);
  }

  bool(key: string): boolean {
    const v = this.o[key];
    if (typeof v !== 'boolean') throw bad(`${this.what}.${key} is not true or false`);
    return v;
  }

  optBool(key: string): boolean | undefined {
    return this.#absent(key) ? undefined : this.bool(key);
  }

  oneOf<T extends string>(key: string, values: readonly T[]): T {
    const v = this.o[key];
    if (!values.includes(v as T)) throw bad(`${this.what}.${key} is not one of ${values.join(', ')}`);
    return v as T;
  }

  optOneOf<T extends string>(key: string, values: readonly T[]): T | undefined {
    return this.#absent(key) ? undefined : this.oneOf(key, values);
  }
}

/** The object without its undefined fields (an absent optional field stays absent). */
function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function diskOf(v: unknown, i: number): DiskSpec {
  const f = new Fields(obj(v, `disks[${i}]`), `disks[${i}]`);
  const target = f.optString('target');
  if (target !== undefined && !isAbsolute(target) && !target.startsWith('vdi:')) throw bad(`${f.what}.target is not an absolute path or vdi:`);
  return defined<DiskSpec>({
    target,
    format: f.oneOf('format', DISK_FORMATS),
    vdev: f.string('vdev', 64),
    devid: f.int('devid', DEVID),
    access: f.oneOf('access', DISK_ACCESS),
    cdrom: f.bool('cdrom'),
    backend: f.optString('backend', 256),
    backendtype: f.optOneOf('backendtype', DISK_BACKEND_TYPES),
    specification: f.oneOf('specification', DISK_SPECIFICATIONS),
    script: f.optString('script'),
    directIoSafe: f.bool('directIoSafe'),
    discard: f.bool('discard'),
    trusted: f.bool('trusted'),
    grantUsage: f.optBool('grantUsage'),
  });
}

function vifOf(v: unknown, i: number): DomainVif {
  const f = new Fields(obj(v, `vifs[${i}]`), `vifs[${i}]`);
  const mac = f.optString('mac');
  if (mac !== undefined && !MAC.test(mac)) throw bad(`${f.what}.mac is not a lowercase MAC`);
  let rate: DomainVif['rate'];
  if (f.o.rate !== undefined) {
    const r = new Fields(obj(f.o.rate, `${f.what}.rate`), `${f.what}.rate`);
    rate = { bytesPerInterval: r.int('bytesPerInterval', { min: 1, max: Number.MAX_SAFE_INTEGER }), intervalUsecs: r.int('intervalUsecs', { min: 1, max: Number.MAX_SAFE_INTEGER }) };
  }
  const s = (k: string) => f.optString(k, 256);
  return defined<DomainVif>({
    mac, bridge: s('bridge'), backend: s('backend'), vifname: s('vifname'), model: s('model'),
    type: f.optOneOf('type', VIF_TYPES),
    ip: s('ip'), rate, mtu: f.optInt('mtu', { min: 68, max: 65535 }), script: s('script'), gatewaydev: s('gatewaydev'),
    devid: f.int('devid', DEVID),
    trusted: f.optBool('trusted'),
    lockingMode: f.optOneOf('lockingMode', VIF_LOCKING_MODES),
    // The addresses are checked again where the switch takes them (a bad one refuses the vif).
    ipv4Allowed: f.optString('ipv4Allowed'), ipv6Allowed: f.optString('ipv6Allowed'),
  });
}

function forwardOf(v: unknown, i: number): ForwardSpec {
  const f = new Fields(obj(v, `forwards[${i}]`), `forwards[${i}]`);
  const hostAddress = f.string('hostAddress', 15);
  if (!isIPv4(hostAddress)) throw bad(`${f.what}.hostAddress is not an IPv4 address`);
  return { proto: f.oneOf('proto', ['tcp', 'udp']), hostAddress, hostPort: f.int('hostPort', PORT), guestPort: f.int('guestPort', PORT) };
}

/** The forwards, each host address and port once, as domconfig.ts checks a config's. */
function forwardsOf(items: readonly unknown[]): ForwardSpec[] {
  const clash = forwardClashes();
  return items.map((v, i) => {
    const f = forwardOf(v, i);
    const other = clash(f, i);
    if (other !== undefined) throw bad(`forwards[${i}]: ${f.proto} ${f.hostAddress}:${f.hostPort} is already forwarded by forwards[${other}]`);
    return f;
  });
}

export function configFromJson(text: string): DomainConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw bad(`not JSON (${(e as Error).message})`);
  }
  const f = new Fields(obj(raw, 'the configuration'), 'config');
  const lim = hostLimits();
  const name = f.string('name');
  const problem = domainNameProblem(name);
  if (problem) throw bad(`name ${problem}`);
  const uuid = f.optString('uuid');
  if (uuid !== undefined && !UUID.test(uuid)) throw bad('uuid is not a lowercase uuid');
  const kernel = f.string('kernel');
  if (!isAbsolute(kernel)) throw bad('kernel is not an absolute path');
  const memory = f.int('memory', lim.memoryMiB);
  const maxmem = f.int('maxmem', { min: memory, max: Number.MAX_SAFE_INTEGER });
  if (f.o.vcpus !== 1) throw bad('vcpus is not 1');
  const pool = f.optString('pool', 64);
  const poolProblem = pool === undefined ? undefined : poolNameProblem(pool);
  if (poolProblem) throw bad(`pool ${poolProblem}`);
  const c = defined<DomainConfig>({
    name, uuid, kernel, memory, maxmem, vcpus: 1,
    cpuWeight: f.optInt('cpuWeight', { min: 1, max: 65535 }),
    pool,
    cpuCap: f.optInt('cpuCap', { min: 0, max: 6400 }),
    driverDomain: f.optBool('driverDomain'),
    cmdline: f.optString('cmdline', lim.cmdlineBytes),
    onPoweroff: f.oneOf('onPoweroff', SHUTDOWN_ACTIONS),
    onReboot: f.oneOf('onReboot', SHUTDOWN_ACTIONS),
    onCrash: f.oneOf('onCrash', SHUTDOWN_ACTIONS),
    onWatchdog: f.oneOf('onWatchdog', SHUTDOWN_ACTIONS),
    onSoftReset: f.oneOf('onSoftReset', SHUTDOWN_ACTIONS),
    maxGrantFrames: f.optInt('maxGrantFrames', lim.maxGrantFrames),
    maxMaptrackFrames: f.optInt('maxMaptrackFrames', lim.maxMaptrackFrames),
    maxEventChannels: f.optInt('maxEventChannels', lim.maxEventChannels),
    disks: list(f.o.disks, 'disks').map(diskOf),
    vifs: list(f.o.vifs, 'vifs').map(vifOf),
    forwards: f.o.forwards === undefined ? undefined : forwardsOf(list(f.o.forwards, 'forwards')),
  });
  // The RAM must be addressable as the domain's geometry says.
  if (geometryOf(c).end * PAGE_SIZE > 2 ** 32) throw bad('memory is too large for one domain');
  return c;
}
