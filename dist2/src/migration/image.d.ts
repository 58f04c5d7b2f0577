import type { DomainConfig } from '../toolstack/domconfig.js';
import type { ByteSource } from './source.js';
export interface DomainImage {
    readonly config: DomainConfig;
    /** RAM frames below this pfn are populated; those absent from `pages` are zero. */
    readonly hwm: number;
    /** Populated frames with data (a live migration's later rounds replace earlier ones). */
    readonly pages: Map<number, Uint8Array>;
    readonly sharedInfo: Uint8Array;
    /** Where the guest's suspend record is in its RAM. */
    readonly suspendRecord: {
        readonly pfn: number;
        readonly bytes: number;
    };
    /** The guest's own xenstore data (`data/...`), relative keys and values. */
    readonly xenstore: readonly (readonly [string, string])[];
}
/** Bounds on what a restore accepts beyond what the configuration implies. */
export declare const MAX_CONFIG_JSON_BYTES: number;
/** xl's header with the configuration as JSON optional data; then libxl's header and LIBXC_CONTEXT. */
export declare function encodeHeaders(config: DomainConfig): Buffer[];
/**
 * PAGE_DATA records for `pfns` (ascending or not), in batches of MAX_BATCH_PAGES; zero pages
 * go as XALLOC (allocate only, no data). `memory` is the domain's whole buffer.
 */
export declare function encodePages(memory: SharedArrayBuffer, pfns: readonly number[]): {
    chunks: Buffer[];
    bytes: number;
};
/** The records after the memory: SHARED_INFO, the suspend record's place, libxc's END; xenstore data, libxl's END. */
export declare function encodeTrailer(img: Pick<DomainImage, 'sharedInfo' | 'suspendRecord' | 'xenstore'>): Buffer[];
/** The whole image from `src`, checked against the domain's geometry (from its configuration). */
export declare function readImage(src: ByteSource): Promise<DomainImage>;
