// Watches, indexed by the path they watch so a change looks up only its own path and ancestors
// (a change fires the watches on the node and on every node above it), and by owner.
import type { Buffer } from 'node:buffer';
import { parentPath } from '../common/path.js';

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
  #seq = 0;

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
  }

  /**
   * Watches that fire for a change at `path`: those on exactly `path` if `exact`, else those on
   * `path` or any ancestor. In creation order by owner, then by watch.
   */
  matching(path: string, exact: boolean): Watch<O>[] {
    if (this.#byPath.size === 0) return [];
    const found: Watch<O>[] = [];
    let lists = 0;
    let ordered = true;
    const add = (p: string): void => {
      const list = this.#byPath.get(p);
      if (list === undefined) return;
      lists++;
      if (this.#unordered.has(p)) ordered = false;
      for (const w of list) found.push(w);
    };
    add(path);
    if (!exact && path.charCodeAt(0) === 0x2f) {
      for (let p = path; p !== '/';) {
        p = parentPath(p);
        add(p);
      }
    }
    // One path's watches are in order already unless an older connection added one after a newer.
    if (found.length > 1 && (lists > 1 || !ordered)) {
      found.sort((a, b) => a.owner.seq - b.owner.seq || a.seq - b.seq);
    }
    return found;
  }
}
