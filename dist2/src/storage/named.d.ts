import { type Stats } from 'node:fs';
import { XenError, type XenErrnoName } from '../errors.js';
/** What a caller accepts: a regular file, or (for disk targets) a regular file or a block device. */
export type NamedKind = 'file' | 'disk';
/** A named path that cannot be used: what it was for, its path, and why, in words. */
export declare class NamedFileError extends XenError {
    readonly what: string;
    readonly path: string;
    readonly why: string;
    name: string;
    constructor(errno: XenErrnoName, what: string, path: string, why: string);
}
export interface NamedOptions {
    /** What the path is for, at the head of messages ("configuration file", "disk image"). */
    readonly what: string;
    readonly kind: NamedKind;
    /** Open for writing too. */
    readonly write?: boolean;
}
/** Open a named path as `opts.kind` allows, without blocking; the caller closes the descriptor. */
export declare function openNamed(path: string, opts: NamedOptions): Promise<{
    fd: number;
    stats: Stats;
}>;
/**
 * A regular file's bytes, at most `limit` of them: a larger file (or one that grows while it
 * is read; /proc files say size 0) is an E2BIG naming the limit.
 */
export declare function readNamed(path: string, opts: {
    what: string;
    limit: number;
}): Promise<Uint8Array>;
