// Node permissions (docs/misc/xenstore.txt "Permissions"): a list whose first entry names the
// owner and the access everyone else gets, followed by per-domain ACL entries. The owner, dom0
// and privileged connections get everything; a stub domain (SET_TARGET) acts as its target.
import { Buffer } from 'node:buffer';
import { XenError } from '../../errors.js';
import { strtolWhole } from './cnum.js';
// xenstore_lib.h
export const XS_PERM_NONE = 0x00;
export const XS_PERM_READ = 0x01;
export const XS_PERM_WRITE = 0x02;
export const XS_PERM_OWNER = 0x08;
export const XS_PERM_ALL = XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;
const LETTER_BITS = { n: XS_PERM_NONE, r: XS_PERM_READ, w: XS_PERM_WRITE, b: XS_PERM_READ | XS_PERM_WRITE };
const BITS_LETTER = ['n', 'r', 'w', 'b'];
/** An immutable permission list; nodes share them freely. */
export class Perms {
    entries;
    #wire;
    constructor(entries) {
        this.entries = entries;
        if (entries.length === 0)
            throw new XenError('EINVAL', 'a permission list needs an owner entry');
    }
    static owned(domid) {
        return new Perms([{ id: domid, perms: XS_PERM_NONE }]);
    }
    /**
     * Parse the permission strings of XS_SET_PERMS ("r5", "n0", ...) as libxenstore's
     * xenstore_strings_to_perms does: letter n/r/w/b, then a number in C strtol base-0 syntax.
     */
    static parse(strings) {
        return new Perms(strings.map((s) => {
            const bits = LETTER_BITS[s.charAt(0)];
            const id = strtolWhole(s.slice(1));
            if (bits === undefined || id === undefined)
                throw new XenError('EINVAL', `bad permission '${s}'`);
            return { id, perms: bits };
        }));
    }
    get owner() {
        return this.entries[0].id;
    }
    /** The same list with a different owner (a node created by an unprivileged domain). */
    withOwner(domid) {
        if (this.owner === domid)
            return this;
        return new Perms([{ id: domid, perms: this.entries[0].perms }, ...this.entries.slice(1)]);
    }
    /** The list with its ACL entries naming a domain for which `gone(id)` holds marked ignored. */
    ignoring(gone) {
        if (!this.entries.some((e, i) => i > 0 && !e.ignored && gone(e.id)))
            return this;
        return new Perms(this.entries.map((e, i) => (i > 0 && !e.ignored && gone(e.id) ? { ...e, ignored: true } : e)));
    }
    /** The domains the list names, owner included. */
    *domids() {
        for (const e of this.entries)
            yield e.id;
    }
    /** The GET_PERMS payload: one NUL-terminated string per entry. */
    toWire() {
        if (this.#wire === undefined) {
            this.#wire = Buffer.from(this.entries.map((e) => `${BITS_LETTER[e.perms & 3]}${e.id}\0`).join(''), 'latin1');
        }
        return this.#wire;
    }
}
/** cxenstored's perm_for_conn: the XS_PERM_* bits `who` has on a node with `perms`. */
export function permFor(who, perms) {
    if (who.privileged)
        return XS_PERM_ALL;
    const e = perms.entries;
    const owner = e[0].id;
    if (owner === who.domid || owner === who.target)
        return XS_PERM_ALL;
    for (let i = 1; i < e.length; i++) {
        if (!e[i].ignored && (e[i].id === who.domid || e[i].id === who.target))
            return e[i].perms;
    }
    return e[0].perms;
}
//# sourceMappingURL=perms.js.map