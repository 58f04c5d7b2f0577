// The domain configuration in a save image: xl keeps it as JSON in its header's optional data.
// A restore reads it back from a file or a peer, so every field is checked here as the xl.cfg
// parser checks it (domconfig.ts): types, names, the host's limits, disk and vif fields.
import { isAbsolute } from 'node:path';
import { PAGE_SIZE } from '../abi/xen.js';
import { XenError } from '../errors.js';
import { DEFAULT_MAX_GRANT_FRAMES, PFN_GRANT_TABLE } from '../hypervisor/layout.js';
import { memorySplit } from '../toolstack/builder.js';
import { SHUTDOWN_ACTIONS, domainNameProblem, type DomainConfig } from '../toolstack/domconfig.js';
import { hostLimits, type Bounds } from '../toolstack/limits.js';

/** Where a domain's RAM frames are: pfns first..end-1. */
export interface Geometry {
  readonly first: number;
  readonly end: number;
}

export function geometryOf(c: Pick<DomainConfig, 'memory' | 'maxGrantFrames'>): Geometry {
  const first = PFN_GRANT_TABLE + (c.maxGrantFrames ?? DEFAULT_MAX_GRANT_FRAMES);
  return { first, end: first + memorySplit(c.memory).ramFrames };
}

const MAX_DEVICES = 256;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function bad(what: string): XenError {
  return new XenError('EINVAL', `the save image's domain configuration is invalid: ${what}`);
}

type Obj = Record<string, unknown>;

function obj(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`${what} is not an object`);
  return v as Obj;
}

function str(o: Obj, key: string, what: string, optional: boolean, max = 4096): void {
  const v = o[key];
  if (v === undefined && optional) return;
  if (typeof v !== 'string' || Buffer.byteLength(v) > max || /\0/.test(v)) throw bad(`${what}.${key} is not a string of at most ${max} octets`);
}

function int(o: Obj, key: string, what: string, b: Bounds | undefined, optional: boolean): void {
  const v = o[key];
  if (v === undefined && optional) return;
  if (!Number.isInteger(v) || (b && ((v as number) < b.min || (v as number) > b.max))) {
    throw bad(`${what}.${key} is not an integer${b ? ` in ${b.min}..${b.max}` : ''}`);
  }
}

function bool(o: Obj, key: string, what: string, optional: boolean): void {
  const v = o[key];
  if (!(v === undefined && optional) && typeof v !== 'boolean') throw bad(`${what}.${key} is not true or false`);
}

function oneOf(o: Obj, key: string, what: string, values: readonly string[], optional: boolean): void {
  const v = o[key];
  if (!(v === undefined && optional) && !values.includes(v as string)) throw bad(`${what}.${key} is not one of ${values.join(', ')}`);
}

const DEVID: Bounds = { min: 0, max: 0x7fffffff };

export function configFromJson(text: string): DomainConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw bad(`not JSON (${(e as Error).message})`);
  }
  const c = obj(raw, 'the configuration');
  const lim = hostLimits();
  str(c, 'name', 'config', false);
  const problem = domainNameProblem(c.name as string);
  if (problem) throw bad(`name ${problem}`);
  if (c.uuid !== undefined && (typeof c.uuid !== 'string' || !UUID.test(c.uuid))) throw bad('uuid is not a lowercase uuid');
  str(c, 'kernel', 'config', false);
  if (!isAbsolute(c.kernel as string)) throw bad('kernel is not an absolute path');
  int(c, 'memory', 'config', lim.memoryMiB, false);
  int(c, 'maxmem', 'config', { min: c.memory as number, max: Number.MAX_SAFE_INTEGER }, false);
  if (c.vcpus !== 1) throw bad('vcpus is not 1');
  int(c, 'cpuWeight', 'config', { min: 1, max: 65535 }, true);
  bool(c, 'driverDomain', 'config', true);
  str(c, 'cmdline', 'config', true, lim.cmdlineBytes);
  for (const k of ['onPoweroff', 'onReboot', 'onCrash', 'onWatchdog', 'onSoftReset']) oneOf(c, k, 'config', SHUTDOWN_ACTIONS, false);
  int(c, 'maxGrantFrames', 'config', lim.maxGrantFrames, true);
  int(c, 'maxMaptrackFrames', 'config', lim.maxMaptrackFrames, true);
  int(c, 'maxEventChannels', 'config', lim.maxEventChannels, true);
  if (!Array.isArray(c.disks) || c.disks.length > MAX_DEVICES) throw bad(`disks is not a list of at most ${MAX_DEVICES}`);
  if (!Array.isArray(c.vifs) || c.vifs.length > MAX_DEVICES) throw bad(`vifs is not a list of at most ${MAX_DEVICES}`);
  c.disks.forEach((v: unknown, i) => {
    const d = obj(v, `disks[${i}]`);
    const w = `disks[${i}]`;
    str(d, 'target', w, true);
    oneOf(d, 'format', w, ['raw', 'qcow', 'qcow2', 'vhd', 'qed', 'empty'], false);
    str(d, 'vdev', w, false, 64);
    int(d, 'devid', w, DEVID, false);
    oneOf(d, 'access', w, ['ro', 'rw'], false);
    bool(d, 'cdrom', w, false);
    str(d, 'backend', w, true, 256);
    oneOf(d, 'backendtype', w, ['phy', 'qdisk', 'standalone', 'tap'], true);
    oneOf(d, 'specification', w, ['xen', 'virtio'], false);
    str(d, 'script', w, true);
    for (const k of ['directIoSafe', 'discard', 'trusted']) bool(d, k, w, false);
    bool(d, 'grantUsage', w, true);
    if (d.target !== undefined && !isAbsolute(d.target as string) && !/^vdi:/.test(d.target as string)) throw bad(`${w}.target is not an absolute path or vdi:`);
  });
  c.vifs.forEach((v: unknown, i) => {
    const n = obj(v, `vifs[${i}]`);
    const w = `vifs[${i}]`;
    if (n.mac !== undefined && (typeof n.mac !== 'string' || !MAC.test(n.mac))) throw bad(`${w}.mac is not a lowercase MAC`);
    for (const k of ['bridge', 'backend', 'vifname', 'model', 'ip', 'script', 'gatewaydev']) str(n, k, w, true, 256);
    // The addresses are checked again where the switch takes them (a bad one refuses the vif).
    for (const k of ['ipv4Allowed', 'ipv6Allowed']) str(n, k, w, true, 4096);
    oneOf(n, 'type', w, ['vif', 'ioemu'], true);
    oneOf(n, 'lockingMode', w, ['locked', 'unlocked', 'disabled'], true);
    int(n, 'mtu', w, { min: 68, max: 65535 }, true);
    int(n, 'devid', w, DEVID, false);
    bool(n, 'trusted', w, true);
    if (n.rate !== undefined) {
      const r = obj(n.rate, `${w}.rate`);
      int(r, 'bytesPerInterval', `${w}.rate`, { min: 1, max: Number.MAX_SAFE_INTEGER }, false);
      int(r, 'intervalUsecs', `${w}.rate`, { min: 1, max: Number.MAX_SAFE_INTEGER }, false);
    }
  });
  // The RAM must be addressable as the domain's geometry says.
  if (geometryOf(c as unknown as DomainConfig).end * PAGE_SIZE > 2 ** 32) throw bad('memory is too large for one domain');
  return c as unknown as DomainConfig;
}
