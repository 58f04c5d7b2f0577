import { parentPath } from '../common/path.js';
export class Watch {
    owner;
    path;
    token;
    relativeTo;
    seq;
    constructor(owner, 
    /** Absolute node path or special path (@introduceDomain, ...). */
    path, 
    /** The token bytes exactly as the client sent them. */
    token, 
    /** Characters to strip from event paths: the watch was given relative to the owner's home. */
    relativeTo, seq) {
        this.owner = owner;
        this.path = path;
        this.token = token;
        this.relativeTo = relativeTo;
        this.seq = seq;
    }
    /** The path to report for a change at `changed` (relative if the watch was). */
    eventPath(changed) {
        return this.relativeTo === 0 ? changed : changed.slice(this.relativeTo);
    }
}
/** Key of a watch among its owner's: path and token, which a connection may register once. */
function ownerKey(path, token) {
    return `${path}\0${token.toString('latin1')}`;
}
/**
 * Every watch, indexed by path (for firing) and by owner, path and token (for WATCH, UNWATCH
 * and a connection going away), so each operation costs what it finds, not the whole table.
 */
export class WatchTable {
    /** Per path, in creation order. */
    #byPath = new Map();
    /** Paths whose watches are not in owner order (a connection older than the last watch's added one). */
    #unordered = new Set();
    /** The newest watch on each path. */
    #last = new Map();
    #byOwner = new Map();
    #seq = 0;
    get isEmpty() {
        return this.#byPath.size === 0;
    }
    find(owner, path, token) {
        return this.#byOwner.get(owner)?.get(ownerKey(path, token));
    }
    /** Watches held by `owner`. */
    countOf(owner) {
        return this.#byOwner.get(owner)?.size ?? 0;
    }
    add(owner, path, token, relativeTo) {
        const w = new Watch(owner, path, token, relativeTo, ++this.#seq);
        const list = this.#byPath.get(path);
        if (list === undefined) {
            this.#byPath.set(path, new Set([w]));
        }
        else {
            if (this.#last.get(path).owner.seq > owner.seq)
                this.#unordered.add(path);
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
    remove(w) {
        const list = this.#byPath.get(w.path);
        if (list === undefined || !list.delete(w))
            return;
        if (list.size === 0)
            this.#forgetPath(w.path);
        const mine = this.#byOwner.get(w.owner);
        mine.delete(ownerKey(w.path, w.token));
        if (mine.size === 0)
            this.#byOwner.delete(w.owner);
    }
    /** Remove every watch of `owner`; returns how many there were. */
    removeOwner(owner) {
        const mine = this.#byOwner.get(owner);
        if (mine === undefined)
            return 0;
        for (const w of mine.values()) {
            const list = this.#byPath.get(w.path);
            list.delete(w);
            if (list.size === 0)
                this.#forgetPath(w.path);
        }
        this.#byOwner.delete(owner);
        return mine.size;
    }
    #forgetPath(path) {
        this.#byPath.delete(path);
        this.#unordered.delete(path);
        this.#last.delete(path);
    }
    /**
     * Watches that fire for a change at `path`: those on exactly `path` if `exact`, else those on
     * `path` or any ancestor. In creation order by owner, then by watch.
     */
    matching(path, exact) {
        if (this.#byPath.size === 0)
            return [];
        const found = [];
        let lists = 0;
        let ordered = true;
        const add = (p) => {
            const list = this.#byPath.get(p);
            if (list === undefined)
                return;
            lists++;
            if (this.#unordered.has(p))
                ordered = false;
            for (const w of list)
                found.push(w);
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
//# sourceMappingURL=watches.js.map