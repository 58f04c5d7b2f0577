import type { Domain } from '../hypervisor/hypervisor.js';
import type { DomainConfig } from '../toolstack/domconfig.js';
import type { SaveResult } from '../toolstack/contract.js';
import type { Host } from '../toolstack/host.js';
import type { XenstoreClient } from '../xenstore/client/client.js';
/** The guest's own `data/` subtree, relative keys, bounded. */
export declare function guestData(xs: XenstoreClient, domid: number): Promise<[string, string][]>;
/** The domain's populated RAM frames (every pfn below its high-water mark). */
export declare function populatedPfns(d: Domain): number[];
/** What follows the memory of a suspended domain: shared_info, its suspend record's place, its xenstore data. */
export declare function trailerOf(host: Host, d: Domain): Promise<Buffer[]>;
/** The image of a suspended domain, as the chunks of a save file. */
export declare function imageOf(host: Host, d: Domain, config: DomainConfig): Promise<{
    chunks: Buffer[];
    pages: number;
}>;
export interface SaveOptions {
    /** xl save -c: the domain runs on afterwards. */
    readonly checkpoint?: boolean;
    /** xl save -p: the domain is left paused afterwards. */
    readonly paused?: boolean;
    readonly timeoutMs?: number;
}
export declare function saveDomain(host: Host, domid: number, file: string, opts?: SaveOptions): Promise<SaveResult>;
