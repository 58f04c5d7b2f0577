// Network interface specifications, xl-network-configuration(5): comma-separated KEY=VALUE
// settings and flags, all optional ('' is a valid vifspec). As in xl, empty items are skipped
// and spaces before an item are ignored. Unlike xl, which prints "unrecognized argument" and
// carries on, an unknown key or a key given twice is an error.
//
// Keys left out are left undefined here: their defaults belong to the host (xl.conf's
// vif.default.*), not to the spec. For reference, xl's are bridge xenbr0, script vif-bridge,
// backend domain 0, model rtl8139, type vif for PV guests, mtu 1500 (or the bridge's), and a
// MAC generated in Xen's OUI 00:16:3e (see randomVifMac).
import { randomBytes } from 'node:crypto';
import { isIP, isIPv4, isIPv6 } from 'node:net';

export const VIF_TYPES = ['vif', 'ioemu'] as const;
export type VifType = (typeof VIF_TYPES)[number];

/**
 * XenAPI's VIF.locking_mode, as a xenode key (xl has none): `locked` lets the vif send only from
 * its mac= and the addresses of ipv4-allowed= and ipv6-allowed= (nothing else), `unlocked`
 * anything, `disabled` nothing (in or out). Left out (XenAPI's network_default), the
 * backend's default holds: the vif sends only from its mac=.
 */
export type VifLockingMode = 'locked' | 'unlocked' | 'disabled';
export const VIF_LOCKING_MODES: readonly VifLockingMode[] = ['locked', 'unlocked', 'disabled'];

/** Outgoing rate limit: credit of bytesPerInterval, replenished every intervalUsecs. */
export interface VifRate {
  readonly bytesPerInterval: number;
  readonly intervalUsecs: number;
}

export interface VifSpec {
  /** Lowercase aa:bb:cc:dd:ee:ff, unicast. */
  readonly mac?: string;
  readonly bridge?: string;
  /** Backend domain name or id. */
  readonly backend?: string;
  /** Backend interface name (the default is vifDOMID.DEVID). */
  readonly vifname?: string;
  readonly model?: string;
  readonly type?: VifType;
  /** One or more addresses, space-separated, each IPv4 or IPv6 with an optional /prefix. */
  readonly ip?: string;
  readonly rate?: VifRate;
  readonly mtu?: number;
  readonly script?: string;
  readonly gatewaydev?: string;
  /** Device id; the default is the spec's index in the vif list. */
  readonly devid?: number;
  /** Advisory: may the frontend trust the backend. */
  readonly trusted?: boolean;
  /** locking-mode= (a xenode key): written to the backend's locking-mode node. */
  readonly lockingMode?: VifLockingMode;
  /** ipv4-allowed= and ipv6-allowed= (xenode keys, XenAPI's VIF.ipv4_allowed and ipv6_allowed): space-separated addresses a locked vif may send from. */
  readonly ipv4Allowed?: string;
  readonly ipv6Allowed?: string;
}

/** A vif specification is malformed; reason says what is wrong. */
export class VifSpecError extends Error {
  override name = 'VifSpecError';
  constructor(readonly spec: string, readonly reason: string) {
    super(`vif spec '${spec}': ${reason}`);
  }
}

/** Xen's OUI, the prefix xl gives the MACs it generates. */
export const XEN_OUI: readonly [number, number, number] = [0x00, 0x16, 0x3e];

