// Disk specifications, xl-disk-configuration(5), parsed as libxlutil's disk lexer
// (libxlu_disk_l.l) does:
//
//   [<key>=<value>|<flag>,]* [<target>, [<format>, [<vdev>, [<access>]]]], [<key>=<value>|<flag>,]* [target=<target>]
//
// Parameters are separated by commas; whitespace before a parameter is ignored (after it, it
// is part of the value, as in xl). Bare words fill the positional slots target, format, vdev,
// access in that order. `target=` takes the rest of the string, commas included, so it comes
// last. An empty value means the default. The deprecated xend forms are accepted too, as xl
// accepts them: prefixes (`phy:`, `file:`, `tap:aio:`, `raw:`, `qcow2:`, `vhd:`, `nbd:`, ...)
// and `<vdev>:cdrom`.
//
// Each parameter may be given once (the man page's rule). As in xl, giving an enum the same
// value twice is tolerated and a parameter set to the empty string may be set again.
import { parseCInteger } from './xlcfg.js';

/** Each field's values, as the parser gives them (and a save image's configuration is checked against). */
export const DISK_FORMATS = ['raw', 'qcow', 'qcow2', 'vhd', 'qed', 'empty'] as const;
export const DISK_BACKEND_TYPES = ['phy', 'qdisk', 'standalone', 'tap'] as const;
export const DISK_SPECIFICATIONS = ['xen', 'virtio'] as const;
export const DISK_ACCESS = ['ro', 'rw'] as const;
export type DiskFormat = (typeof DISK_FORMATS)[number];
export type DiskBackendType = (typeof DISK_BACKEND_TYPES)[number];
export type DiskSpecification = (typeof DISK_SPECIFICATIONS)[number];
export type DiskAccess = (typeof DISK_ACCESS)[number];

export interface DiskSpec {
  /** Image or device path; undefined for an empty cdrom drive. */
  readonly target?: string;
  /** 'empty' for a cdrom drive without a medium. Default raw. */
  readonly format: DiskFormat;
  /** The guest's name for the disk, as written (xvda, hdc, sdb1, d3p1, 51712, ...). */
  readonly vdev: string;
  /** The virtual device number that names the device in xenstore (xen-vbd-interface(7)). */
  readonly devid: number;
  /** rw unless the device is a cdrom, which is always read-only. */
  readonly access: DiskAccess;
  readonly cdrom: boolean;
  /** Backend domain name; undefined means domain 0. */
  readonly backend?: string;
  /** Backend implementation; undefined lets the toolstack choose. */
  readonly backendtype?: DiskBackendType;
  /** Default xen. */
  readonly specification: DiskSpecification;
  /** Hotplug script that interprets the target (block-SCRIPT). */
  readonly script?: string;
  readonly directIoSafe: boolean;
  /** Advertise discard to the frontend. Default true. */
  readonly discard: boolean;
  /** Advisory: may the frontend trust the backend. Default true. */
  readonly trusted: boolean;
  /** Grant use for virtio; undefined lets the toolstack choose (xl: on unless the backend is dom0). */
  readonly grantUsage?: boolean;
}

/** A disk specification is malformed; reason says what is wrong. */
export class DiskSpecError extends Error {
  override name = 'DiskSpecError';
  constructor(readonly spec: string, readonly reason: string) {
    super(`disk spec '${spec}': ${reason}`);
  }
}

const FORMATS: Readonly<Record<string, DiskFormat>> = {
  '': 'raw', raw: 'raw', qcow: 'qcow', qcow2: 'qcow2', vhd: 'vhd', qed: 'qed', empty: 'empty',
};
const BACKEND_TYPES: ReadonlySet<string> = new Set(DISK_BACKEND_TYPES);
const SPECIFICATIONS: ReadonlySet<string> = new Set(DISK_SPECIFICATIONS);
const ACCESS: Readonly<Record<string, DiskAccess>> = { '': 'rw', r: 'ro', ro: 'ro', rw: 'rw', w: 'rw' };

