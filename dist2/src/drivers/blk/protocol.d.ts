export declare const SECTORS_PER_PAGE: number;
/** What blkback offers by default: Linux's defaults (xen_blkif_max_ring_order, MAX_INDIRECT_SEGMENTS). */
export declare const DEFAULT_MAX_RING_PAGE_ORDER = 4;
export declare const DEFAULT_MAX_INDIRECT_SEGMENTS = 256;
export declare const DEFAULT_MAX_QUEUES = 4;
/** Slots of a blkif ring of 2^order pages. */
export declare function blkRingSlots(order: number): number;
/**
 * The persistent grants a ring keeps: blkif.h's bound, ring slots times segments per request
 * (indirect ones when offered), and never below Linux blkback's default (xen_blkif_max_pgrants,
 * 1056). A smaller pool thrashes once a frontend cycles through more buffers than it holds:
 * each request then evicts the grant the next one needs.
 */
export declare function defaultPersistentLimit(slots: number, maxIndirectSegments: number): number;
