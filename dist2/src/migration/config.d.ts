import { type DomainConfig } from '../toolstack/domconfig.js';
/** Where a domain's RAM frames are: pfns first..end-1. */
export interface Geometry {
    readonly first: number;
    readonly end: number;
}
export declare function geometryOf(c: Pick<DomainConfig, 'memory' | 'maxGrantFrames'>): Geometry;
export declare function configFromJson(text: string): DomainConfig;
