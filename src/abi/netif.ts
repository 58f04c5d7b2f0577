// xen/io/netif.h: the transmit and receive rings of the network protocol (request and response
// layouts, flags, extra-info slots) and its xenstore keys. Decoders read each field once into a
// fresh object, as in blkif.ts.
import { XenError } from '../errors.js';
import { LE, checkInt16, checkUint } from './fields.js';

/** A packet may span at least this many tx slots; backends must accept that. */
export const XEN_NETIF_NR_SLOTS_MIN = 18;
export const XEN_NETIF_MAX_TX_SIZE = 0xffff;

export const NETTXF_csum_blank = 1 << 0;
export const NETTXF_data_validated = 1 << 1;
export const NETTXF_more_data = 1 << 2;
export const NETTXF_extra_info = 1 << 3;

export const NETRXF_data_validated = 1 << 0;
export const NETRXF_csum_blank = 1 << 1;
export const NETRXF_more_data = 1 << 2;
export const NETRXF_extra_info = 1 << 3;
export const NETRXF_gso_prefix = 1 << 4;

export const XEN_NETIF_EXTRA_TYPE_NONE = 0;
export const XEN_NETIF_EXTRA_TYPE_GSO = 1;
export const XEN_NETIF_EXTRA_TYPE_MCAST_ADD = 2;
export const XEN_NETIF_EXTRA_TYPE_MCAST_DEL = 3;
export const XEN_NETIF_EXTRA_TYPE_HASH = 4;
export const XEN_NETIF_EXTRA_TYPE_MAX = 5;
export const XEN_NETIF_EXTRA_FLAG_MORE = 1 << 0;

export const XEN_NETIF_GSO_TYPE_NONE = 0;
export const XEN_NETIF_GSO_TYPE_TCPV4 = 1;
export const XEN_NETIF_GSO_TYPE_TCPV6 = 2;

export const NETIF_RSP_DROPPED = -2;
export const NETIF_RSP_ERROR = -1;
export const NETIF_RSP_OKAY = 0;
/** No response: the slot carried an extra-info, not a packet. */
export const NETIF_RSP_NULL = 1;

/** struct netif_tx_request */
export const NETIF_TX_REQ_GREF = 0;
export const NETIF_TX_REQ_OFFSET = 4;
export const NETIF_TX_REQ_FLAGS = 6;
export const NETIF_TX_REQ_ID = 8;
export const NETIF_TX_REQ_SIZE = 10;
export const NETIF_TX_REQUEST_SIZE = 12;
/** struct netif_tx_response */
export const NETIF_TX_RSP_ID = 0;
export const NETIF_TX_RSP_STATUS = 2;
export const NETIF_TX_RESPONSE_SIZE = 4;
/** struct netif_rx_request */
export const NETIF_RX_REQ_ID = 0;
export const NETIF_RX_REQ_GREF = 4;
export const NETIF_RX_REQUEST_SIZE = 8;
/** struct netif_rx_response */
export const NETIF_RX_RSP_ID = 0;
export const NETIF_RX_RSP_OFFSET = 2;
export const NETIF_RX_RSP_FLAGS = 4;
export const NETIF_RX_RSP_STATUS = 6;
export const NETIF_RX_RESPONSE_SIZE = 8;

/** struct netif_extra_info: type, flags, then a 6-byte union at offset 2. */
export const NETIF_EXTRA_TYPE = 0;
export const NETIF_EXTRA_FLAGS = 1;
export const NETIF_EXTRA_U = 2;
export const NETIF_EXTRA_GSO_SIZE = 2;
export const NETIF_EXTRA_GSO_TYPE = 4;
export const NETIF_EXTRA_GSO_FEATURES = 6;
export const NETIF_EXTRA_MCAST_ADDR = 2;
export const NETIF_EXTRA_HASH_TYPE = 2;
export const NETIF_EXTRA_HASH_ALGORITHM = 3;
export const NETIF_EXTRA_HASH_VALUE = 4;
export const NETIF_EXTRA_INFO_SIZE = 8;

/** sizeof(union netif_tx_sring_entry) and sizeof(union netif_rx_sring_entry). */
export const NETIF_TX_SLOT_SIZE = Math.max(NETIF_TX_REQUEST_SIZE, NETIF_TX_RESPONSE_SIZE);
export const NETIF_RX_SLOT_SIZE = Math.max(NETIF_RX_REQUEST_SIZE, NETIF_RX_RESPONSE_SIZE);

