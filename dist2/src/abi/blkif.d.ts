export declare const BLKIF_OP_READ = 0;
export declare const BLKIF_OP_WRITE = 1;
export declare const BLKIF_OP_WRITE_BARRIER = 2;
export declare const BLKIF_OP_FLUSH_DISKCACHE = 3;
export declare const BLKIF_OP_RESERVED_1 = 4;
export declare const BLKIF_OP_DISCARD = 5;
export declare const BLKIF_OP_INDIRECT = 6;
export declare const BLKIF_RSP_EOPNOTSUPP = -2;
export declare const BLKIF_RSP_ERROR = -1;
export declare const BLKIF_RSP_OKAY = 0;
export declare const BLKIF_DISCARD_SECURE: number;
/** Bits of the backend's `info` node. */
export declare const VDISK_CDROM = 1;
export declare const VDISK_REMOVABLE = 2;
export declare const VDISK_READONLY = 4;
export declare const BLKIF_MAX_SEGMENTS_PER_REQUEST = 11;
export declare const BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST = 8;
/** struct blkif_request_segment */
export declare const BLKIF_SEG_GREF = 0;
export declare const BLKIF_SEG_FIRST_SECT = 4;
export declare const BLKIF_SEG_LAST_SECT = 5;
export declare const BLKIF_SEGMENT_SIZE = 8;
/** Segments in one indirect page (blkif.h spells out the division; Linux calls it SEGS_PER_INDIRECT_FRAME). */
export declare const BLKIF_SEGS_PER_INDIRECT_FRAME: number;
/** Offsets shared by all three request layouts. */
export declare const BLKIF_REQ_OPERATION = 0;
export declare const BLKIF_REQ_ID = 8;
export declare const BLKIF_REQ_SECTOR_NUMBER = 16;
/** struct blkif_request (read, write, barrier, flush) */
export declare const BLKIF_REQ_NR_SEGMENTS = 1;
export declare const BLKIF_REQ_HANDLE = 2;
export declare const BLKIF_REQ_SEG = 24;
export declare const BLKIF_REQUEST_SIZE: number;
/** struct blkif_request_discard */
export declare const BLKIF_DISCARD_FLAG = 1;
export declare const BLKIF_DISCARD_HANDLE = 2;
export declare const BLKIF_DISCARD_NR_SECTORS = 24;
export declare const BLKIF_REQUEST_DISCARD_SIZE = 32;
/** struct blkif_request_indirect */
export declare const BLKIF_INDIRECT_OP = 1;
export declare const BLKIF_INDIRECT_NR_SEGMENTS = 2;
export declare const BLKIF_INDIRECT_HANDLE = 24;
export declare const BLKIF_INDIRECT_GREFS = 28;
export declare const BLKIF_REQUEST_INDIRECT_SIZE = 64;
/** struct blkif_response */
export declare const BLKIF_RESPONSE_ID = 0;
export declare const BLKIF_RESPONSE_OPERATION = 8;
export declare const BLKIF_RESPONSE_STATUS = 10;
export declare const BLKIF_RESPONSE_SIZE = 16;
/** sizeof(union blkif_sring_entry): the ring slot. */
export declare const BLKIF_SLOT_SIZE: number;
/** Indirect pages needed for `nrSegments` segments (Linux's INDIRECT_PAGES). */
export declare function blkifIndirectPages(nrSegments: number): number;
/** XenStore keys of the block protocol (backend and frontend nodes). */
export declare const BLKIF_XS: {
    readonly mode: 'mode';
    readonly params: 'params';
    readonly physicalDevice: 'physical-device';
    readonly physicalDevicePath: 'physical-device-path';
    readonly type: 'type';
    readonly directIoSafe: 'direct-io-safe';
    readonly featureBarrier: 'feature-barrier';
    readonly featureFlushCache: 'feature-flush-cache';
    readonly featureDiscard: 'feature-discard';
    readonly featurePersistent: 'feature-persistent';
    readonly featureMaxIndirectSegments: 'feature-max-indirect-segments';
    readonly maxRingPageOrder: 'max-ring-page-order';
    readonly maxRingPages: 'max-ring-pages';
    readonly multiQueueMaxQueues: 'multi-queue-max-queues';
    readonly discardEnable: 'discard-enable';
    readonly discardAlignment: 'discard-alignment';
    readonly discardGranularity: 'discard-granularity';
    readonly discardSecure: 'discard-secure';
    readonly info: 'info';
    readonly sectorSize: 'sector-size';
    readonly physicalSectorSize: 'physical-sector-size';
    readonly sectors: 'sectors';
    readonly eventChannel: 'event-channel';
    readonly ringRef: 'ring-ref';
    readonly protocol: 'protocol';
    readonly ringPageOrder: 'ring-page-order';
    readonly numRingPages: 'num-ring-pages';
    readonly multiQueueNumQueues: 'multi-queue-num-queues';
    readonly featureLargeSectorSize: 'feature-large-sector-size';
    readonly trusted: 'trusted';
    readonly deviceType: 'device-type';
    readonly virtualDevice: 'virtual-device';
};
/** `ring-ref<i>`: grant of page i of a multi-page ring (plain `ring-ref` when one page). */
export declare function blkifRingRefKey(page: number): string;
/** `queue-<n>`: the directory of one queue's ring-ref and event-channel when multi-queue. */
export declare function blkifQueueKey(queue: number): string;
export interface BlkifSegment {
    gref: number;
    /** First and last 512-byte sector of the frame to transfer, inclusive. */
    firstSect: number;
    lastSect: number;
}
/** Read, write, write-barrier, flush and any unknown operation: struct blkif_request. */
export interface BlkifRequestSegments {
    kind: 'segments';
    operation: number;
    /** As found in the slot; may exceed BLKIF_MAX_SEGMENTS_PER_REQUEST (then `seg` stops at 11). */
    nrSegments: number;
    handle: number;
    id: bigint;
    /** Exact below 2^53; a larger (hostile) value decodes to a number that is still >= 2^53. */
    sectorNumber: number;
    seg: BlkifSegment[];
}
export interface BlkifRequestDiscard {
    kind: 'discard';
    operation: typeof BLKIF_OP_DISCARD;
    flag: number;
    handle: number;
    id: bigint;
    sectorNumber: number;
    nrSectors: number;
}
export interface BlkifRequestIndirect {
    kind: 'indirect';
    operation: typeof BLKIF_OP_INDIRECT;
    indirectOp: number;
    nrSegments: number;
    id: bigint;
    sectorNumber: number;
    handle: number;
    /** All BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST entries; how many count follows from nrSegments. */
    indirectGrefs: number[];
}
export type BlkifRequest = BlkifRequestSegments | BlkifRequestDiscard | BlkifRequestIndirect;
export interface BlkifResponse {
    id: bigint;
    operation: number;
    status: number;
}
export declare function decodeBlkifSegment(view: DataView, off: number): BlkifSegment;
/** Writes gref, first_sect and last_sect; the two padding bytes are left as they are. */
export declare function encodeBlkifSegment(view: DataView, off: number, seg: BlkifSegment): void;
/**
 * Decode the request at `off`. The operation byte is read once and picks the layout, so the
 * result is consistent even if the frontend rewrites the slot meanwhile. Without `segments`
 * the segments of the slot are left undecoded (`seg` is empty): a backend that reads them from
 * its private copy of the slot allocates nothing for them.
 */
export declare function decodeBlkifRequest(view: DataView, off: number, segments?: boolean): BlkifRequest;
/**
 * Encode `req` at `off`, writing the fields of its layout (and not the padding, nor segments
 * beyond `seg.length`). nrSegments is written as given, so tests can build hostile requests.
 */
export declare function encodeBlkifRequest(view: DataView, off: number, req: BlkifRequest): void;
export declare function decodeBlkifResponse(view: DataView, off: number): BlkifResponse;
export declare function encodeBlkifResponse(view: DataView, off: number, rsp: BlkifResponse): void;