/** A MAC as xl generates one: Xen's OUI, then 23 random bits (the top bit of byte 3 clear). */
export function randomVifMac(random: Uint8Array = randomBytes(3)): string {
  const bytes = [...XEN_OUI, random[0]! & 0x7f, random[1]!, random[2]!];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

const UINT32_MAX = 0xffffffff;
const RATE_UNIT: Readonly<Record<string, number>> = { '': 1, K: 1e3, M: 1e6, G: 1e9 };
const INTERVAL_UNIT: Readonly<Record<string, number>> = { '': 1e6, s: 1e6, m: 1e3, ms: 1e3, u: 1, us: 1 };
/** xl's default replenishment interval: 50 ms. */
const DEFAULT_RATE_INTERVAL_US = 50_000;

type StringKey = 'bridge' | 'backend' | 'vifname' | 'model' | 'script' | 'gatewaydev';

class VifParser {
  readonly out: { -readonly [K in keyof VifSpec]: VifSpec[K] } = {};

  constructor(readonly spec: string) {}

  fail(reason: string): VifSpecError {
    return new VifSpecError(this.spec, reason);
  }

  set<K extends keyof VifSpec>(key: K, label: string, value: NonNullable<VifSpec[K]>): void {
    if (this.out[key] !== undefined) throw this.fail(`${label} is given twice`);
    this.out[key] = value;
  }

  run(): VifSpec {
    for (const raw of this.spec.split(',')) {
      const item = raw.replace(/^ +/, '');
      if (item === '') continue;
      const eq = item.indexOf('=');
      if (eq < 0) {
        if (item !== 'trusted' && item !== 'untrusted') {
          throw this.fail(`'${item}' is not KEY=VALUE (the only flags are trusted and untrusted)`);
        }
        this.set('trusted', 'trusted/untrusted', item === 'trusted');
        continue;
      }
      const key = item.slice(0, eq);
      const value = item.slice(eq + 1);
      if (value === '') throw this.fail(`${key}= needs a value`);
      this.keyValue(key, value);
    }
    return this.out;
  }

  keyValue(key: string, value: string): void {
    switch (key) {
      case 'mac': return this.set('mac', key, this.mac(value));
      case 'type':
        if (value !== 'vif' && value !== 'ioemu') throw this.fail(`unknown type '${value}': use vif or ioemu`);
        return this.set('type', key, value);
      case 'ip': return this.set('ip', key, this.ip(value));
      case 'rate': return this.set('rate', key, this.rate(value));
      case 'mtu': return this.set('mtu', key, this.decimal(key, value, 68, 65535));
      case 'devid': return this.set('devid', key, this.decimal(key, value, 0, 0x7fffffff));
      case 'vifname':
        if (value.length > 15 || /[\s/:]/.test(value)) {
          throw this.fail(`vifname '${value}' is not an interface name: at most 15 characters, no spaces, '/' or ':'`);
        }
        return this.set('vifname', key, value);
      // netdev is xl's deprecated name for gatewaydev.
      case 'netdev': case 'gatewaydev': return this.set('gatewaydev', 'gatewaydev (netdev)', value);
      case 'bridge': case 'backend': case 'model': case 'script':
        return this.set(key as StringKey, key, value);
      case 'locking-mode':
        if (!(VIF_LOCKING_MODES as readonly string[]).includes(value)) throw this.fail(`unknown locking-mode '${value}': use locked, unlocked or disabled`);
        return this.set('lockingMode', key, value as VifLockingMode);
      case 'ipv4-allowed': return this.set('ipv4Allowed', key, this.addresses(key, value, 4));
      case 'ipv6-allowed': return this.set('ipv6Allowed', key, this.addresses(key, value, 6));
      default:
        throw this.fail(`unknown key '${key}' (known: mac, bridge, backend, vifname, model, type, ip, rate, mtu, ` +
          'script, gatewaydev, devid, locking-mode, ipv4-allowed, ipv6-allowed, trusted, untrusted)');
    }
  }

  mac(value: string): string {
    if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(value)) {
      throw this.fail(`mac '${value}' is not six two-digit hex bytes separated by ':' (e.g. 00:16:3e:12:34:56)`);
    }
    const mac = value.toLowerCase();
    if (parseInt(mac.slice(0, 2), 16) & 1) {
      throw this.fail(`mac '${value}' is a multicast address (lowest bit of the first byte set): a vif needs unicast`);
    }
    if (mac === '00:00:00:00:00:00') throw this.fail('mac 00:00:00:00:00:00 is not an address');
    return mac;
  }

  ip(value: string): string {
    for (const addr of value.split(' ').filter((a) => a !== '')) {
      const m = /^([^/]+)(?:\/(0|[1-9][0-9]{0,2}))?$/.exec(addr);
      const family = m === null ? 0 : isIP(m[1]!);
      if (family === 0 || (m![2] !== undefined && Number(m![2]) > (family === 4 ? 32 : 128))) {
        throw this.fail(`ip '${addr}' is not an IPv4 or IPv6 address (with an optional /prefix)`);
      }
    }
    return value;
  }

  /** Space-separated addresses of one family, no prefixes. */
  addresses(key: string, value: string, family: 4 | 6): string {
    const list = value.split(' ').filter((a) => a !== '');
    for (const a of list) if (!(family === 4 ? isIPv4(a) : isIPv6(a))) throw this.fail(`${key}: '${a}' is not an IPv${family} address`);
    return list.join(' ');
  }

  decimal(key: string, value: string, min: number, max: number): number {
    const n = /^(0|[1-9][0-9]*)$/.test(value) ? Number(value) : NaN;
    if (!(n >= min && n <= max)) throw this.fail(`${key} must be a decimal integer from ${min} to ${max}, not '${value}'`);
    return n;
  }

  /** RATE[@INTERVAL]: RATE is N{,K,M,G}{B,b}/s (bytes or bits), INTERVAL is N{s,ms,us} (default 50ms). */
  rate(value: string): VifRate {
    const at = value.indexOf('@');
    const ratePart = at < 0 ? value : value.slice(0, at);
    const r = /^([0-9]+)([KMG]?)([Bb])\/s$/.exec(ratePart);
    if (r === null) throw this.fail(`rate '${ratePart}' is not of the form N[K|M|G]B/s (bytes) or N[K|M|G]b/s (bits)`);
    const count = Number(r[1]);
    if (count === 0 || count > UINT32_MAX) throw this.fail(`rate '${ratePart}': the number must be 1 to ${UINT32_MAX}`);
    // Integer bytes per second; bits are rounded down to whole bytes, as xl does.
    const bytesPerSec = (BigInt(count) * BigInt(RATE_UNIT[r[2]!]!)) / (r[3] === 'b' ? 8n : 1n);
    let intervalUsecs = DEFAULT_RATE_INTERVAL_US;
    if (at >= 0) {
      const intervalPart = value.slice(at + 1);
      const i = /^([0-9]+)(s|ms|us|m|u)?$/.exec(intervalPart);
      if (i === null) throw this.fail(`rate interval '${intervalPart}' is not of the form N[s|ms|us]`);
      const usecs = Number(i[1]) * INTERVAL_UNIT[i[2] ?? '']!;
      if (usecs === 0 || usecs > UINT32_MAX) {
        throw this.fail(`rate interval '${intervalPart}' must be from 1us to ${UINT32_MAX}us`);
      }
      intervalUsecs = usecs;
    }
    const perInterval = (bytesPerSec * BigInt(intervalUsecs)) / 1_000_000n;
    if (perInterval > BigInt(Number.MAX_SAFE_INTEGER)) throw this.fail(`rate '${value}' is too large`);
    return { bytesPerInterval: Number(perInterval), intervalUsecs };
  }
}

/** Parses one vifspec. Throws VifSpecError (and nothing else) if it is malformed. */
export function parseVifSpec(spec: string): VifSpec {
  return new VifParser(spec).run();
}