/** XenStore keys of the network protocol. */
export const NETIF_XS = {
  featureRxNotify: 'feature-rx-notify',
  featureSplitEventChannels: 'feature-split-event-channels',
  featureNoCsumOffload: 'feature-no-csum-offload',
  featureIpv6CsumOffload: 'feature-ipv6-csum-offload',
  featureGsoTcpv4: 'feature-gso-tcpv4',
  featureGsoTcpv6: 'feature-gso-tcpv6',
  featureSg: 'feature-sg',
  featureRxCopy: 'feature-rx-copy',
  featureRxFlip: 'feature-rx-flip',
  featureMulticastControl: 'feature-multicast-control',
  featureDynamicMulticastControl: 'feature-dynamic-multicast-control',
  requestMulticastControl: 'request-multicast-control',
  featureCtrlRing: 'feature-ctrl-ring',
  multiQueueMaxQueues: 'multi-queue-max-queues',
  multiQueueNumQueues: 'multi-queue-num-queues',
  txRingRef: 'tx-ring-ref',
  rxRingRef: 'rx-ring-ref',
  ctrlRingRef: 'ctrl-ring-ref',
  eventChannel: 'event-channel',
  eventChannelTx: 'event-channel-tx',
  eventChannelRx: 'event-channel-rx',
  eventChannelCtrl: 'event-channel-ctrl',
  requestRxCopy: 'request-rx-copy',
  mac: 'mac',
  trusted: 'trusted',
} as const;

export interface NetifTxRequest {
  gref: number;
  offset: number;
  flags: number;
  id: number;
  size: number;
}

export interface NetifTxResponse {
  id: number;
  status: number;
}

export interface NetifRxRequest {
  id: number;
  gref: number;
}

export interface NetifRxResponse {
  id: number;
  offset: number;
  flags: number;
  /** NETIF_RSP_* when negative, else the received fragment's size. */
  status: number;
}

export interface NetifExtraGso {
  kind: 'gso';
  type: typeof XEN_NETIF_EXTRA_TYPE_GSO;
  flags: number;
  /** Payload bytes per segment (the MSS for TCP). */
  size: number;
  gsoType: number;
  features: number;
}

export interface NetifExtraMcast {
  kind: 'mcast';
  type: typeof XEN_NETIF_EXTRA_TYPE_MCAST_ADD | typeof XEN_NETIF_EXTRA_TYPE_MCAST_DEL;
  flags: number;
  /** The 6-byte Ethernet address. */
  addr: Uint8Array;
}

export interface NetifExtraHash {
  kind: 'hash';
  type: typeof XEN_NETIF_EXTRA_TYPE_HASH;
  flags: number;
  hashType: number;
  algorithm: number;
  /** The 32-bit hash, stored least significant byte first. */
  value: number;
}

/** An extra-info of a type this code does not know (including NONE): type and flags only. */
export interface NetifExtraOther {
  kind: 'other';
  type: number;
  flags: number;
}

export type NetifExtraInfo = NetifExtraGso | NetifExtraMcast | NetifExtraHash | NetifExtraOther;

export function decodeNetifTxRequest(view: DataView, off: number): NetifTxRequest {
  return {
    gref: view.getUint32(off + NETIF_TX_REQ_GREF, LE),
    offset: view.getUint16(off + NETIF_TX_REQ_OFFSET, LE),
    flags: view.getUint16(off + NETIF_TX_REQ_FLAGS, LE),
    id: view.getUint16(off + NETIF_TX_REQ_ID, LE),
    size: view.getUint16(off + NETIF_TX_REQ_SIZE, LE),
  };
}

export function encodeNetifTxRequest(view: DataView, off: number, req: NetifTxRequest): void {
  view.setUint32(off + NETIF_TX_REQ_GREF, checkUint('netif tx gref', req.gref, 32), LE);
  view.setUint16(off + NETIF_TX_REQ_OFFSET, checkUint('netif tx offset', req.offset, 16), LE);
  view.setUint16(off + NETIF_TX_REQ_FLAGS, checkUint('netif tx flags', req.flags, 16), LE);
  view.setUint16(off + NETIF_TX_REQ_ID, checkUint('netif tx id', req.id, 16), LE);
  view.setUint16(off + NETIF_TX_REQ_SIZE, checkUint('netif tx size', req.size, 16), LE);
}

