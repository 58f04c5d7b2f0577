import { type BackingFormat } from './backing.js';
export declare const DEFAULT_CLUSTER_BITS = 16;
export interface CreateQcow2Options {
    /** Virtual size in bytes; by default the backing file's. */
    size?: number;
    clusterBits?: number;
    /** A backing file: its name as it will be stored (relative to the new image's directory, or absolute). */
    backing?: {
        file: string;
        format?: BackingFormat;
    };
}
export declare function createQcow2(path: string, opts: CreateQcow2Options): Promise<void>;
