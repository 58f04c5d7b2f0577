import { type BlockError } from './errors.js';
/** What a check needs to know about the device. */
export interface DeviceLimits {
    readonly readWrite: boolean;
    readonly sizeSectors: number;
    readonly discard: boolean;
}
/** `len` bytes of an I/O from byte `offset`: what one ring request carries. */
export interface Span {
    readonly offset: number;
    readonly len: number;
}
/** A page of a request: only its bytes matter here. */
export interface PageBytes {
    readonly page: Uint8Array;
}
export declare function asList(b: Uint8Array | readonly Uint8Array[]): readonly Uint8Array[];
export declare function byteLength(bufs: readonly Uint8Array[]): number;
/**
 * Why the device refuses an I/O of `bytes` (reads, writes) or `count` sectors (discard) at
 * `sector`, or null if it takes it. Flushes carry no sectors and always pass.
 */
export declare function checkIo(vdev: string, dev: DeviceLimits, op: number, sector: number, bytes: number, count: number): BlockError | null;
/** A read, write or discard of nothing: done at once, nothing goes on the ring. */
export declare function isEmptyIo(op: number, bytes: number, count: number): boolean;
/** Cut `len` bytes from `offset` into spans of at most `maxBytes`, in order. */
export declare function spans(offset: number, len: number, maxBytes: number): Span[];
/** Segments (pages) a span of `len` bytes takes. */
export declare function segmentCount(len: number): number;
/** last_sect of segment `i` of a span of `len` bytes; every segment starts at sector 0 of its page. */
export declare function lastSect(len: number, i: number): number;
/** Sector of byte `offset` of an I/O that starts at `sector`. */
export declare function sectorAt(sector: number, offset: number): number;
/** Buffers that are whole pages of `ram` (page-aligned, all but the last a whole number of pages). */
export declare function inPagesOf(ram: SharedArrayBuffer, bufs: readonly Uint8Array[]): boolean;
/**
 * The byte address, within its buffer's ArrayBuffer, of each page-sized step of `nseg` pages
 * from byte `offset` of `bufs` (bufs as inPagesOf accepts them): the guest frames under a span.
 */
export declare function pageAddresses(bufs: readonly Uint8Array[], offset: number, nseg: number): number[];
/** Copy `len` bytes between the buffer list (from byte `offset`) and consecutive pages. */
export declare function copySg(bufs: readonly Uint8Array[], offset: number, pages: readonly PageBytes[], len: number, toPages: boolean): void;