/** Deprecated prefixes xl still strips: formats, block scripts, and ones it ignores. */
const FORMAT_PREFIXES: ReadonlySet<string> = new Set(['raw', 'qcow', 'qcow2', 'vhd']);
const SCRIPT_PREFIXES: ReadonlySet<string> = new Set(['iscsi', 'nbd', 'enbd', 'drbd']);
const IGNORED_PREFIXES: ReadonlySet<string> = new Set(['tapdisk', 'tap', 'tap2', 'aio', 'ioemu', 'file', 'phy']);
const COLO_PARAMETERS: ReadonlySet<string> = new Set(
  ['colo', 'no-colo', 'colo-host', 'colo-port', 'colo-export', 'active-disk', 'hidden-disk']);

interface DiskState {
  target?: string;
  format?: DiskFormat;
  vdev?: string;
  access?: DiskAccess;
  cdrom?: boolean;
  backend?: string;
  backendtype?: DiskBackendType;
  specification?: DiskSpecification;
  script?: string;
  directIoSafe?: boolean;
  discard?: boolean;
  trusted?: boolean;
  grantUsage?: boolean;
  /** A deprecated prefix took the place of the format slot. */
  hadPrefix: boolean;
}

type StringParam = 'target' | 'vdev' | 'backend' | 'script';
type EnumParam = 'format' | 'access' | 'backendtype' | 'specification' | 'cdrom' | 'discard' | 'trusted' |
  'grantUsage' | 'directIoSafe';

class DiskParser {
  readonly s: DiskState = { hadPrefix: false };

  constructor(readonly spec: string) {}

  fail(reason: string): DiskSpecError {
    return new DiskSpecError(this.spec, reason);
  }

  /** A string parameter: once, except that an empty value may be replaced. */
  setString(name: StringParam, value: string): void {
    const old = this.s[name];
    if (old !== undefined && old !== '') throw this.fail(`${name} is given twice ('${old}', then '${value}')`);
    this.s[name] = value;
  }

  /** An enumerated parameter: once, though repeating the same value is harmless. */
  setEnum<K extends EnumParam>(name: K, value: NonNullable<DiskState[K]>, label = name as string): void {
    const old = this.s[name];
    if (old !== undefined && old !== value) throw this.fail(`${label} is given twice (${String(old)}, then ${String(value)})`);
    this.s[name] = value;
  }

  setFormat(value: string): void {
    const f = FORMATS[value];
    if (f === undefined) throw this.fail(`unknown format '${value}': use raw, qcow, qcow2, vhd or qed`);
    this.setEnum('format', f);
  }

  setAccess(value: string): void {
    const a = ACCESS[value];
    if (a === undefined) throw this.fail(`unknown access '${value}': use ro (or r) or rw (or w)`);
    this.setEnum('access', a);
  }

  /** The deprecated `<vdev>:<devtype>` form; false if value has no colon. */
  vdevAndDevtype(value: string): boolean {
    const colon = value.lastIndexOf(':');
    if (colon < 0) return false;
    const devtype = value.slice(colon + 1);
    if (devtype !== 'cdrom' && devtype !== 'disk') {
      throw this.fail(`unknown device type '${devtype}' after '${value.slice(0, colon)}:': use cdrom or disk`);
    }
    this.setString('vdev', value.slice(0, colon));
    this.setEnum('cdrom', devtype === 'cdrom', 'devtype');
    return true;
  }

  positional(value: string): void {
    const s = this.s;
    if (s.target === undefined) {
      this.setString('target', value);
    } else if (!s.hadPrefix && s.format === undefined) {
      // xend's empty-cdrom form: ",hdc:cdrom,r".
      if (s.target === '' && this.vdevAndDevtype(value)) this.s.format = 'empty';
      else this.setFormat(value);
    } else if (s.vdev === undefined) {
      if (!this.vdevAndDevtype(value)) this.setString('vdev', value);
    } else if (s.access === undefined) {
      this.setAccess(value);
    } else {
      throw this.fail(`too many positional parameters at '${value}' (they are target, format, vdev, access)`);
    }
  }

