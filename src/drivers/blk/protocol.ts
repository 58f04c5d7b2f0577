// What blkfront and blkback share beyond blkif.h's layouts (src/abi/blkif.ts): ring sizes and the
// limits each side offers. The sector unit is storage's SECTOR_SIZE (storage/disk.ts).
import { BLKIF_MAX_SEGMENTS_PER_REQUEST, BLKIF_SLOT_SIZE } from '../../abi/blkif.js';
import { ringSize } from '../../abi/ring.js';
import { PAGE_SIZE } from '../../abi/xen.js';
import { SECTOR_SHIFT } from '../../storage/disk.js';

export const SECTORS_PER_PAGE = PAGE_SIZE >> SECTOR_SHIFT;

/** What blkback offers by default: Linux's defaults (xen_blkif_max_ring_order, MAX_INDIRECT_SEGMENTS). */
export const DEFAULT_MAX_RING_PAGE_ORDER = 4;
export const DEFAULT_MAX_INDIRECT_SEGMENTS = 256;
export const DEFAULT_MAX_QUEUES = 4;
/** The largest ring blkfront makes, whatever the backend offers: 2^order pages. */
export const FRONT_MAX_RING_PAGE_ORDER = 4;

/** Slots of a blkif ring of 2^order pages. */
export function blkRingSlots(order: number): number {
  return ringSize(PAGE_SIZE << order, BLKIF_SLOT_SIZE);
}

/**
 * The persistent grants a ring keeps: blkif.h's bound, ring slots times segments per request
 * (indirect ones when offered), and never below Linux blkback's default (xen_blkif_max_pgrants,
 * 1056). A smaller pool thrashes once a frontend cycles through more buffers than it holds:
 * each request then evicts the grant the next one needs.
 */
export function defaultPersistentLimit(slots: number, maxIndirectSegments: number): number {
  return Math.max(1056, slots * Math.max(BLKIF_MAX_SEGMENTS_PER_REQUEST, maxIndirectSegments));
}
