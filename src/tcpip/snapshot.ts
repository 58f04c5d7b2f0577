// A stack's state as plain, structured-cloneable data, for a guest's suspend record: its
// address (and DHCP lease with its age), DNS servers, ARP cache and TCP layer. Read back from a
// save file it is outside input: checkStackSnapshot refuses what is not well-formed.
import type { Ipv4 } from './addr.js';
import type { DhcpLease } from './dhcp.js';
import { TcpipError } from './errors.js';
import { checkTcpSnapshot, isNonNeg, isU32, type TcpSnapshot } from './tcp/snapshot.js';

export interface StackSnapshot {
  readonly address: Ipv4;
  readonly netmask: Ipv4;
  readonly gateway: Ipv4 | undefined;
  readonly dns: readonly Ipv4[];
  /** [address, MAC, ms left]. */
  readonly arp: readonly (readonly [Ipv4, Uint8Array, number])[];
  /** The DHCP lease and how long ago it was bound; absent for a static address. */
  readonly lease: { readonly lease: DhcpLease; readonly ageMs: number } | undefined;
  readonly tcp: TcpSnapshot;
}

function bad(what: string): never {
  throw new TcpipError('EINVAL', `the suspended stack state is malformed: ${what}`);
}

// An address is any 32-bit value; a time any finite amount of milliseconds or seconds left.
const isAddr = isU32;
const isTime = isNonNeg;

/** `v` as a StackSnapshot, or EINVAL saying what is wrong. */
export function checkStackSnapshot(v: unknown): StackSnapshot {
  const s = v as Partial<StackSnapshot> | null;
  if (typeof s !== 'object' || s === null) bad('not an object');
  if (!isAddr(s.address) || !isAddr(s.netmask) || !(s.gateway === undefined || isAddr(s.gateway))) bad('the address');
  if (!Array.isArray(s.dns) || s.dns.length > 16 || !s.dns.every(isAddr)) bad('dns');
  if (!Array.isArray(s.arp) || s.arp.length > 4096 ||
      !s.arp.every((e) => Array.isArray(e) && isAddr(e[0]) && e[1] instanceof Uint8Array && e[1].length === 6 && isTime(e[2]))) bad('arp');
  if (s.lease !== undefined) {
    const l = s.lease?.lease as Partial<DhcpLease> | undefined;
    if (typeof l !== 'object' || l === null || !isTime(s.lease.ageMs) || !isAddr(l.address) || !isAddr(l.netmask) || !isAddr(l.server) ||
        !(l.gateway === undefined || isAddr(l.gateway)) || !Array.isArray(l.dns) || !l.dns.every(isAddr) ||
        !isTime(l.leaseS) || !isTime(l.t1S) || !isTime(l.t2S)) bad('the lease');
  }
  checkTcpSnapshot(s.tcp);
  return s as StackSnapshot;
}
