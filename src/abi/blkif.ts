// xen/io/blkif.h: block request and response layouts on the blkif shared ring, the request
// codes, response statuses and the xenstore keys of the block protocol (x86_64 layout,
// little-endian).
//
// The decoders read every field exactly once into a fresh plain object, so a backend that
// decodes straight from a ring slot (or an indirect page) never looks at shared memory twice;
// the object is what it validates and acts on.
import { XenError } from '../errors.js';
import { LE, checkBigU64, checkInt16, checkU64, checkUint, readU64, writeBigU64, writeU64 } from './fields.js';
import { PAGE_SIZE } from './xen.js';

export const BLKIF_OP_READ = 0;
export const BLKIF_OP_WRITE = 1;
export const BLKIF_OP_WRITE_BARRIER = 2;
export const BLKIF_OP_FLUSH_DISKCACHE = 3;
export const BLKIF_OP_RESERVED_1 = 4;
export const BLKIF_OP_DISCARD = 5;
export const BLKIF_OP_INDIRECT = 6;

export const BLKIF_RSP_EOPNOTSUPP = -2;
export const BLKIF_RSP_ERROR = -1;
export const BLKIF_RSP_OKAY = 0;

export const BLKIF_DISCARD_SECURE = 1 << 0;

/** Bits of the backend's `info` node. */
export const VDISK_CDROM = 0x1;
export const VDISK_REMOVABLE = 0x2;
export const VDISK_READONLY = 0x4;

export const BLKIF_MAX_SEGMENTS_PER_REQUEST = 11;
export const BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST = 8;

/** struct blkif_request_segment */
export const BLKIF_SEG_GREF = 0;
export const BLKIF_SEG_FIRST_SECT = 4;
export const BLKIF_SEG_LAST_SECT = 5;
export const BLKIF_SEGMENT_SIZE = 8;
/** Segments in one indirect page (blkif.h spells out the division; Linux calls it SEGS_PER_INDIRECT_FRAME). */
export const BLKIF_SEGS_PER_INDIRECT_FRAME = PAGE_SIZE / BLKIF_SEGMENT_SIZE;

/** Offsets shared by all three request layouts. */
export const BLKIF_REQ_OPERATION = 0;
export const BLKIF_REQ_ID = 8;
export const BLKIF_REQ_SECTOR_NUMBER = 16;

/** struct blkif_request (read, write, barrier, flush) */
export const BLKIF_REQ_NR_SEGMENTS = 1;
export const BLKIF_REQ_HANDLE = 2;
export const BLKIF_REQ_SEG = 24;
export const BLKIF_REQUEST_SIZE = BLKIF_REQ_SEG + BLKIF_MAX_SEGMENTS_PER_REQUEST * BLKIF_SEGMENT_SIZE;

/** struct blkif_request_discard */
export const BLKIF_DISCARD_FLAG = 1;
export const BLKIF_DISCARD_HANDLE = 2;
export const BLKIF_DISCARD_NR_SECTORS = 24;
export const BLKIF_REQUEST_DISCARD_SIZE = 32;

/** struct blkif_request_indirect */
export const BLKIF_INDIRECT_OP = 1;
export const BLKIF_INDIRECT_NR_SEGMENTS = 2;
export const BLKIF_INDIRECT_HANDLE = 24;
export const BLKIF_INDIRECT_GREFS = 28;
export const BLKIF_REQUEST_INDIRECT_SIZE = 64;

/** struct blkif_response */
export const BLKIF_RESPONSE_ID = 0;
export const BLKIF_RESPONSE_OPERATION = 8;
export const BLKIF_RESPONSE_STATUS = 10;
export const BLKIF_RESPONSE_SIZE = 16;

/** sizeof(union blkif_sring_entry): the ring slot. */
export const BLKIF_SLOT_SIZE = Math.max(
  BLKIF_REQUEST_SIZE, BLKIF_REQUEST_DISCARD_SIZE, BLKIF_REQUEST_INDIRECT_SIZE, BLKIF_RESPONSE_SIZE,
);

/** Indirect pages needed for `nrSegments` segments (Linux's INDIRECT_PAGES). */
export function blkifIndirectPages(nrSegments: number): number {
  return Math.ceil(nrSegments / BLKIF_SEGS_PER_INDIRECT_FRAME);
}