export function decodeNetifTxResponse(view: DataView, off: number): NetifTxResponse {
  return {
    id: view.getUint16(off + NETIF_TX_RSP_ID, LE),
    status: view.getInt16(off + NETIF_TX_RSP_STATUS, LE),
  };
}

export function encodeNetifTxResponse(view: DataView, off: number, rsp: NetifTxResponse): void {
  view.setUint16(off + NETIF_TX_RSP_ID, checkUint('netif tx id', rsp.id, 16), LE);
  view.setInt16(off + NETIF_TX_RSP_STATUS, checkInt16('netif tx status', rsp.status), LE);
}

export function decodeNetifRxRequest(view: DataView, off: number): NetifRxRequest {
  return {
    id: view.getUint16(off + NETIF_RX_REQ_ID, LE),
    gref: view.getUint32(off + NETIF_RX_REQ_GREF, LE),
  };
}

/** Writes id and gref; the pad field is left as it is. */
export function encodeNetifRxRequest(view: DataView, off: number, req: NetifRxRequest): void {
  view.setUint16(off + NETIF_RX_REQ_ID, checkUint('netif rx id', req.id, 16), LE);
  view.setUint32(off + NETIF_RX_REQ_GREF, checkUint('netif rx gref', req.gref, 32), LE);
}

export function decodeNetifRxResponse(view: DataView, off: number): NetifRxResponse {
  return {
    id: view.getUint16(off + NETIF_RX_RSP_ID, LE),
    offset: view.getUint16(off + NETIF_RX_RSP_OFFSET, LE),
    flags: view.getUint16(off + NETIF_RX_RSP_FLAGS, LE),
    status: view.getInt16(off + NETIF_RX_RSP_STATUS, LE),
  };
}

export function encodeNetifRxResponse(view: DataView, off: number, rsp: NetifRxResponse): void {
  view.setUint16(off + NETIF_RX_RSP_ID, checkUint('netif rx id', rsp.id, 16), LE);
  view.setUint16(off + NETIF_RX_RSP_OFFSET, checkUint('netif rx offset', rsp.offset, 16), LE);
  view.setUint16(off + NETIF_RX_RSP_FLAGS, checkUint('netif rx flags', rsp.flags, 16), LE);
  view.setInt16(off + NETIF_RX_RSP_STATUS, checkInt16('netif rx status', rsp.status), LE);
}

/** Decode an extra-info slot; the type byte is read once and picks the union member. */
export function decodeNetifExtraInfo(view: DataView, off: number): NetifExtraInfo {
  const type = view.getUint8(off + NETIF_EXTRA_TYPE);
  const flags = view.getUint8(off + NETIF_EXTRA_FLAGS);
  switch (type) {
    case XEN_NETIF_EXTRA_TYPE_GSO:
      return {
        kind: 'gso', type, flags,
        size: view.getUint16(off + NETIF_EXTRA_GSO_SIZE, LE),
        gsoType: view.getUint8(off + NETIF_EXTRA_GSO_TYPE),
        features: view.getUint16(off + NETIF_EXTRA_GSO_FEATURES, LE),
      };
    case XEN_NETIF_EXTRA_TYPE_MCAST_ADD:
    case XEN_NETIF_EXTRA_TYPE_MCAST_DEL: {
      const addr = new Uint8Array(6);
      for (let i = 0; i < 6; i++) addr[i] = view.getUint8(off + NETIF_EXTRA_MCAST_ADDR + i);
      return { kind: 'mcast', type, flags, addr };
    }
    case XEN_NETIF_EXTRA_TYPE_HASH:
      return {
        kind: 'hash', type, flags,
        hashType: view.getUint8(off + NETIF_EXTRA_HASH_TYPE),
        algorithm: view.getUint8(off + NETIF_EXTRA_HASH_ALGORITHM),
        value: view.getUint32(off + NETIF_EXTRA_HASH_VALUE, LE),
      };
    default:
      return { kind: 'other', type, flags };
  }
}

