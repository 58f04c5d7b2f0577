// Watches, indexed by the path they watch so a change looks up only its own path and ancestors
// (a change fires the watches on the node and on every node above it).
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

export class WatchTable<O extends WatchOwner> {
  readonly #byPath = new Map<string, Watch<O>[]>();
  #seq = 0;

  get isEmpty(): boolean {
    return this.#byPath.size === 0;
  }

  find(owner: O, path: string, token: Buffer): Watch<O> | undefined {
    return this.#byPath.get(path)?.find((w) => w.owner === owner && w.token.equals(token));
  }

  add(owner: O, path: string, token: Buffer, relativeTo: number): Watch<O> {
    const w = new Watch(owner, path, token, relativeTo, ++this.#seq);
    const list = this.#byPath.get(path);
    if (list === undefined) this.#byPath.set(path, [w]);
    else list.push(w);
    return w;
  }

  remove(w: Watch<O>): void {
    const list = this.#byPath.get(w.path);
    if (list === undefined) return;
    const i = list.indexOf(w);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#byPath.delete(w.path);
  }

  /**
   * Watches that fire for a change at `path`: those on exactly `path` if `exact`, else those on
   * `path` or any ancestor. In creation order by owner, then by watch.
   */
  matching(path: string, exact: boolean): Watch<O>[] {
    if (this.#byPath.size === 0) return [];
    const found: Watch<O>[] = [];
    const add = (p: string): void => {
      const list = this.#byPath.get(p);
      if (list !== undefined) found.push(...list);
    };
    add(path);
    if (!exact && path.charCodeAt(0) === 0x2f) {
      for (let p = path; p !== '/';) {
        p = parentPath(p);
        add(p);
      }
    }
    if (found.length > 1) found.sort((a, b) => a.owner.seq - b.owner.seq || a.seq - b.seq);
    return found;
  }
}
