// A node's child names as a persistent structure: every version is immutable and shares all but
// O(log n) of its memory with the version it came from, so adding or removing one child costs
// O(log n) however many siblings there are, whether the version is the newest or an older one
// a transaction kept (concurrent transactions each add to the parent version they first read).
import { Buffer } from 'node:buffer';

/**
 * Lists up to this long are a plain array, copied per change (most nodes have a few children, and
 * two tries cost far more memory than an array of a few names); longer ones are tries.
 */
const SMALL = 16;
/** Bits of key per trie level (32-way nodes). */
const BITS = 5;
const MASK = (1 << BITS) - 1;

/** A 32-slot trie node; path copying replaces one at each level on the way to a change. */
type Slots<T> = readonly (T | undefined)[];

function replaced<T>(slots: Slots<T> | undefined, i: number, v: T | undefined): Slots<T> | undefined {
  const out = slots === undefined ? new Array<T | undefined>(MASK + 1).fill(undefined) : slots.slice();
  out[i] = v;
  // An emptied node goes, so walks only visit subtrees that hold something.
  return v === undefined && out.every((s) => s === undefined) ? undefined : out;
}

// The order trie: sequence number -> name, keyed most significant bits first so a depth-first
// walk lists names in insertion order. `shift` is the root level's bit offset.
interface Order extends Slots<Order | string> {}

function orderSet(node: Order | undefined, shift: number, seq: number, name: string | undefined): Order | undefined {
  // Division, not `>>>`: sequence numbers may pass 2^32 over a long life (exact to 2^53).
  const i = Math.floor(seq / 2 ** shift) & MASK;
  const next = shift === 0 ? name : orderSet(node?.[i] as Order | undefined, shift - BITS, seq, name);
  return replaced(node, i, next) as Order | undefined;
}

function orderNames(node: Order | undefined, shift: number, out: string[]): void {
  if (node === undefined) return;
  for (let i = 0; i <= MASK; i++) {
    const s = node[i];
    if (s === undefined) continue;
    if (shift === 0) out.push(s as string);
    else orderNames(s as Order, shift - BITS, out);
  }
}

// The name trie (a hash array mapped trie): name -> its sequence numbers in increasing order
// (more than one only where `appended` listed a name twice). Leaves hold every name with one
// full 32-bit hash; two different hashes part at bit 31 at the latest, so shifts stay below 32.
type Leaf = { readonly hash: number; readonly items: readonly (readonly [string, readonly number[]])[] };
interface Names extends Slots<Names | Leaf> {}

