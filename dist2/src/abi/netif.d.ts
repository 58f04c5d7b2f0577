/** A packet may span at least this many tx slots; backends must accept that. */
export declare const XEN_NETIF_NR_SLOTS_MIN = 18;
export declare const XEN_NETIF_MAX_TX_SIZE = 65535;
export declare const NETTXF_csum_blank: number;
export declare const NETTXF_data_validated: number;
export declare const NETTXF_more_data: number;
export declare const NETTXF_extra_info: number;
export declare const NETRXF_data_validated: number;
export declare const NETRXF_csum_blank: number;
export declare const NETRXF_more_data: number;
export declare const NETRXF_extra_info: number;
export declare const NETRXF_gso_prefix: number;
export declare const XEN_NETIF_EXTRA_TYPE_NONE = 0;
export declare const XEN_NETIF_EXTRA_TYPE_GSO = 1;
export declare const XEN_NETIF_EXTRA_TYPE_MCAST_ADD = 2;
export declare const XEN_NETIF_EXTRA_TYPE_MCAST_DEL = 3;
export declare const XEN_NETIF_EXTRA_TYPE_HASH = 4;
export declare const XEN_NETIF_EXTRA_TYPE_MAX = 5;
export declare const XEN_NETIF_EXTRA_FLAG_MORE: number;
export declare const XEN_NETIF_GSO_TYPE_NONE = 0;
export declare const XEN_NETIF_GSO_TYPE_TCPV4 = 1;
export declare const XEN_NETIF_GSO_TYPE_TCPV6 = 2;
export declare const NETIF_RSP_DROPPED = -2;
export declare const NETIF_RSP_ERROR = -1;
export declare const NETIF_RSP_OKAY = 0;
/** No response: the slot carried an extra-info, not a packet. */
export declare const NETIF_RSP_NULL = 1;
/** struct netif_tx_request */
export declare const NETIF_TX_REQ_GREF = 0;
export declare const NETIF_TX_REQ_OFFSET = 4;
export declare const NETIF_TX_REQ_FLAGS = 6;
export declare const NETIF_TX_REQ_ID = 8;
export declare const NETIF_TX_REQ_SIZE = 10;
export declare const NETIF_TX_REQUEST_SIZE = 12;
/** struct netif_tx_response */
export declare const NETIF_TX_RSP_ID = 0;
export declare const NETIF_TX_RSP_STATUS = 2;
export declare const NETIF_TX_RESPONSE_SIZE = 4;
/** struct netif_rx_request */
export declare const NETIF_RX_REQ_ID = 0;
export declare const NETIF_RX_REQ_GREF = 4;
export declare const NETIF_RX_REQUEST_SIZE = 8;
/** struct netif_rx_response */
export declare const NETIF_RX_RSP_ID = 0;
export declare const NETIF_RX_RSP_OFFSET = 2;
export declare const NETIF_RX_RSP_FLAGS = 4;
export declare const NETIF_RX_RSP_STATUS = 6;
export declare const NETIF_RX_RESPONSE_SIZE = 8;
/** struct netif_extra_info: type, flags, then a 6-byte union at offset 2. */
export declare const NETIF_EXTRA_TYPE = 0;
export declare const NETIF_EXTRA_FLAGS = 1;
export declare const NETIF_EXTRA_U = 2;
export declare const NETIF_EXTRA_GSO_SIZE = 2;
export declare const NETIF_EXTRA_GSO_TYPE = 4;
export declare const NETIF_EXTRA_GSO_FEATURES = 6;
export declare const NETIF_EXTRA_MCAST_ADDR = 2;
export declare const NETIF_EXTRA_HASH_TYPE = 2;
export declare const NETIF_EXTRA_HASH_ALGORITHM = 3;
export declare const NETIF_EXTRA_HASH_VALUE = 4;
export declare const NETIF_EXTRA_INFO_SIZE = 8;
/** sizeof(union netif_tx_sring_entry) and sizeof(union netif_rx_sring_entry). */
export declare const NETIF_TX_SLOT_SIZE: number;
export declare const NETIF_RX_SLOT_SIZE: number;
/** XenStore keys of the network protocol. */
export declare const NETIF_XS: {
    readonly featureRxNotify: 'feature-rx-notify';
    readonly featureSplitEventChannels: 'feature-split-event-channels';
    readonly featureNoCsumOffload: 'feature-no-csum-offload';
    readonly featureIpv6CsumOffload: 'feature-ipv6-csum-offload';
    readonly featureGsoTcpv4: 'feature-gso-tcpv4';
    readonly featureGsoTcpv6: 'feature-gso-tcpv6';
    readonly featureSg: 'feature-sg';
    readonly featureRxCopy: 'feature-rx-copy';
    readonly featureRxFlip: 'feature-rx-flip';
    readonly featureMulticastControl: 'feature-multicast-control';
    readonly featureDynamicMulticastControl: 'feature-dynamic-multicast-control';
    readonly requestMulticastControl: 'request-multicast-control';
    readonly featureCtrlRing: 'feature-ctrl-ring';
    readonly multiQueueMaxQueues: 'multi-queue-max-queues';
    readonly multiQueueNumQueues: 'multi-queue-num-queues';
    readonly txRingRef: 'tx-ring-ref';
    readonly rxRingRef: 'rx-ring-ref';
    readonly ctrlRingRef: 'ctrl-ring-ref';
    readonly eventChannel: 'event-channel';
    readonly eventChannelTx: 'event-channel-tx';
    readonly eventChannelRx: 'event-channel-rx';
    readonly eventChannelCtrl: 'event-channel-ctrl';
    readonly requestRxCopy: 'request-rx-copy';
    readonly mac: 'mac';
    readonly trusted: 'trusted';
};
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
export declare function decodeNetifTxRequest(view: DataView, off: number): NetifTxRequest;
export declare function encodeNetifTxRequest(view: DataView, off: number, req: NetifTxRequest): void;
export declare function decodeNetifTxResponse(view: DataView, off: number): NetifTxResponse;
export declare function encodeNetifTxResponse(view: DataView, off: number, rsp: NetifTxResponse): void;
export declare function decodeNetifRxRequest(view: DataView, off: number): NetifRxRequest;
/** Writes id and gref; the pad field is left as it is. */
export declare function encodeNetifRxRequest(view: DataView, off: number, req: NetifRxRequest): void;
export declare function decodeNetifRxResponse(view: DataView, off: number): NetifRxResponse;
export declare function encodeNetifRxResponse(view: DataView, off: number, rsp: NetifRxResponse): void;
/** Decode an extra-info slot; the type byte is read once and picks the union member. */
export declare function decodeNetifExtraInfo(view: DataView, off: number): NetifExtraInfo;
/** Encode an extra-info slot (the union's unused bytes, e.g. gso.pad, are left as they are). */
export declare function encodeNetifExtraInfo(view: DataView, off: number, info: NetifExtraInfo): void;
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
    readonly gso?: {
        readonly type: typeof XEN_NETIF_GSO_TYPE_TCPV4 | typeof XEN_NETIF_GSO_TYPE_TCPV6;
        readonly size: number;
    };
}
/** A frame whose checksums are complete and that is not a GSO super-frame. */
export declare const NET_FRAME_PLAIN: NetFrameInfo;
/** Hash types a frontend may enable (XEN_NETIF_CTRL_HASH_TYPE_*, a bit mask). */
export declare const XEN_NETIF_CTRL_HASH_TYPE_IPV4: number;
export declare const XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP: number;
export declare const XEN_NETIF_CTRL_HASH_TYPE_IPV6: number;
export declare const XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP: number;
export declare const XEN_NETIF_CTRL_HASH_ALGORITHM_NONE = 0;
export declare const XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ = 1;
export declare const XEN_NETIF_CTRL_TYPE_INVALID = 0;
export declare const XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS = 1;
export declare const XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS = 2;
export declare const XEN_NETIF_CTRL_TYPE_SET_HASH_KEY = 3;
export declare const XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE = 4;
export declare const XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE = 5;
export declare const XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING = 6;
export declare const XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM = 7;
export declare const XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE = 8;
export declare const XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING = 9;
export declare const XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING = 10;
export declare const XEN_NETIF_CTRL_STATUS_SUCCESS = 0;
export declare const XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED = 1;
export declare const XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER = 2;
export declare const XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW = 3;
/** struct xen_netif_ctrl_request: id, type, data[3]. */
export declare const NETIF_CTRL_REQ_ID = 0;
export declare const NETIF_CTRL_REQ_TYPE = 2;
export declare const NETIF_CTRL_REQ_DATA = 4;
export declare const NETIF_CTRL_REQUEST_SIZE = 16;
/** struct xen_netif_ctrl_response: id, type, status, data. */
export declare const NETIF_CTRL_RSP_ID = 0;
export declare const NETIF_CTRL_RSP_TYPE = 2;
export declare const NETIF_CTRL_RSP_STATUS = 4;
export declare const NETIF_CTRL_RSP_DATA = 8;
export declare const NETIF_CTRL_RESPONSE_SIZE = 12;
/** sizeof(union xen_netif_ctrl_sring_entry). */
export declare const NETIF_CTRL_SLOT_SIZE: number;
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
export declare function decodeNetifCtrlRequest(view: DataView, off: number): NetifCtrlRequest;
export declare function encodeNetifCtrlRequest(view: DataView, off: number, req: NetifCtrlRequest): void;
export declare function decodeNetifCtrlResponse(view: DataView, off: number): NetifCtrlResponse;
export declare function encodeNetifCtrlResponse(view: DataView, off: number, rsp: NetifCtrlResponse): void;
/**
 * xen_netif_toeplitz_hash: the key and the buffer are shift registers, the hash XORs in the
 * key's leftmost 32 bits for every set bit of the buffer. Key bytes past keylen count as zero.
 */
export declare function toeplitzHash(key: Uint8Array, buf: Uint8Array): number;
