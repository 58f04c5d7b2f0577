// The node store: a flat map from absolute path to an immutable node (value, permissions,
// insertion-ordered child names), as cxenstored keeps one record per path. Every change stamps
// the new node with the next store generation. While transactions are open, a replaced or
// deleted node stays reachable through `prev` for as long as some transaction's snapshot may
// read it (multi-version concurrency): a transaction starts in O(1), reads its snapshot, and
// commits by checking that nothing it touched has a generation newer than its snapshot.
import { Buffer } from 'node:buffer';
import type { Perms } from './perms.js';

/** An append-only list of child names that successive versions of one node share. */
class NameLog {
  readonly names: string[] = [];
  readonly index = new Map<string, number>();

  static from(names: Iterable<string>): NameLog {
    const log = new NameLog();
    for (const n of names) log.append(n);
    return log;
  }

  append(name: string): void {
    this.index.set(name, this.names.length);
    this.names.push(name);
  }
}

/**
 * Insertion-ordered child names (cxenstored lists DIRECTORY children in creation order). Each
 * version sees a prefix of a shared append-only log, so adding a child to the newest version
 * costs O(1) however many children there are; removing one, or adding to an older version,
 * copies.
 */
export class Children {
  static readonly EMPTY = new Children(new NameLog(), 0, 0);
  #blob: Buffer | undefined;

  private constructor(
    private readonly log: NameLog,
    readonly size: number,
    /** Bytes of the DIRECTORY payload ("name\0" per child). */
    readonly bytes: number,
  ) {}

  /** The names, in order. */
  get names(): readonly string[] {
    return this.log.names.slice(0, this.size);
  }

  has(name: string): boolean {
    const i = this.log.index.get(name);
    return i !== undefined && i < this.size;
  }

  static of(name: string): Children {
    return Children.EMPTY.with(name);
  }

  with(name: string): Children {
    if (this.has(name)) return this;
    let log = this.log;
    if (this.size === 0 || this.size !== log.names.length || log.index.has(name)) log = NameLog.from(this.names);
    log.append(name);
    return new Children(log, this.size + 1, this.bytes + name.length + 1);
  }

  without(name: string): Children {
    if (!this.has(name)) return this;
    return new Children(NameLog.from(this.names.filter((n) => n !== name)), this.size - 1, this.bytes - name.length - 1);
  }

  /** "name\0name\0...": the DIRECTORY payload and the byte string DIRECTORY_PART offsets index. */
  blob(): Buffer {
    if (this.#blob === undefined) {
      let s = '';
      for (let i = 0; i < this.size; i++) s += `${this.log.names[i]}\0`;
      this.#blob = Buffer.from(s, 'latin1');
    }
    return this.#blob;
  }
}

/** One version of one node. Immutable once stored, except the store's bookkeeping fields. */
export class Node {
  /** Store generation at which this version was written. */
  gen = 0;
  /** The version this one replaced, kept while an open transaction may still read it. */
  prev: Node | null = null;

  constructor(
    /**
     * The value's bytes as a latin1 string (one char per byte): small values then live on the
     * JS heap instead of each costing an ArrayBuffer, which keeps garbage collection cheap.
     */
    readonly value: string,
    readonly perms: Perms,
    readonly children: Children = Children.EMPTY,
    /** A deletion marker: the path has no node from this version on. */
    readonly dead = false,
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
  /** Bumped by every change; a transaction's snapshot is the value when it started. */
  generation = 0;
  readonly #nodes = new Map<string, Node>();
  /** Paths whose entry carries older versions or is a deletion marker. */
  readonly #history = new Set<string>();
  /** Snapshots of open transactions, ascending (they are taken in generation order). */
  readonly #snapshots: number[] = [];
  /** Live nodes per owning domain, for the per-domain node quota. */
  readonly #owned = new Map<number, number>();
  /** Paths of live nodes whose permissions name each domain, so releasing one scans only those. */
  readonly #naming = new Map<number, Set<string>>();

  /** The current node at `path`. */
  get(path: string): Node | undefined {
    const n = this.#nodes.get(path);
    return n === undefined || n.dead ? undefined : n;
  }

  /** The node at `path` as a transaction with snapshot `snap` sees it. */
  getAt(path: string, snap: number): Node | undefined {
    let n = this.#nodes.get(path);
    while (n !== undefined && n.gen > snap) n = n.prev ?? undefined;
    return n === undefined || n.dead ? undefined : n;
  }

  /** Whether `path` changed (written, created or deleted) after generation `snap`. */
  changedSince(path: string, snap: number): boolean {
    const n = this.#nodes.get(path);
    return n !== undefined && n.gen > snap;
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
    this.#count(node.perms.owner, 1);
    const was = old === undefined || old.dead ? undefined : old.perms;
    if (was !== node.perms) this.#reindex(path, was, node.perms);
    if (old !== undefined) {
      if (!old.dead) this.#count(old.perms.owner, -1);
      node.prev = this.#keep(old);
      if (node.prev !== null) this.#history.add(path);
    }
    this.#nodes.set(path, node);
  }

  /** Remove the node at `path` (its children are the caller's business). */
  delete(path: string): void {
    const old = this.#nodes.get(path);
    if (old === undefined || old.dead) return;
    this.#count(old.perms.owner, -1);
    this.#reindex(path, old.perms, undefined);
    const keep = this.#keep(old);
    this.generation++;
    if (keep === null) {
      this.#nodes.delete(path);
      return;
    }
    const marker = new Node('', old.perms, Children.EMPTY, true);
    marker.gen = this.generation;
    marker.prev = keep;
    this.#nodes.set(path, marker);
    this.#history.add(path);
  }

  /** Every live node (for consistency checks; not on any request path). */
  *entries(): IterableIterator<[string, Node]> {
    for (const e of this.#nodes) if (!e[1].dead) yield e;
  }

  /** A transaction starts: returns its snapshot. */
  openSnapshot(): number {
    this.#snapshots.push(this.generation);
    return this.generation;
  }

  /** A transaction ended: forget versions no remaining snapshot can read. */
  closeSnapshot(snap: number): void {
    const i = this.#snapshots.indexOf(snap);
    if (i < 0) return;
    this.#snapshots.splice(i, 1);
    if (i === 0) this.#prune();
  }

  /** Which version (if any) must stay reachable behind a replacement of `old`. */
  #keep(old: Node): Node | null {
    const newest = this.#snapshots.length === 0 ? -1 : this.#snapshots[this.#snapshots.length - 1]!;
    // A version newer than every snapshot is invisible to all of them; what it hid is not.
    return old.gen <= newest ? old : old.prev;
  }

  #prune(): void {
    const oldest = this.#snapshots.length === 0 ? Infinity : this.#snapshots[0]!;
    for (const path of this.#history) {
      const head = this.#nodes.get(path)!;
      if (head.dead && head.gen <= oldest) {
        this.#nodes.delete(path);
        this.#history.delete(path);
        continue;
      }
      // The newest version each remaining snapshot can see is the last one anybody needs.
      let n: Node = head;
      while (n.gen > oldest && n.prev !== null) n = n.prev;
      n.prev = null;
      if (head.prev === null && !head.dead) this.#history.delete(path);
    }
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