  keyValue(key: string, value: string): void {
    switch (key) {
      case 'format': return this.setFormat(value);
      case 'access': return this.setAccess(value);
      case 'vdev': return this.setString('vdev', value);
      case 'backend': return this.setString('backend', value);
      case 'script': return this.setString('script', value);
      case 'devtype':
        if (value !== 'cdrom' && value !== 'disk') throw this.fail(`unknown devtype '${value}': use cdrom or disk`);
        return this.setEnum('cdrom', value === 'cdrom', 'devtype');
      case 'backendtype':
        if (!BACKEND_TYPES.has(value)) {
          throw this.fail(`unknown backendtype '${value}': use phy, qdisk, standalone or tap`);
        }
        return this.setEnum('backendtype', value as DiskBackendType);
      case 'specification':
        if (!SPECIFICATIONS.has(value)) throw this.fail(`unknown specification '${value}': use xen or virtio`);
        return this.setEnum('specification', value as DiskSpecification);
      case 'grant_usage':
        if (value !== '0' && value !== '1') throw this.fail(`grant_usage must be 0 or 1, not '${value}'`);
        return this.setEnum('grantUsage', value === '1', 'grant_usage');
      default:
        throw this.unknown(key);
    }
  }

  flag(word: string): boolean {
    switch (word) {
      case 'cdrom': this.setEnum('cdrom', true, 'devtype'); return true;
      case 'direct-io-safe': this.setEnum('directIoSafe', true, 'direct-io-safe'); return true;
      case 'discard': this.setEnum('discard', true); return true;
      case 'no-discard': this.setEnum('discard', false); return true;
      case 'trusted': this.setEnum('trusted', true); return true;
      case 'untrusted': this.setEnum('trusted', false); return true;
      default:
        if (COLO_PARAMETERS.has(word)) throw this.unknown(word);
        return false;
    }
  }

  unknown(key: string): DiskSpecError {
    if (COLO_PARAMETERS.has(key)) return this.fail(`'${key}': COLO disk replication is not supported`);
    return this.fail(`unknown parameter '${key}' (known: target, format, vdev, access, devtype, cdrom, backend, ` +
      'backendtype, script, specification, direct-io-safe, discard, no-discard, trusted, untrusted, grant_usage)');
  }

  /** A deprecated `word:` prefix at spec[at]; returns its length, or 0 if there is none. */
  prefix(at: number): number {
    const re = /([a-z][a-z0-9]*):/y;
    re.lastIndex = at;
    const m = re.exec(this.spec);
    if (m === null) return 0;
    const word = m[1]!;
    if (FORMAT_PREFIXES.has(word)) {
      this.setFormat(word);
    } else if (SCRIPT_PREFIXES.has(word)) {
      this.setString('script', `block-${word}`);
    } else if (!IGNORED_PREFIXES.has(word)) {
      // "hdc:cdrom" is a vdev with a devtype, not a prefix: xl tells them apart by what follows.
      if (/[a-z0-9]/.test(this.spec[re.lastIndex] ?? '')) return 0;
      throw this.fail(`unknown deprecated prefix '${word}:' (write the target as target=... if it contains ':')`);
    }
    this.s.hadPrefix = true;
    return m[0].length;
  }

  run(): DiskSpec {
    const spec = this.spec;
    let i = 0;
    while (i < spec.length) {
      const c = spec[i]!;
      if (c === ' ' || c === '\t' || c === '\n') {
        i++;
        continue;
      }
      if (spec.startsWith('target=', i)) {
        const t = spec.slice(i + 'target='.length);
        this.setString('target', t.endsWith(',') ? t.slice(0, -1) : t);
        break;
      }
      const prefixLength = this.prefix(i);
      if (prefixLength > 0) {
        i += prefixLength;
        continue;
      }
      const comma = spec.indexOf(',', i);
      const end = comma < 0 ? spec.length : comma;
      const word = spec.slice(i, end);
      i = comma < 0 ? end : end + 1;
      const eq = word.indexOf('=');
      if (eq >= 0) {
        const key = word.slice(0, eq);
        if (!/^[a-z][-_a-z0-9]*$/.test(key)) throw this.fail(`bad disk syntax near '${word}'`);
        this.keyValue(key, word.slice(eq + 1));
      } else if (!this.flag(word)) {
        this.positional(word);
      }
    }
    return this.finish();
  }

