// XenAPI's VIF locking modes as the switch enforces them on a port (XAPI's setup-vif-rules does
// it with OpenFlow rules on the vif's port): `unlocked` lets anything through; `locked` only
// frames from the port's MAC whose IPv4 source (IPv4, and ARP's sender) or IPv6 source is one
// of the allowed addresses, so a family with none allowed, and any other protocol, does not
// pass ("if no IP addresses are specified, no traffic is allowed"); `disabled` nothing, in or
// out. Without a mode the port keeps the switch's default: its MAC alone is checked.
import { isIPv4, isIPv6 } from 'node:net';
import { XenError } from '../errors.js';
import { ETH_P_ARP, ETH_P_IPV4, ETH_P_IPV6, ETH_ALEN, macAt } from './mac.js';
import type { PortLocking } from './port.js';

const ARP_LEN = 28;
const IPV4_HLEN = 20;
const IPV6_HLEN = 40;

/** An IPv4 address as its 32-bit number. */
function ipv4Number(text: string): number {
  if (!isIPv4(text)) throw new XenError('EINVAL', `invalid IPv4 address '${text}'`);
  return text.split('.').reduce((n, b) => n * 256 + Number(b), 0);
}

/** An IPv6 address as 32 hex digits (the 16 bytes in order), '::' and an IPv4 tail expanded. */
function ipv6Hex(text: string): string {
  if (!isIPv6(text)) throw new XenError('EINVAL', `invalid IPv6 address '${text}'`);
  let s = text.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = ipv4Number(v4[1]!);
    s = `${s.slice(0, v4.index)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') as [string, string] : [s, undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => g.padStart(4, '0')).join('');
}

function hexAt(frame: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += frame[off + i]!.toString(16).padStart(2, '0');
  return s;
}

/** A port's locking, checked: what the bridge asks of each frame the port sends. */
export class SourceLock {
  readonly disabled: boolean;
  readonly #ipv4: ReadonlySet<number>;
  readonly #ipv6: ReadonlySet<string>;

  private constructor(readonly locking: PortLocking) {
    this.disabled = locking.mode === 'disabled';
    this.#ipv4 = new Set((locking.ipv4Allowed ?? []).map(ipv4Number));
    this.#ipv6 = new Set((locking.ipv6Allowed ?? []).map(ipv6Hex));
  }

  /** The lock for `locking`, or null for unlocked (nothing to check); EINVAL for a bad mode or address. */
  static of(locking: PortLocking): SourceLock | null {
    const mode: string = locking.mode;
    if (mode !== 'locked' && mode !== 'unlocked' && mode !== 'disabled') throw new XenError('EINVAL', `unknown locking mode '${mode.slice(0, 20)}'`);
    const lock = new SourceLock(locking);
    return mode === 'unlocked' ? null : lock;
  }

  /**
   * Does a locked port's frame pass: its network header at `l3` (after any VLAN tag), its
   * EtherType just before; `mac` the port's (null: any). The source MAC was checked already.
   */
  allows(frame: Uint8Array, l3: number, mac: number | null): boolean {
    if (this.disabled) return false;
    const type = (frame[l3 - 2]! << 8) | frame[l3 - 1]!;
    switch (type) {
      case ETH_P_ARP:
        // The sender's hardware and protocol addresses: an ARP reply can poison caches without any IP header.
        if (frame.length < l3 + ARP_LEN) return false;
        if (mac !== null && macAt(frame, l3 + 8) !== mac) return false;
        return this.#ipv4.has(((frame[l3 + 8 + ETH_ALEN]! << 24) >>> 0) + (frame[l3 + 15]! << 16) + (frame[l3 + 16]! << 8) + frame[l3 + 17]!);
      case ETH_P_IPV4:
        if (frame.length < l3 + IPV4_HLEN) return false;
        return this.#ipv4.has(((frame[l3 + 12]! << 24) >>> 0) + (frame[l3 + 13]! << 16) + (frame[l3 + 14]! << 8) + frame[l3 + 15]!);
      case ETH_P_IPV6:
        if (frame.length < l3 + IPV6_HLEN || this.#ipv6.size === 0) return false;
        return this.#ipv6.has(hexAt(frame, l3 + 8, 16));
      default:
        return false;
    }
  }
}
