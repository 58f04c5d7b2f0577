// Ethernet addresses and the fixed parts of an Ethernet II header. A MAC is kept as a number
// (48 bits fit a double exactly), so the switch's tables key on it without making strings.
import { XenError } from '../errors.js';

export const ETH_HLEN = 14;
export const ETH_ALEN = 6;
export const ETH_P_IPV4 = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_IPV6 = 0x86dd;
/** Bytes an 802.1Q tag adds after the source MAC. */
export const VLAN_HLEN = 4;

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** "00:16:3e:01:02:03" → its 48-bit number. */
export function parseMac(text: string): number {
  if (!MAC_RE.test(text)) throw new XenError('EINVAL', `invalid MAC address '${text}' (want six hex bytes separated by colons)`);
  return Number.parseInt(text.replaceAll(':', ''), 16);
}

export function formatMac(mac: number): string {
  return mac.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
}

/** The MAC at `off` in a frame (0: destination, 6: source). */
export function macAt(frame: Uint8Array, off: number): number {
  return (frame[off]! * 2 ** 40) + (frame[off + 1]! * 2 ** 32) +
    ((frame[off + 2]! << 24) >>> 0) + (frame[off + 3]! << 16) + (frame[off + 4]! << 8) + frame[off + 5]!;
}

/** Write `mac` (a 48-bit number) at `off` in a frame: macAt's inverse. */
export function putMac(frame: Uint8Array, off: number, mac: number): void {
  for (let i = ETH_ALEN - 1, m = mac; i >= 0; i--, m = Math.floor(m / 256)) frame[off + i] = m % 256;
}

/** Group (multicast or broadcast) addresses have the I/G bit, the low bit of the first byte. */
export function isGroupMac(frame: Uint8Array, off: number): boolean {
  return (frame[off]! & 1) !== 0;
}

/** 01:80:c2:00:00:0X: IEEE 802.1D link-local groups (STP, LACP, 802.1X) that a bridge must not forward. */
export function isLinkLocalGroup(frame: Uint8Array): boolean {
  return frame[0] === 0x01 && frame[1] === 0x80 && frame[2] === 0xc2 && frame[3] === 0 && frame[4] === 0 && (frame[5]! & 0xf0) === 0;
}
