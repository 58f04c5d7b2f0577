import { Readable } from 'node:stream';
import { type DomainImage } from '../../src/migration/image.js';
import { type DomainConfig } from '../../src/toolstack/domconfig.js';
export declare const CONFIG: DomainConfig;
export declare const GEO: import("../../src/migration/config.js").Geometry;
export interface ImageParts {
    /** xl's header and optional data, libxl's header, LIBXC_CONTEXT, libxc's headers, STATIC_DATA_END. */
    readonly head: Buffer;
    /** Where libxl's header starts in `head`. */
    readonly libxlAt: number;
    readonly pages: Buffer;
    /** SHARED_INFO, the suspend record's place, libxc END, xenstore data, libxl END. */
    readonly trailer: Buffer;
    readonly memory: SharedArrayBuffer;
    readonly recordPfn: number;
}
/** `populated` RAM frames, each filled with its pfn's low byte (every fourth left zero), and a suspend record with `state`. */
export declare function imageParts(opts?: {
    populated?: number;
    state?: unknown;
    config?: DomainConfig;
}): ImageParts;
export declare function whole(p: ImageParts): Buffer;
export declare function parse(bytes: Buffer | Readable, stallMs?: number): Promise<DomainImage>;
/** The trailer's parts: SHARED_INFO (8 + 4096), suspend record place (8 + 16), libxc END (8), then libxl's. */
export declare const TRAILER_XC_END: number;
