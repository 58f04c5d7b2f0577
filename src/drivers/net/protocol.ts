// What netfront and netback share beyond netif.h's layouts (src/abi/netif.ts): ring sizes, the
// limits netback offers and enforces (Linux xen-netback's defaults), the backend keys the
// toolstack writes, and how a frame is laid out over rx slots.
import { NETIF_RX_SLOT_SIZE, NETIF_TX_SLOT_SIZE, XEN_NETIF_NR_SLOTS_MIN, type NetFrameInfo } from '../../abi/netif.js';
import { ringSize } from '../../abi/ring.js';
import { PAGE_SIZE } from '../../abi/xen.js';
import { XenError } from '../../errors.js';

/** One-page rings, as netif.h has them (NET_TX_RING_SIZE, NET_RX_RING_SIZE: 256 each). */
export const NET_TX_RING_SIZE = ringSize(PAGE_SIZE, NETIF_TX_SLOT_SIZE);
export const NET_RX_RING_SIZE = ringSize(PAGE_SIZE, NETIF_RX_SLOT_SIZE);

/**
 * RAM frames one queue's connection populates before its first frame goes out: its two ring
 * pages and a posted buffer in every rx slot (the transmit arena grows as frames are sent). An
 * incoming migration's parked runtime connects its vifs in frames the toolstack keeps out of the
 * stream's reach (migration/incoming.ts), this many a vif.
 */
export const NETFRONT_CONNECT_FRAMES = 2 + NET_RX_RING_SIZE;

/** xenvif_max_queues: Linux offers one per CPU; this machine's default. */
export const DEFAULT_MAX_QUEUES = 4;
/** max_skb_slots: a packet of more slots is dropped (XEN_NETIF_NR_SLOTS_MIN). */
export const MAX_SKB_SLOTS = XEN_NETIF_NR_SLOTS_MIN;
/** fatal_skb_slots (FATAL_SKB_SLOTS_DEFAULT): a frontend that chains more is malicious. */
export const FATAL_SKB_SLOTS = 20;
/** The largest GSO super-frame (Linux's GSO_MAX_SIZE), and the smallest frame (ETH_HLEN). */
export const GSO_MAX_SIZE = 65536;
export const ETH_HLEN = 14;
/** XEN_NETBK_MAX_HASH_KEY_SIZE and XEN_NETBK_MAX_HASH_MAPPING_SIZE. */
export const MAX_HASH_KEY_SIZE = 40;
export const MAX_HASH_MAPPING_SIZE = 128;

/** Keys the toolstack writes in the backend directory (libxl's device_nic). */
export const VIF_BACKEND_XS = {
  handle: 'handle',
  mac: 'mac',
  bridge: 'bridge',
  script: 'script',
  rate: 'rate',
  vifname: 'vifname',
  online: 'online',
  /**
   * XenAPI's VIF.locking_mode for this vif (src/network/locking.ts): absent, it may send only
   * from its `mac`; `locked` only from its `mac` and the addresses of ipv4-allowed and
   * ipv6-allowed (nothing else); `unlocked` anything (a guest that bridges or bonds inside);
   * `disabled` nothing, in or out. Read when the frontend connects and whenever it changes.
   */
  lockingMode: 'locking-mode',
  /** XenAPI's VIF.ipv4_allowed and ipv6_allowed: space-separated addresses. */
  ipv4Allowed: 'ipv4-allowed',
  ipv6Allowed: 'ipv6-allowed',
} as const;

/** `queue-<n>`: the directory of one queue's ring refs and event channels when multi-queue. */
export function netifQueueKey(queue: number): string {
  return `queue-${queue}`;
}

/** rate=: credit of `bytes` every `usecs` microseconds (xl's credit scheduler). */
export interface NetRate {
  readonly bytes: number;
  readonly usecs: number;
}

/**
 * The backend's `rate` node as libxl writes it and xen-netback's xen_net_read_rate reads it:
 * "BYTES,USECS". Absent means unlimited.
 */
export function parseRateNode(v: string): NetRate {
  const m = /^([0-9]{1,20}),([0-9]{1,10})$/.exec(v);
  const bytes = m ? Number(m[1]) : NaN;
  const usecs = m ? Number(m[2]) : NaN;
  if (!m || bytes < 1 || bytes > Number.MAX_SAFE_INTEGER || usecs < 1 || usecs > 0xffffffff) {
    throw new XenError('EINVAL', `rate = ${JSON.stringify(v.slice(0, 40))} is not BYTES,USECS`);
  }
  return { bytes, usecs };
}

export function formatRateNode(rate: NetRate): string {
  return `${rate.bytes},${rate.usecs}`;
}

/** Rx slots a frame of `len` bytes takes when each buffer is a page at offset 0. */
export function rxSlotsFor(len: number): number {
  return Math.max(1, Math.ceil(len / PAGE_SIZE));
}

/** The bridge a vif joins when the toolstack names none (xl's vif.default.bridge). */
export const XL_DEFAULT_BRIDGE = 'xenbr0';

/** The info of a frame that is not GSO, by csum_blank | data_validated << 1 | owned << 2: shared, never changed. */
const PLAIN_FRAME_INFO: readonly NetFrameInfo[] = [0, 1, 2, 3, 4, 5, 6, 7].map((b) =>
  Object.freeze(b & 4 ? { csumBlank: (b & 1) !== 0, dataValidated: (b & 2) !== 0, owned: true } : { csumBlank: (b & 1) !== 0, dataValidated: (b & 2) !== 0 }));

/** The NetFrameInfo of a frame that is not GSO: one of the shared objects, so a frame allocates none. */
export function plainFrameInfo(csumBlank: boolean, dataValidated: boolean): NetFrameInfo {
  return PLAIN_FRAME_INFO[(csumBlank ? 1 : 0) | (dataValidated ? 2 : 0)]!;
}

/** The same for a received frame in memory of its own (NetFrameInfo.owned). */
export function ownedFrameInfo(csumBlank: boolean, dataValidated: boolean): NetFrameInfo {
  return PLAIN_FRAME_INFO[4 | (csumBlank ? 1 : 0) | (dataValidated ? 2 : 0)]!;
}
