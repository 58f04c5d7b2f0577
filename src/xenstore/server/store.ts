// The node store: a flat map from absolute path to an immutable node (value, permissions,
// insertion-ordered child names), as cxenstored keeps one record per path. Every change stamps
// the new node with the next store generation and stores a new object, so a transaction that
// keeps the node it first read can tell by identity whether the path changed since.
import { Buffer } from 'node:buffer';
import type { Perms } from './perms.js';

/**
 * Insertion-ordered child names (cxenstored lists DIRECTORY children in creation order). A name
 * is listed once, except where cxenstored too would list it twice: a transaction whose view of
 * the parent lists a child that it then finds missing and creates (a transaction that cannot
 * commit; see docs/XENSTORE.md).
 */
export class Children {
  static readonly EMPTY = new Children([]);
  #blob: Buffer | undefined;
  #set: ReadonlySet<string> | undefined;

  private constructor(readonly names: readonly string[]) {}

  get size(): number {
    return this.names.length;
  }

  has(name: string): boolean {
    this.#set ??= new Set(this.names);
    return this.#set.has(name);
  }

  static of(name: string): Children {
    return new Children([name]);
  }

  /** `name` added at the end even if listed already (cxenstored add_child). */
  appended(name: string): Children {
    return new Children([...this.names, name]);
  }

  /** Without the first entry `name` (cxenstored delete_child). */
  without(name: string): Children {
    const i = this.names.indexOf(name);
    if (i < 0) return this;
    return new Children([...this.names.slice(0, i), ...this.names.slice(i + 1)]);
  }

  /** "name\0name\0...": the DIRECTORY payload and the byte string DIRECTORY_PART offsets index. */
  blob(): Buffer {
    if (this.#blob === undefined) {
      let s = '';
      for (const n of this.names) s += `${n}\0`;
      this.#blob = Buffer.from(s, 'latin1');
    }
    return this.#blob;
  }
}

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
    return this.value.length + this.children.blob().byteLength;
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

  /** The current node at `path`. */
  get(path: string): Node | undefined {
    return this.#nodes.get(path);
  }

  ownedBy(domid: number): number {
    return this.#owned.get(domid) ?? 0;
  }

  /** Store a new version of `path` (creating it or replacing the current one). */
  set(path: string, node: Node): void {
    const old = this.#nodes.get(path);
    node.gen = ++this.generation;
    this.#count(node.perms.owner, 1);
    if (old !== undefined) this.#count(old.perms.owner, -1);
    this.#nodes.set(path, node);
  }

  /** Remove the node at `path` (its children are the caller's business). */
  delete(path: string): void {
    const old = this.#nodes.get(path);
    if (old === undefined) return;
    this.#count(old.perms.owner, -1);
    this.generation++;
    this.#nodes.delete(path);
  }

  /** Every node (for consistency checks; not on any request path). */
  entries(): IterableIterator<[string, Node]> {
    return this.#nodes.entries();
  }

  #count(domid: number, delta: number): void {
    const v = (this.#owned.get(domid) ?? 0) + delta;
    if (v === 0) this.#owned.delete(domid);
    else this.#owned.set(domid, v);
  }
}
