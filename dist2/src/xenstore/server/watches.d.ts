import type { Buffer } from 'node:buffer';
/** The connection a watch belongs to, as far as watches are concerned. */
export interface WatchOwner {
    /** Order of creation, so events leave in cxenstored's order (by connection, then watch). */
    readonly seq: number;
}
export declare class Watch<O extends WatchOwner = WatchOwner> {
    readonly owner: O;
    /** Absolute node path or special path (@introduceDomain, ...). */
    readonly path: string;
    /** The token bytes exactly as the client sent them. */
    readonly token: Buffer;
    /** Characters to strip from event paths: the watch was given relative to the owner's home. */
    readonly relativeTo: number;
    readonly seq: number;
    constructor(owner: O, 
    /** Absolute node path or special path (@introduceDomain, ...). */
    path: string, 
    /** The token bytes exactly as the client sent them. */
    token: Buffer, 
    /** Characters to strip from event paths: the watch was given relative to the owner's home. */
    relativeTo: number, seq: number);
    /** The path to report for a change at `changed` (relative if the watch was). */
    eventPath(changed: string): string;
}
/**
 * Every watch, indexed by path (for firing) and by owner, path and token (for WATCH, UNWATCH
 * and a connection going away), so each operation costs what it finds, not the whole table.
 */
export declare class WatchTable<O extends WatchOwner> {
    #private;
    get isEmpty(): boolean;
    find(owner: O, path: string, token: Buffer): Watch<O> | undefined;
    /** Watches held by `owner`. */
    countOf(owner: O): number;
    add(owner: O, path: string, token: Buffer, relativeTo: number): Watch<O>;
    remove(w: Watch<O>): void;
    /** Remove every watch of `owner`; returns how many there were. */
    removeOwner(owner: O): number;
    /**
     * Watches that fire for a change at `path`: those on exactly `path` if `exact`, else those on
     * `path` or any ancestor. In creation order by owner, then by watch.
     */
    matching(path: string, exact: boolean): Watch<O>[];
}
