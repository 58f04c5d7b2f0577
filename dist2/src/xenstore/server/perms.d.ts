import { Buffer } from 'node:buffer';
export declare const XS_PERM_NONE = 0;
export declare const XS_PERM_READ = 1;
export declare const XS_PERM_WRITE = 2;
export declare const XS_PERM_OWNER = 8;
export declare const XS_PERM_ALL: number;
export interface PermEntry {
    /** Domain id as the C daemons keep it: a 32-bit integer, printed signed. */
    readonly id: number;
    readonly perms: number;
    /**
     * The entry names a domain that did not exist when it was set, or that has gone since: it
     * grants nothing, also to a later domain with the same id (cxenstored's XS_PERM_IGNORE). It
     * is still listed by GET_PERMS.
     */
    readonly ignored?: boolean;
}
/** Who is asking, as far as permissions go. */
export interface Accessor {
    readonly domid: number;
    readonly privileged: boolean;
    /** The domain this one is a device model / stub domain for (XS_SET_TARGET). */
    readonly target: number | undefined;
}
/** An immutable permission list; nodes share them freely. */
export declare class Perms {
    #private;
    readonly entries: readonly PermEntry[];
    constructor(entries: readonly PermEntry[]);
    static owned(domid: number): Perms;
    /**
     * Parse the permission strings of XS_SET_PERMS ("r5", "n0", ...) as libxenstore's
     * xenstore_strings_to_perms does: letter n/r/w/b, then a number in C strtol base-0 syntax.
     */
    static parse(strings: readonly string[]): Perms;
    get owner(): number;
    /** The same list with a different owner (a node created by an unprivileged domain). */
    withOwner(domid: number): Perms;
    /** The list with its ACL entries naming a domain for which `gone(id)` holds marked ignored. */
    ignoring(gone: (domid: number) => boolean): Perms;
    /** The domains the list names, owner included. */
    domids(): IterableIterator<number>;
    /** The GET_PERMS payload: one NUL-terminated string per entry. */
    toWire(): Buffer;
}
/** cxenstored's perm_for_conn: the XS_PERM_* bits `who` has on a node with `perms`. */
export declare function permFor(who: Accessor, perms: Perms): number;