/** Encode an extra-info slot (the union's unused bytes, e.g. gso.pad, are left as they are). */
export function encodeNetifExtraInfo(view: DataView, off: number, info: NetifExtraInfo): void {
  view.setUint8(off + NETIF_EXTRA_TYPE, checkUint('netif extra type', info.type, 8));
  view.setUint8(off + NETIF_EXTRA_FLAGS, checkUint('netif extra flags', info.flags, 8));
  switch (info.kind) {
    case 'gso':
      view.setUint16(off + NETIF_EXTRA_GSO_SIZE, checkUint('netif gso size', info.size, 16), LE);
      view.setUint8(off + NETIF_EXTRA_GSO_TYPE, checkUint('netif gso type', info.gsoType, 8));
      view.setUint16(off + NETIF_EXTRA_GSO_FEATURES, checkUint('netif gso features', info.features, 16), LE);
      return;
    case 'mcast':
      if (info.addr.length !== 6) {
        throw new XenError('EINVAL', `netif multicast address must be 6 bytes, got ${info.addr.length}`);
      }
      for (let i = 0; i < 6; i++) view.setUint8(off + NETIF_EXTRA_MCAST_ADDR + i, info.addr[i]!);
      return;
    case 'hash':
      view.setUint8(off + NETIF_EXTRA_HASH_TYPE, checkUint('netif hash type', info.hashType, 8));
      view.setUint8(off + NETIF_EXTRA_HASH_ALGORITHM, checkUint('netif hash algorithm', info.algorithm, 8));
      view.setUint32(off + NETIF_EXTRA_HASH_VALUE, checkUint('netif hash value', info.value, 32), LE);
      return;
    case 'other':
      return;
  }
}

/**
 * What a frame's sender says about it: netif.h's checksum flags (NETTXF_csum_blank and
 * NETTXF_data_validated on transmit, NETRXF_* on receive) and a GSO extra-info, decoded. It
 * travels with the frame from netfront through netback and dom0's switch to the receiver, so
 * that frames that never leave the host need no checksum (DESIGN.md §5a).
 */
export interface NetFrameInfo {
  /** The L4 checksum is not filled in (partial): only a peer on this host may take it as is. */
  readonly csumBlank: boolean;
  /** The checksum is known good; the receiver need not verify it. */
  readonly dataValidated: boolean;
  /** A GSO super-frame: its TCP payload is to be cut into segments of `size` bytes. */
  readonly gso?: { readonly type: typeof XEN_NETIF_GSO_TYPE_TCPV4 | typeof XEN_NETIF_GSO_TYPE_TCPV6; readonly size: number };
  /**
   * Receive side only: the frame's bytes stay valid after the call and nothing writes them
   * again, so a receiver may keep views of them instead of a copy (netfront's reassembled
   * frames; a frame without it is valid during the call only).
   */
  readonly owned?: boolean;
}

/** A frame whose checksums are complete and that is not a GSO super-frame. */
export const NET_FRAME_PLAIN: NetFrameInfo = Object.freeze({ csumBlank: false, dataValidated: false });

// ---------------- the control ring (netif.h "Control ring") ----------------

/** Hash types a frontend may enable (XEN_NETIF_CTRL_HASH_TYPE_*, a bit mask). */
export const XEN_NETIF_CTRL_HASH_TYPE_IPV4 = 1 << 0;
export const XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP = 1 << 1;
export const XEN_NETIF_CTRL_HASH_TYPE_IPV6 = 1 << 2;
export const XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP = 1 << 3;
export const XEN_NETIF_CTRL_HASH_ALGORITHM_NONE = 0;
export const XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ = 1;

export const XEN_NETIF_CTRL_TYPE_INVALID = 0;
export const XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS = 1;
export const XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS = 2;
export const XEN_NETIF_CTRL_TYPE_SET_HASH_KEY = 3;
export const XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE = 4;
export const XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE = 5;
export const XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING = 6;
export const XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM = 7;
export const XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE = 8;
export const XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING = 9;
export const XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING = 10;

export const XEN_NETIF_CTRL_STATUS_SUCCESS = 0;
export const XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED = 1;
export const XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER = 2;
export const XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW = 3;