function hashName(name: string): number {
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function namesGet(node: Names | undefined, hash: number, name: string): readonly number[] | undefined {
  for (let shift = 0; node !== undefined; shift += BITS) {
    const s: Names | Leaf | undefined = node[(hash >>> shift) & MASK];
    if (s === undefined) return undefined;
    if (!Array.isArray(s)) {
      const leaf = s as Leaf;
      return leaf.hash === hash ? leaf.items.find(([n]) => n === name)?.[1] : undefined;
    }
    node = s as Names;
  }
  return undefined;
}

function leafSet(leaf: Leaf | undefined, hash: number, name: string, seqs: readonly number[] | undefined): Leaf | undefined {
  const items = (leaf?.items ?? []).filter(([n]) => n !== name);
  if (seqs !== undefined) items.push([name, seqs]);
  return items.length === 0 ? undefined : { hash, items };
}

function namesSet(node: Names | undefined, shift: number, hash: number, name: string, seqs: readonly number[] | undefined): Names | undefined {
  const i = (hash >>> shift) & MASK;
  const s = node?.[i];
  let next: Names | Leaf | undefined;
  if (s === undefined || !Array.isArray(s)) {
    const leaf = s as Leaf | undefined;
    if (leaf === undefined || leaf.hash === hash) next = leafSet(leaf, hash, name, seqs);
    else if (seqs === undefined) return node; // a different name shares the slot: nothing to remove
    else {
      // Two hashes in one slot: push the old leaf one level down and insert beside it.
      const down = replaced<Names | Leaf>(undefined, (leaf.hash >>> (shift + BITS)) & MASK, leaf) as Names;
      next = namesSet(down, shift + BITS, hash, name, seqs);
    }
  } else {
    next = namesSet(s as Names, shift + BITS, hash, name, seqs);
  }
  return replaced(node, i, next) as Names | undefined;
}

/**
 * Insertion-ordered child names (cxenstored lists DIRECTORY children in creation order). A name
 * is listed once, except where cxenstored too would list it twice: a transaction whose view of
 * the parent lists a child that it then finds missing and creates (a transaction that cannot
 * commit; see docs/XENSTORE.md).
 */
export class Children {
  static readonly EMPTY = new Children([], undefined, 0, undefined, 0, 0, 0);
  /** A long list's tries before its first name. */
  private static readonly TRIES = new Children(undefined, undefined, 0, undefined, 0, 0, 0);
  #names: readonly string[] | undefined;
  #blob: Buffer | undefined;

  private constructor(
    /** The names of a short list (then the tries are unused). */
    private readonly small: readonly string[] | undefined,
    private readonly order: Order | undefined,
    private readonly shift: number,
    private readonly byName: Names | undefined,
    /** The sequence number the next added name gets. */
    private readonly next: number,
    readonly size: number,
    /** Bytes of the DIRECTORY payload ("name\0" per child). */
    readonly bytes: number,
  ) {}

  /** The names, in order (computed once per version). */
  get names(): readonly string[] {
    if (this.small !== undefined) return this.small;
    if (this.#names === undefined) {
      const out: string[] = [];
      orderNames(this.order, this.shift, out);
      this.#names = out;
    }
    return this.#names;
  }

  has(name: string): boolean {
    if (this.small !== undefined) return this.small.includes(name);
    return namesGet(this.byName, hashName(name), name) !== undefined;
  }

  static of(name: string): Children {
    return Children.EMPTY.with(name);
  }

  with(name: string): Children {
    if (this.small !== undefined) return this.small.includes(name) ? this : this.appended(name);
    // One hash and one search of a long list: the name is either there or added with no earlier entry.
    const hash = hashName(name);
    return namesGet(this.byName, hash, name) !== undefined ? this : this.appendedLong(name, hash, []);
  }

  /** `name` added at the end even if listed already (cxenstored add_child). */
  appended(name: string): Children {
    const small = this.small;
    if (small !== undefined) {
      if (small.length < SMALL) return new Children([...small, name], undefined, 0, undefined, 0, this.size + 1, this.bytes + name.length + 1);
      let long = Children.TRIES;
      for (const n of small) long = long.appended(n);
      return long.appended(name);
    }
    const hash = hashName(name);
    return this.appendedLong(name, hash, namesGet(this.byName, hash, name) ?? []);
  }

  /** A long list with `name` (of hash `hash`, listed at `seqs` already) added at the end. */
  private appendedLong(name: string, hash: number, seqs: readonly number[]): Children {
    let shift = this.shift;
    let order = this.order;
    // Grow the order trie by a level when the sequence number outruns it.
    while (this.next >= 2 ** (shift + BITS)) {
      if (order !== undefined) order = replaced<Order | string>(undefined, 0, order) as Order;
      shift += BITS;
    }
    return new Children(
      undefined,
      orderSet(order, shift, this.next, name),
      shift,
      namesSet(this.byName, 0, hash, name, [...seqs, this.next]),
      this.next + 1,
      this.size + 1,
      this.bytes + name.length + 1,
    );
  }

  /** Without the first entry `name` (cxenstored delete_child). */
  without(name: string): Children {
    const small = this.small;
    if (small !== undefined) {
      const i = small.indexOf(name);
      if (i < 0) return this;
      return new Children(small.filter((_, j) => j !== i), undefined, 0, undefined, 0, this.size - 1, this.bytes - name.length - 1);
    }
    const hash = hashName(name);
    const seqs = namesGet(this.byName, hash, name);
    if (seqs === undefined) return this;
    return new Children(
      undefined,
      orderSet(this.order, this.shift, seqs[0]!, undefined),
      this.shift,
      namesSet(this.byName, 0, hash, name, seqs.length > 1 ? seqs.slice(1) : undefined),
      this.next,
      this.size - 1,
      this.bytes - name.length - 1,
    );
  }

  /** Without the first `k` entries (a walk that removed them in order). */
  withoutFirst(k: number): Children {
    let out: Children = this;
    for (const name of this.names.slice(0, Math.max(0, k))) out = out.without(name);
    return out;
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
