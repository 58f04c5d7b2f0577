// The node store: a flat map from absolute path to an immutable node (value, permissions,
// insertion-ordered child names), as cxenstored keeps one record per path. Every change stamps
// the new node with the next store generation and stores a new object, so a transaction that
// keeps the node it first read can tell by identity whether the path changed since.
import { Children } from './children.js';
import type { Perms } from './perms.js';

/** One version of one node. Immutable once stored, except its generation. */
export class Node {
  /** Store generation at which this version was written. */
  gen = 0;

  constructor(
    /**
     * The value's bytes as a latin1 string (one char per byte): small values then live on the
     * JS heap instead of each costing an ArrayBuffer, which keeps garbage collection cheap.
     */
    readonly value: string,
    readonly perms: Perms,
    readonly children: Children = Children.EMPTY,
  ) {}

  withValue(value: string): Node {
    return new Node(value, this.perms, this.children);
  }

  withPerms(perms: Perms): Node {
    return new Node(this.value, perms, this.children);
  }

  withChildren(children: Children): Node {
    return new Node(this.value, this.perms, children);
  }

  /** Record size for the node-size quota: value plus child list (cxenstored counts both). */
  get size(): number {
    return this.value.length + this.children.bytes;
  }

  static empty(perms: Perms): Node {
    return new Node('', perms);
  }
}

export class Store {
  /** Bumped by every change. */
  generation = 0;
  readonly #nodes = new Map<string, Node>();
  /** Live nodes per owning domain, for the per-domain node quota. */
  readonly #owned = new Map<number, number>();
  /** Paths of live nodes whose permissions name each domain, so releasing one scans only those. */
  readonly #naming = new Map<number, Set<string>>();

  /** The current node at `path`. */
  get(path: string): Node | undefined {
    return this.#nodes.get(path);
  }

  ownedBy(domid: number): number {
    return this.#owned.get(domid) ?? 0;
  }

  /** Paths of the live nodes whose permissions name `domid` (as owner or in the ACL). */
  naming(domid: number): string[] {
    return [...(this.#naming.get(domid) ?? [])];
  }

  /** Store a new version of `path` (creating it or replacing the current one). */
  set(path: string, node: Node): void {
    const old = this.#nodes.get(path);
    node.gen = ++this.generation;
    // A new value under the same permissions (most writes) changes no count or index.
    if (old?.perms !== node.perms) {
      this.#count(node.perms.owner, 1);
      this.#reindex(path, old?.perms, node.perms);
      if (old !== undefined) this.#count(old.perms.owner, -1);
    }
    this.#nodes.set(path, node);
  }

  /** Remove the node at `path` (its children are the caller's business). */
  delete(path: string): void {
    const old = this.#nodes.get(path);
    if (old === undefined) return;
    this.#count(old.perms.owner, -1);
    this.#reindex(path, old.perms, undefined);
    this.generation++;
    this.#nodes.delete(path);
  }

  /** Every node (for consistency checks; not on any request path). */
  entries(): IterableIterator<[string, Node]> {
    return this.#nodes.entries();
  }

  #reindex(path: string, was: Perms | undefined, now: Perms | undefined): void {
    if (was !== undefined) {
      for (const d of was.domids()) {
        const paths = this.#naming.get(d);
        if (paths !== undefined && paths.delete(path) && paths.size === 0) this.#naming.delete(d);
      }
    }
    if (now !== undefined) {
      for (const d of now.domids()) {
        const paths = this.#naming.get(d);
        if (paths === undefined) this.#naming.set(d, new Set([path]));
        else paths.add(path);
      }
    }
  }

  #count(domid: number, delta: number): void {
    const v = (this.#owned.get(domid) ?? 0) + delta;
    if (v === 0) this.#owned.delete(domid);
    else this.#owned.set(domid, v);
  }
}
