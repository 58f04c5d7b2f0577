// Watches, indexed by the path they watch so a change looks up only its own path and ancestors
// (a change fires the watches on the node and on every node above it), and by owner.
import type { Buffer } from 'node:buffer';

/** The connection a watch belongs to, as far as watches are concerned. */
export interface WatchOwner {
  /** Order of creation, so events leave in cxenstored's order (by connection, then watch). */
  readonly seq: number;
}

export class Watch<O extends WatchOwner = WatchOwner> {
  constructor(
    readonly owner: O,
    /** Absolute node path or special path (@introduceDomain, ...). */
    readonly path: string,
    /** The token bytes exactly as the client sent them. */
    readonly token: Buffer,
    /** Characters to strip from event paths: the watch was given relative to the owner's home. */
    readonly relativeTo: number,
    readonly seq: number,
  ) {}

  /** The path to report for a change at `changed` (relative if the watch was). */
  eventPath(changed: string): string {
    return this.relativeTo === 0 ? changed : changed.slice(this.relativeTo);
  }
}

/** Nothing fires: shared, so that a change no watch is on allocates no array. */
const NONE: readonly never[] = Object.freeze([]);

/** One step of the hash of a path's first characters (31 h + c, in 32 bits: a small integer for V8). */
const step = (h: number, ch: number): number => (Math.imul(h, 31) + ch) | 0;

function pathHash(path: string): number {
  let h = 0;
  for (let i = 0; i < path.length; i++) h = step(h, path.charCodeAt(i));
  return h;
}

/** Key of a watch among its owner's: path and token, which a connection may register once. */
function ownerKey(path: string, token: Buffer): string {
  return `${path}\0${token.toString('latin1')}`;
}

/**
 * Every watch, indexed by path (for firing) and by owner, path and token (for WATCH, UNWATCH
 * and a connection going away), so each operation costs what it finds, not the whole table.
 */
export class WatchTable<O extends WatchOwner> {
  /** Per path, in creation order. */
  readonly #byPath = new Map<string, Set<Watch<O>>>();
  /** Paths whose watches are not in owner order (a connection older than the last watch's added one). */
  readonly #unordered = new Set<string>();
  /** The newest watch on each path. */
  readonly #last = new Map<string, Watch<O>>();
  readonly #byOwner = new Map<O, Map<string, Watch<O>>>();
  /**
   * The watched paths by the hash of their characters: a change finds its ancestors' watches by
   * hashing its own path's prefixes as it scans it, without a substring per ancestor.
   */
  readonly #pathsByHash = new Map<number, string[]>();
  #seq = 0;
  /** matching()'s count of paths with watches, and whether all of them are in owner order. */
  #lists = 0;
  #ordered = true;

  get isEmpty(): boolean {
    return this.#byPath.size === 0;
  }

  find(owner: O, path: string, token: Buffer): Watch<O> | undefined {
    return this.#byOwner.get(owner)?.get(ownerKey(path, token));
  }

  /** Watches held by `owner`. */
  countOf(owner: O): number {
    return this.#byOwner.get(owner)?.size ?? 0;
  }

  add(owner: O, path: string, token: Buffer, relativeTo: number): Watch<O> {
    const w = new Watch(owner, path, token, relativeTo, ++this.#seq);
    const list = this.#byPath.get(path);
    if (list === undefined) {
      this.#byPath.set(path, new Set([w]));
      const h = pathHash(path);
      const same = this.#pathsByHash.get(h);
      if (same === undefined) this.#pathsByHash.set(h, [path]);
      else same.push(path);
    } else {
      if (this.#last.get(path)!.owner.seq > owner.seq) this.#unordered.add(path);
      list.add(w);
    }
    this.#last.set(path, w);
    let mine = this.#byOwner.get(owner);
    if (mine === undefined) {
      mine = new Map();
      this.#byOwner.set(owner, mine);
    }
    mine.set(ownerKey(path, token), w);
    return w;
  }

  remove(w: Watch<O>): void {
    const list = this.#byPath.get(w.path);
    if (list === undefined || !list.delete(w)) return;
    if (list.size === 0) this.#forgetPath(w.path);
    const mine = this.#byOwner.get(w.owner)!;
    mine.delete(ownerKey(w.path, w.token));
    if (mine.size === 0) this.#byOwner.delete(w.owner);
  }

  /** Remove every watch of `owner`; returns how many there were. */
  removeOwner(owner: O): number {
    const mine = this.#byOwner.get(owner);
    if (mine === undefined) return 0;
    for (const w of mine.values()) {
      const list = this.#byPath.get(w.path)!;
      list.delete(w);
      if (list.size === 0) this.#forgetPath(w.path);
    }
    this.#byOwner.delete(owner);
    return mine.size;
  }

  #forgetPath(path: string): void {
    this.#byPath.delete(path);
    this.#unordered.delete(path);
    this.#last.delete(path);
    const h = pathHash(path);
    const same = this.#pathsByHash.get(h)!;
    if (same.length === 1) this.#pathsByHash.delete(h);
    else same.splice(same.indexOf(path), 1);
  }

  /**
   * Watches that fire for a change at `path`: those on exactly `path` if `exact`, else those on
   * `path` or any ancestor. In creation order by owner, then by watch.
   */
  matching(path: string, exact: boolean): readonly Watch<O>[] {
    if (this.#byPath.size === 0) return NONE;
    this.#lists = 0;
    this.#ordered = true;
    let found = this.#add(undefined, path);
    if (!exact && path.length > 1 && path.charCodeAt(0) === 0x2f) {
      // The ancestors: the root, and the path up to each later '/' (parentPath's walk).
      found = this.#add(found, '/');
      let h = step(0, 0x2f);
      for (let i = 1; i < path.length; i++) {
        const ch = path.charCodeAt(i);
        if (ch === 0x2f && i > 1) {
          const same = this.#pathsByHash.get(h);
          if (same !== undefined) {
            for (const p of same) if (p.length === i && path.startsWith(p)) found = this.#add(found, p);
          }
        }
        h = step(h, ch);
      }
    }
    if (found === undefined) return NONE;
    // One path's watches are in order already unless an older connection added one after a newer.
    if (found.length > 1 && (this.#lists > 1 || !this.#ordered)) {
      found.sort((a, b) => a.owner.seq - b.owner.seq || a.seq - b.seq);
    }
    return found;
  }

  /** `found` with the watches on `p` added (an array made at the first). */
  #add(found: Watch<O>[] | undefined, p: string): Watch<O>[] | undefined {
    const list = this.#byPath.get(p);
    if (list === undefined) return found;
    this.#lists++;
    if (this.#unordered.has(p)) this.#ordered = false;
    found ??= [];
    for (const w of list) found.push(w);
    return found;
  }
}
