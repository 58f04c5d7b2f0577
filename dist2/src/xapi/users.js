// XenAPI's users: a name, a role and an scrypt hash of the password, kept in the host
// database (its user class), so they persist with the host's other records.
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { isXapiRole } from '../toolstack/contract.js';
/** scrypt's cost: N=2^15 takes ~50 ms and 32 MiB, enough to make guessing offline slow. */
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 << 20 };
const KEY_LEN = 32;
function scrypt(password, salt, opts) {
    return new Promise((resolve, reject) => scryptCb(password, salt, KEY_LEN, opts, (e, key) => (e ? reject(e) : resolve(key))));
}
/** scrypt$N$r$p$salt$hash, salt and hash in base64, as the user record keeps it. */
export async function hashPassword(password) {
    const salt = randomBytes(16);
    const key = await scrypt(password, salt, SCRYPT);
    return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}
/** Constant-time check of a password against a stored hash; false for a hash it cannot read. */
export async function verifyPassword(password, stored) {
    const m = /^scrypt\$([0-9]+)\$([0-9]+)\$([0-9]+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
    if (!m)
        return false;
    const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (N > 1 << 20 || r > 32 || p > 16)
        return false;
    const want = Buffer.from(m[5], 'base64');
    if (want.length !== KEY_LEN)
        return false;
    const got = await scrypt(password, Buffer.from(m[4], 'base64'), { N, r, p, maxmem: 256 << 20 });
    return timingSafeEqual(got, want);
}
/** A hash no password matches, checked for unknown users so that they take as long to refuse. */
const DECOY = hashPassword(randomBytes(16).toString('hex'));
/** XenAPI's users in the host database's user class: short_name, role, password_hash. */
export class HostDbUsers {
    db;
    /** Told when a user is replaced (the service ends their sessions). */
    onReplaced = () => { };
    constructor(db) {
        this.db = db;
    }
    async add(name, role, password) {
        const hash = await hashPassword(password);
        const replaced = await this.db.transaction((tx) => {
            const [ref] = tx.user.where('short_name', name);
            if (ref)
                tx.user.update(ref, { password_hash: hash, role });
            else
                tx.user.create({ short_name: name, fullname: name, password_hash: hash, role });
            return ref !== undefined;
        });
        if (replaced)
            this.onReplaced(name);
        return replaced;
    }
    /** The user if the password is theirs; undefined otherwise (in about the same time). */
    async authenticate(name, password) {
        const u = await this.db.read((tx) => {
            const [ref] = tx.user.where('short_name', name);
            return ref === undefined ? undefined : tx.user.get(ref);
        });
        const ok = await verifyPassword(password, u?.password_hash ?? (await DECOY));
        return u && ok && isXapiRole(u.role) ? { name: u.short_name, role: u.role } : undefined;
    }
}
//# sourceMappingURL=users.js.map