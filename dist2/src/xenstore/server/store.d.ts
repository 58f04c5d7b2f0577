import { Buffer } from 'node:buffer';
import type { Perms } from './perms.js';
/**
 * Insertion-ordered child names (cxenstored lists DIRECTORY children in creation order). Each
 * version sees a prefix of a shared append-only log, so adding a child to the newest version
 * costs O(1) however many children there are; removing one, or adding to an older version,
 * copies. A name is listed once, except where cxenstored too would list it twice: a
 * transaction whose view of the parent lists a child that it then finds missing and creates (a
 * transaction that cannot commit; see docs/XENSTORE.md).
 */
export declare class Children {
    #private;
    private readonly log;
    readonly size: number;
    /** Bytes of the DIRECTORY payload ("name\0" per child). */
    readonly bytes: number;
    static readonly EMPTY: Children;
    private constructor();
    /** The names, in order. */
    get names(): readonly string[];
    has(name: string): boolean;
    static of(name: string): Children;
    with(name: string): Children;
    /** `name` added at the end even if listed already (cxenstored add_child). */
    appended(name: string): Children;
    /** Without the first entry `name` (cxenstored delete_child). */
    without(name: string): Children;
    /** "name\0name\0...": the DIRECTORY payload and the byte string DIRECTORY_PART offsets index. */
    blob(): Buffer;
}
/** One version of one node. Immutable once stored, except its generation. */
export declare class Node {
    /**
     * The value's bytes as a latin1 string (one char per byte): small values then live on the
     * JS heap instead of each costing an ArrayBuffer, which keeps garbage collection cheap.
     */
    readonly value: string;
    readonly perms: Perms;
    readonly children: Children;
    /** Store generation at which this version was written. */
    gen: number;
    constructor(
    /**
     * The value's bytes as a latin1 string (one char per byte): small values then live on the
     * JS heap instead of each costing an ArrayBuffer, which keeps garbage collection cheap.
     */
    value: string, perms: Perms, children?: Children);
    withValue(value: string): Node;
    withPerms(perms: Perms): Node;
    withChildren(children: Children): Node;
    /** Record size for the node-size quota: value plus child list (cxenstored counts both). */
    get size(): number;
    static empty(perms: Perms): Node;
}
export declare class Store {
    #private;
    /** Bumped by every change. */
    generation: number;
    /** The current node at `path`. */
    get(path: string): Node | undefined;
    ownedBy(domid: number): number;
    /** Paths of the live nodes whose permissions name `domid` (as owner or in the ACL). */
    naming(domid: number): string[];
    /** Store a new version of `path` (creating it or replacing the current one). */
    set(path: string, node: Node): void;
    /** Remove the node at `path` (its children are the caller's business). */
    delete(path: string): void;
    /** Every node (for consistency checks; not on any request path). */
    entries(): IterableIterator<[string, Node]>;
}
