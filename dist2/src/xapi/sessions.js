// XenAPI sessions: a ref handed out at login, checked on every call. A session ends at logout,
// when it has been idle too long, when its user is replaced, or when the table is full (the
// least recently used goes, as XAPI drops its oldest past 500 per user). Refs are 128 random
// bits: a forged one is SESSION_INVALID, as is an expired or revoked one. Checks run on the
// table in memory; a SessionStore (the host database) keeps the sessions for the next start,
// written when they begin and end, and their last use at most once a minute.
import { randomUUID } from 'node:crypto';
import { isXapiRole } from '../toolstack/contract.js';
import { NULL_REF } from '../toolstack/db/records.js';
import { sessionInvalid, XapiError } from './errors.js';
/** How stale a stored last use may get: a write per call would cost a disk flush per call. */
const STORE_ACTIVE_MS = 60_000;
export const SESSION_LIMITS = { idleMs: 24 * 3600_000, maxSessions: 1000 };
export class SessionTable {
    limits;
    now;
    store;
    /** In order of last use: the first is the least recently used. */
    #byRef = new Map();
    constructor(limits = SESSION_LIMITS, now = Date.now, store) {
        this.limits = limits;
        this.now = now;
        this.store = store;
    }
    /** The sessions the store kept (those still within their idle limit), oldest use first. */
    async restore() {
        if (!this.store)
            return;
        const kept = (await this.store.load()).sort((a, b) => a.lastActive - b.lastActive);
        for (const s of kept) {
            if (this.now() - s.lastActive > this.limits.idleMs)
                this.store.remove(s.ref);
            else
                this.#add(s);
        }
    }
    create(user, role, source, originator) {
        const now = this.now();
        const s = {
            ref: `OpaqueRef:${randomUUID()}`, uuid: randomUUID(), user, role, source, originator, created: new Date(now), lastActive: now, stored: now,
        };
        this.#add(s);
        this.store?.save(s);
        return s;
    }
    #add(s) {
        while (this.#byRef.size >= this.limits.maxSessions)
            this.revoke(this.#byRef.keys().next().value);
        this.#byRef.set(s.ref, s);
    }
    /** The live session of `ref` (now used), or SESSION_INVALID. */
    use(ref) {
        const r = typeof ref === 'string' ? ref : '';
        const s = this.#byRef.get(r);
        if (!s)
            throw sessionInvalid(r);
        const now = this.now();
        if (now - s.lastActive > this.limits.idleMs) {
            this.revoke(r);
            throw sessionInvalid(r);
        }
        s.lastActive = now;
        this.#byRef.delete(r);
        this.#byRef.set(r, s);
        if (now - s.stored > STORE_ACTIVE_MS) {
            s.stored = now;
            this.store?.save(s);
        }
        return s;
    }
    revoke(ref) {
        if (!this.#byRef.delete(ref))
            return false;
        this.store?.remove(ref);
        return true;
    }
    /** End every session of a user. */
    revokeUser(user) {
        for (const [ref, s] of this.#byRef)
            if (s.user === user)
                this.revoke(ref);
    }
    has(ref) {
        return this.#byRef.has(ref);
    }
    get size() {
        return this.#byRef.size;
    }
    all() {
        return [...this.#byRef.values()];
    }
}
export const LOGIN_LIMITS = { failures: 5, windowMs: 60_000, maxSources: 4096 };
/** Failed logins per source: a guesser gets `failures` tries per window, then waits. */
export class LoginThrottle {
    limits;
    now;
    #failed = new Map();
    constructor(limits = LOGIN_LIMITS, now = Date.now) {
        this.limits = limits;
        this.now = now;
    }
    /** SESSION_AUTHENTICATION_FAILED if `source` has failed too often lately. */
    check(source, user) {
        const f = this.#failed.get(source);
        if (!f)
            return;
        const left = f.since + this.limits.windowMs - this.now();
        if (left <= 0)
            this.#failed.delete(source);
        else if (f.count >= this.limits.failures) {
            throw new XapiError('SESSION_AUTHENTICATION_FAILED', [user, `too many failed logins from ${source}: try again in ${Math.ceil(left / 1000)} s`]);
        }
    }
    failed(source) {
        const f = this.#failed.get(source);
        if (f)
            f.count++;
        else {
            if (this.#failed.size >= this.limits.maxSources)
                this.#failed.delete(this.#failed.keys().next().value);
            this.#failed.set(source, { since: this.now(), count: 1 });
        }
    }
    succeeded(source) {
        this.#failed.delete(source);
    }
}
/**
 * Sessions as the host database's session records: auth_user_name, originator, last_active;
 * root's local sessions are is_local_superuser. The role is the user's at load time.
 */
export class HostDbSessions {
    db;
    onError;
    /** Called with a write the database refused (the session goes on in memory). */
    constructor(db, onError) {
        this.db = db;
        this.onError = onError;
    }
    async load() {
        return this.db.read((tx) => {
            const out = [];
            for (const [ref, r] of tx.session.getAllRecords()) {
                const user = r.this_user === NULL_REF ? undefined : tx.user.find(r.this_user);
                const role = r.is_local_superuser ? 'pool-admin' : user?.role;
                const last = Date.parse(r.last_active);
                if (role === undefined || !isXapiRole(role) || Number.isNaN(last))
                    continue;
                out.push({
                    ref, uuid: r.uuid, user: r.auth_user_name, role, source: r.other_config['source'] ?? '', originator: r.originator,
                    created: new Date(r.validation_time), lastActive: last, stored: last,
                });
            }
            return out;
        });
    }
    save(s) {
        this.db.transaction((tx) => {
            const last_active = new Date(s.lastActive).toISOString();
            if (tx.session.find(s.ref)) {
                tx.session.update(s.ref, { last_active });
                return;
            }
            const superuser = s.source === 'unix' && s.user === 'root';
            const [user] = superuser ? [] : tx.user.where('short_name', s.user);
            tx.session.create({
                uuid: s.uuid, this_user: user ?? NULL_REF, auth_user_name: s.user, last_active, validation_time: s.created.toISOString(),
                originator: s.originator, is_local_superuser: superuser, other_config: { source: s.source },
            }, s.ref);
        }).catch(this.onError);
    }
    remove(ref) {
        this.db.transaction((tx) => {
            if (tx.session.find(ref))
                tx.session.destroy(ref);
        }).catch(this.onError);
    }
}
//# sourceMappingURL=sessions.js.map