// Where a MAC is now, told to the network: the RARP broadcast that QEMU's announce-self sends
// for each of a guest's NICs once a migrated guest runs at its destination (announce_self_create).
// Every learning bridge it crosses takes the source MAC's port from it; nobody answers it.
import { ETH_ALEN, ETH_P_IPV4, putMac } from './mac.js';

export const ETH_P_RARP = 0x8035;
const ARPHRD_ETHER = 1;
const ARPOP_RREQUEST = 3;
/** The shortest Ethernet frame without its FCS: the announcement is padded to it. */
const ETH_ZLEN = 60;

/** The announcement of `mac` (a 48-bit number, see parseMac): its own sender and target, no IP addresses. */
export function macAnnouncement(mac: number): Uint8Array {
  const f = new Uint8Array(ETH_ZLEN);
  const v = new DataView(f.buffer);
  f.fill(0xff, 0, ETH_ALEN);
  putMac(f, ETH_ALEN, mac);
  v.setUint16(12, ETH_P_RARP);
  v.setUint16(14, ARPHRD_ETHER);
  v.setUint16(16, ETH_P_IPV4);
  f[18] = ETH_ALEN;
  f[19] = 4;
  v.setUint16(20, ARPOP_RREQUEST);
  putMac(f, 22, mac);
  putMac(f, 32, mac);
  return f;
}