  finish(): DiskSpec {
    const s = this.s;
    const cdrom = s.cdrom ?? false;
    if (s.vdev === undefined || s.vdev === '') throw this.fail('no vdev given (the guest device name, e.g. xvda)');
    const target = s.target === '' ? undefined : s.target;
    if (target === undefined && !cdrom) throw this.fail('no target given (and the device is not a cdrom)');
    const devid = vdevToDevid(s.vdev);
    if (devid === undefined) {
      throw this.fail(`invalid vdev '${s.vdev}': use xvdX[N], hdX[N], sdX[N], dNpN or a device number`);
    }
    return {
      format: cdrom && target === undefined ? 'empty' : s.format ?? 'raw',
      vdev: s.vdev,
      devid,
      access: cdrom ? 'ro' : s.access ?? 'rw',
      cdrom,
      specification: s.specification ?? 'xen',
      directIoSafe: s.directIoSafe ?? false,
      discard: s.discard ?? true,
      trusted: s.trusted ?? true,
      ...(target === undefined ? {} : { target }),
      ...(s.backend === undefined || s.backend === '' ? {} : { backend: s.backend }),
      ...(s.backendtype === undefined ? {} : { backendtype: s.backendtype }),
      ...(s.script === undefined || s.script === '' ? {} : { script: s.script }),
      ...(s.grantUsage === undefined ? {} : { grantUsage: s.grantUsage }),
    };
  }
}

/** Parses one DISKSPEC. Throws DiskSpecError (and nothing else) if it is malformed. */
export function parseDiskSpec(spec: string): DiskSpec {
  return new DiskParser(spec).run();
}

/**
 * Decodes `<letters>[<partition>]` after a device-type prefix: the letters count in bijective
 * base 26 (a=0, z=25, aa=26, ...), the partition is decimal without leading zeros (0 when
 * absent). Undefined if name does not have that form or exceeds the limits.
 */
function diskAndPartition(name: string, maxDisk: number, maxPartition: number): [number, number] | undefined {
  const m = /^([a-z]+)([1-9][0-9]*)?$/.exec(name);
  if (m === null) return undefined;
  let disk = -1;
  for (const ch of m[1]!) {
    disk = (disk + 1) * 26 + (ch.charCodeAt(0) - 97);
    if (disk > maxDisk) return undefined;
  }
  const partition = m[2] === undefined ? 0 : Number(m[2]);
  return partition > maxPartition ? undefined : [disk, partition];
}

/** xvd numbering for disk and partition: compact when both fit in 4 bits, else extended. */
function xvdDevid(disk: number, partition: number): number {
  return disk <= 15 && partition <= 15 ? (202 << 8) | (disk << 4) | partition : (1 << 28) | (disk << 8) | partition;
}

/**
 * The virtual device number of a vdev, as xen-vbd-interface(7) and libxl compute it;
 * undefined if vdev is not valid.
 *   xvd (and dNpN): 202 << 8 | disk << 4 | partition      disks and partitions up to 15
 *                   1 << 28 | disk << 8 | partition       disks up to 2^20-1, partitions up to 255
 *   hd:             3 << 8 | disk << 6 | partition        disks 0..1, partitions 0..63
 *                   22 << 8 | (disk-2) << 6 | partition   disks 2..3
 *   sd:             8 << 8 | disk << 4 | partition        disks and partitions up to 15
 *   a bare number (decimal, 0-octal or 0x-hex) up to 2^31-1 is taken as the device number.
 */
export function vdevToDevid(vdev: string): number | undefined {
  const d = /^d(0|[1-9][0-9]*)(?:p(0|[1-9][0-9]*))?$/.exec(vdev);
  if (d !== null) {
    const disk = Number(d[1]);
    const partition = d[2] === undefined ? 0 : Number(d[2]);
    return disk < 1 << 20 && partition < 256 ? xvdDevid(disk, partition) : undefined;
  }
  if (vdev.startsWith('xvd')) {
    const dp = diskAndPartition(vdev.slice(3), (1 << 20) - 1, 255);
    return dp === undefined ? undefined : xvdDevid(...dp);
  }
  const n = parseCInteger(vdev);
  if (n !== undefined) return n <= 0x7fffffff ? n : undefined;
  if (vdev.startsWith('hd')) {
    const dp = diskAndPartition(vdev.slice(2), 3, 63);
    if (dp === undefined) return undefined;
    const [disk, partition] = dp;
    return ((disk < 2 ? 3 : 22) << 8) | ((disk & 1) << 6) | partition;
  }
  if (vdev.startsWith('sd')) {
    const dp = diskAndPartition(vdev.slice(2), 15, 15);
    return dp === undefined ? undefined : (8 << 8) | (dp[0] << 4) | dp[1];
  }
  return undefined;
}