/** XenStore keys of the block protocol (backend and frontend nodes). */
export const BLKIF_XS = {
  // backend: identification (private to the backend side)
  mode: 'mode',
  params: 'params',
  physicalDevice: 'physical-device',
  physicalDevicePath: 'physical-device-path',
  type: 'type',
  directIoSafe: 'direct-io-safe',
  // backend: features
  featureBarrier: 'feature-barrier',
  featureFlushCache: 'feature-flush-cache',
  featureDiscard: 'feature-discard',
  featurePersistent: 'feature-persistent',
  featureMaxIndirectSegments: 'feature-max-indirect-segments',
  maxRingPageOrder: 'max-ring-page-order',
  maxRingPages: 'max-ring-pages',
  multiQueueMaxQueues: 'multi-queue-max-queues',
  // backend: device properties
  discardEnable: 'discard-enable',
  discardAlignment: 'discard-alignment',
  discardGranularity: 'discard-granularity',
  discardSecure: 'discard-secure',
  info: 'info',
  sectorSize: 'sector-size',
  physicalSectorSize: 'physical-sector-size',
  sectors: 'sectors',
  // frontend: transport
  eventChannel: 'event-channel',
  ringRef: 'ring-ref',
  protocol: 'protocol',
  ringPageOrder: 'ring-page-order',
  numRingPages: 'num-ring-pages',
  multiQueueNumQueues: 'multi-queue-num-queues',
  // frontend: features and device
  featureLargeSectorSize: 'feature-large-sector-size',
  trusted: 'trusted',
  deviceType: 'device-type',
  virtualDevice: 'virtual-device',
} as const;

/** `ring-ref<i>`: grant of page i of a multi-page ring (plain `ring-ref` when one page). */
export function blkifRingRefKey(page: number): string {
  return `${BLKIF_XS.ringRef}${page}`;
}

/** `queue-<n>`: the directory of one queue's ring-ref and event-channel when multi-queue. */
export function blkifQueueKey(queue: number): string {
  return `queue-${queue}`;
}

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

export function decodeBlkifSegment(view: DataView, off: number): BlkifSegment {
  return {
    gref: view.getUint32(off + BLKIF_SEG_GREF, LE),
    firstSect: view.getUint8(off + BLKIF_SEG_FIRST_SECT),
    lastSect: view.getUint8(off + BLKIF_SEG_LAST_SECT),
  };
}

/** Writes gref, first_sect and last_sect; the two padding bytes are left as they are. */
export function encodeBlkifSegment(view: DataView, off: number, seg: BlkifSegment): void {
  encodeBlkifSegmentAt(
    view, off, checkUint('blkif gref', seg.gref, 32), checkUint('blkif first_sect', seg.firstSect, 8), checkUint('blkif last_sect', seg.lastSect, 8),
  );
}

/**
 * The one encoder of a request of segments (a read, a write, a flush) at `off`, in numbers, `id`
 * as its low and high words: encodeBlkifRequest's, and blkfront's for each read and write it
 * stages (drivers/blk/front/ring-io.ts), which makes no request object. DataView's setters cut
 * each number to its field's width: the callers check (encodeBlkifRequest) or bound what they
 * pass. Segments are encodeBlkifSegmentAt's.
 */
export function encodeBlkifSegmentsAt(
  view: DataView, off: number, operation: number, nrSegments: number, handle: number, idLo: number, idHi: number, sectorNumber: number,
): void {
  view.setUint8(off + BLKIF_REQ_OPERATION, operation);
  view.setUint8(off + BLKIF_REQ_NR_SEGMENTS, nrSegments);
  view.setUint16(off + BLKIF_REQ_HANDLE, handle, LE);
  view.setUint32(off + BLKIF_REQ_ID, idLo, LE);
  view.setUint32(off + BLKIF_REQ_ID + 4, idHi, LE);
  view.setUint32(off + BLKIF_REQ_SECTOR_NUMBER, sectorNumber % 2 ** 32, LE);
  view.setUint32(off + BLKIF_REQ_SECTOR_NUMBER + 4, sectorNumber / 2 ** 32, LE);
}

/** Segment `i` of the request of segments at `off`, in numbers (see encodeBlkifSegmentsAt). */
export function encodeBlkifSegmentAt(view: DataView, off: number, gref: number, firstSect: number, lastSect: number): void {
  view.setUint32(off + BLKIF_SEG_GREF, gref, LE);
  view.setUint8(off + BLKIF_SEG_FIRST_SECT, firstSect);
  view.setUint8(off + BLKIF_SEG_LAST_SECT, lastSect);
}

const NO_SEGMENTS: BlkifSegment[] = Object.freeze([]) as unknown as BlkifSegment[];

/**
 * Decode the request at `off`. The operation byte is read once and picks the layout, so the
 * result is consistent even if the frontend rewrites the slot meanwhile. Without `segments`
 * the segments of the slot are left undecoded (`seg` is empty): a backend that reads them from
 * its private copy of the slot allocates nothing for them.
 */