/** struct xen_netif_ctrl_request: id, type, data[3]. */
export const NETIF_CTRL_REQ_ID = 0;
export const NETIF_CTRL_REQ_TYPE = 2;
export const NETIF_CTRL_REQ_DATA = 4;
export const NETIF_CTRL_REQUEST_SIZE = 16;
/** struct xen_netif_ctrl_response: id, type, status, data. */
export const NETIF_CTRL_RSP_ID = 0;
export const NETIF_CTRL_RSP_TYPE = 2;
export const NETIF_CTRL_RSP_STATUS = 4;
export const NETIF_CTRL_RSP_DATA = 8;
export const NETIF_CTRL_RESPONSE_SIZE = 12;
/** sizeof(union xen_netif_ctrl_sring_entry). */
export const NETIF_CTRL_SLOT_SIZE = Math.max(NETIF_CTRL_REQUEST_SIZE, NETIF_CTRL_RESPONSE_SIZE);

export interface NetifCtrlRequest {
  id: number;
  type: number;
  data: [number, number, number];
}

export interface NetifCtrlResponse {
  id: number;
  type: number;
  status: number;
  data: number;
}

export function decodeNetifCtrlRequest(view: DataView, off: number): NetifCtrlRequest {
  return {
    id: view.getUint16(off + NETIF_CTRL_REQ_ID, LE),
    type: view.getUint16(off + NETIF_CTRL_REQ_TYPE, LE),
    data: [
      view.getUint32(off + NETIF_CTRL_REQ_DATA, LE),
      view.getUint32(off + NETIF_CTRL_REQ_DATA + 4, LE),
      view.getUint32(off + NETIF_CTRL_REQ_DATA + 8, LE),
    ],
  };
}

export function encodeNetifCtrlRequest(view: DataView, off: number, req: NetifCtrlRequest): void {
  view.setUint16(off + NETIF_CTRL_REQ_ID, checkUint('netif ctrl id', req.id, 16), LE);
  view.setUint16(off + NETIF_CTRL_REQ_TYPE, checkUint('netif ctrl type', req.type, 16), LE);
  for (let i = 0; i < 3; i++) view.setUint32(off + NETIF_CTRL_REQ_DATA + 4 * i, checkUint('netif ctrl data', req.data[i]!, 32), LE);
}

export function decodeNetifCtrlResponse(view: DataView, off: number): NetifCtrlResponse {
  return {
    id: view.getUint16(off + NETIF_CTRL_RSP_ID, LE),
    type: view.getUint16(off + NETIF_CTRL_RSP_TYPE, LE),
    status: view.getUint32(off + NETIF_CTRL_RSP_STATUS, LE),
    data: view.getUint32(off + NETIF_CTRL_RSP_DATA, LE),
  };
}

export function encodeNetifCtrlResponse(view: DataView, off: number, rsp: NetifCtrlResponse): void {
  view.setUint16(off + NETIF_CTRL_RSP_ID, checkUint('netif ctrl id', rsp.id, 16), LE);
  view.setUint16(off + NETIF_CTRL_RSP_TYPE, checkUint('netif ctrl type', rsp.type, 16), LE);
  view.setUint32(off + NETIF_CTRL_RSP_STATUS, checkUint('netif ctrl status', rsp.status, 32), LE);
  view.setUint32(off + NETIF_CTRL_RSP_DATA, checkUint('netif ctrl data', rsp.data, 32), LE);
}

/**
 * xen_netif_toeplitz_hash: the key and the buffer are shift registers, the hash XORs in the
 * key's leftmost 32 bits for every set bit of the buffer. Key bytes past keylen count as zero.
 */
export function toeplitzHash(key: Uint8Array, buf: Uint8Array): number {
  // The 64-bit prefix of the C code as two 32-bit halves: hi is the window the hash takes.
  let hi = 0;
  let lo = 0;
  let keyi = 0;
  for (; keyi < 8; keyi++) {
    const b = keyi < key.length ? key[keyi]! : 0;
    if (keyi < 4) hi = ((hi << 8) | b) >>> 0;
    else lo = ((lo << 8) | b) >>> 0;
  }
  let hash = 0;
  for (let bufi = 0; bufi < buf.length; bufi++) {
    let byte = buf[bufi]!;
    for (let bit = 0; bit < 8; bit++) {
      if (byte & 0x80) hash = (hash ^ hi) >>> 0;
      hi = ((hi << 1) | (lo >>> 31)) >>> 0;
      lo = (lo << 1) >>> 0;
      byte <<= 1;
    }
    lo = (lo | (keyi < key.length ? key[keyi]! : 0)) >>> 0;
    keyi++;
  }
  return hash;
}