export function decodeBlkifRequest(view: DataView, off: number, segments = true): BlkifRequest {
  const operation = view.getUint8(off + BLKIF_REQ_OPERATION);
  const id = view.getBigUint64(off + BLKIF_REQ_ID, LE);
  const sectorNumber = readU64(view, off + BLKIF_REQ_SECTOR_NUMBER);
  if (operation === BLKIF_OP_DISCARD) {
    return {
      kind: 'discard', operation, id, sectorNumber,
      flag: view.getUint8(off + BLKIF_DISCARD_FLAG),
      handle: view.getUint16(off + BLKIF_DISCARD_HANDLE, LE),
      nrSectors: readU64(view, off + BLKIF_DISCARD_NR_SECTORS),
    };
  }
  if (operation === BLKIF_OP_INDIRECT) {
    const indirectGrefs: number[] = [];
    for (let i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++) {
      indirectGrefs.push(view.getUint32(off + BLKIF_INDIRECT_GREFS + 4 * i, LE));
    }
    return {
      kind: 'indirect', operation, id, sectorNumber, indirectGrefs,
      indirectOp: view.getUint8(off + BLKIF_INDIRECT_OP),
      nrSegments: view.getUint16(off + BLKIF_INDIRECT_NR_SEGMENTS, LE),
      handle: view.getUint16(off + BLKIF_INDIRECT_HANDLE, LE),
    };
  }
  const nrSegments = view.getUint8(off + BLKIF_REQ_NR_SEGMENTS);
  const seg: BlkifSegment[] = segments ? [] : NO_SEGMENTS;
  if (segments) {
    for (let i = 0; i < Math.min(nrSegments, BLKIF_MAX_SEGMENTS_PER_REQUEST); i++) {
      seg.push(decodeBlkifSegment(view, off + BLKIF_REQ_SEG + i * BLKIF_SEGMENT_SIZE));
    }
  }
  return {
    kind: 'segments', operation, nrSegments, id, sectorNumber, seg,
    handle: view.getUint16(off + BLKIF_REQ_HANDLE, LE),
  };
}

/**
 * Encode `req` at `off`, writing the fields of its layout (and not the padding, nor segments
 * beyond `seg.length`). nrSegments is written as given, so tests can build hostile requests.
 */
export function encodeBlkifRequest(view: DataView, off: number, req: BlkifRequest): void {
  const operation = checkUint('blkif operation', req.operation, 8);
  if (req.kind === 'segments') {
    if (req.seg.length > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
      throw new XenError('EINVAL', `blkif request has ${req.seg.length} segments, at most ${BLKIF_MAX_SEGMENTS_PER_REQUEST} fit`);
    }
    const id = checkBigU64('blkif id', req.id);
    encodeBlkifSegmentsAt(
      view, off, operation, checkUint('blkif nr_segments', req.nrSegments, 8), checkUint('blkif handle', req.handle, 16),
      Number(id & 0xffffffffn), Number(id >> 32n), checkU64('blkif sector_number', req.sectorNumber),
    );
    for (let i = 0; i < req.seg.length; i++) encodeBlkifSegment(view, off + BLKIF_REQ_SEG + i * BLKIF_SEGMENT_SIZE, req.seg[i]!);
    return;
  }
  view.setUint8(off + BLKIF_REQ_OPERATION, operation);
  writeBigU64(view, off + BLKIF_REQ_ID, 'blkif id', req.id);
  writeU64(view, off + BLKIF_REQ_SECTOR_NUMBER, 'blkif sector_number', req.sectorNumber);
  switch (req.kind) {
    case 'discard':
      view.setUint8(off + BLKIF_DISCARD_FLAG, checkUint('blkif flag', req.flag, 8));
      view.setUint16(off + BLKIF_DISCARD_HANDLE, checkUint('blkif handle', req.handle, 16), LE);
      writeU64(view, off + BLKIF_DISCARD_NR_SECTORS, 'blkif nr_sectors', req.nrSectors);
      return;
    case 'indirect':
      if (req.indirectGrefs.length > BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST) {
        throw new XenError('EINVAL', `blkif indirect request has ${req.indirectGrefs.length} indirect grefs, at most ${BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST} fit`);
      }
      view.setUint8(off + BLKIF_INDIRECT_OP, checkUint('blkif indirect_op', req.indirectOp, 8));
      view.setUint16(off + BLKIF_INDIRECT_NR_SEGMENTS, checkUint('blkif nr_segments', req.nrSegments, 16), LE);
      view.setUint16(off + BLKIF_INDIRECT_HANDLE, checkUint('blkif handle', req.handle, 16), LE);
      for (let i = 0; i < req.indirectGrefs.length; i++) {
        view.setUint32(off + BLKIF_INDIRECT_GREFS + 4 * i, checkUint('blkif indirect gref', req.indirectGrefs[i]!, 32), LE);
      }
      return;
  }
}

export function decodeBlkifResponse(view: DataView, off: number): BlkifResponse {
  return {
    id: view.getBigUint64(off + BLKIF_RESPONSE_ID, LE),
    operation: view.getUint8(off + BLKIF_RESPONSE_OPERATION),
    status: view.getInt16(off + BLKIF_RESPONSE_STATUS, LE),
  };
}

export function encodeBlkifResponse(view: DataView, off: number, rsp: BlkifResponse): void {
  writeBigU64(view, off + BLKIF_RESPONSE_ID, 'blkif id', rsp.id);
  view.setUint8(off + BLKIF_RESPONSE_OPERATION, checkUint('blkif operation', rsp.operation, 8));
  view.setInt16(off + BLKIF_RESPONSE_STATUS, checkInt16('blkif status', rsp.status), LE);
}
