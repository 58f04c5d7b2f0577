// XenAPI sessions: a ref handed out at login, checked on every call. A session ends at logout,
// when it has been idle too long, when its user is replaced, or when its group is full: the
// group's least recently used goes, as XAPI's session GC (db_gc_util.ml) drops the oldest past
// 500 per user name, 500 per originator of root's, 400 for root's without one. Grouping keeps
// one user's logins from ending another's sessions (a read-only user could log out every
// admin when one table of 1,000 was shared). Refs are 128 random
// bits: a forged one is SESSION_INVALID, as is an expired or revoked one. Checks run on the
// table in memory; a SessionStore (the host database) keeps the sessions for the next start,
// written when they begin and end, and their last use at most once a minute.
import { randomUUID } from 'node:crypto';
import { isXapiRole, type XapiRole } from '../toolstack/contract.js';
import type { HostDb } from '../toolstack/db/hostdb.js';
import { NULL_REF } from '../toolstack/db/records.js';
import { sessionInvalid, XapiError } from './errors.js';

export interface Session {
  readonly ref: string;
  readonly uuid: string;
  readonly user: string;
  readonly role: XapiRole;
  /** Where the login came from: an address, or 'unix' for the local socket. */
  readonly source: string;
  readonly originator: string;
  readonly created: Date;
  lastActive: number;
  /** lastActive as the store last had it. */
  stored: number;
}

/** Where sessions outlive the process: told of each change, read once at start. */
export interface SessionStore {
  load(): Promise<Session[]>;
  /** A session began, or was used a while after its last save. */
  save(s: Session): void;
  remove(ref: string): void;
}

/** How stale a stored last use may get: a write per call would cost a disk flush per call. */
const STORE_ACTIVE_MS = 60_000;

export interface SessionLimits {
  /** A session idle this long ends. */
  readonly idleMs: number;
  /** Sessions of one user (other than root) at once; the user's least recently used goes past it. */
  readonly perUser: number;
  /** root's sessions with one originator at once. */
  readonly perOriginator: number;
  /** root's sessions with no originator at once. */
  readonly anonymous: number;
}

/** XAPI's max_sessions_per_user_name, max_sessions_per_originator and max_sessions (Xapi_globs). */
export const SESSION_LIMITS: SessionLimits = { idleMs: 24 * 3600_000, perUser: 500, perOriginator: 500, anonymous: 400 };

/** A session's group, as XAPI's GC groups them: by user name, except root's (by originator, if any). */
function groupOf(s: Pick<Session, 'user' | 'originator'>): string {
  if (s.user !== 'root' && s.user !== '') return `username:${s.user}`;
  return s.originator === '' ? 'external' : `originator:${s.originator}`;
}

export class SessionTable {
  readonly #byRef = new Map<string, Session>();
  /** Each group's sessions in order of last use: the first is the least recently used. */
  readonly #groups = new Map<string, Map<string, Session>>();

  constructor(readonly limits: SessionLimits = SESSION_LIMITS, private readonly now: () => number = Date.now, private readonly store?: SessionStore) {}

  /** The sessions the store kept (those still within their idle limit), oldest use first. */
  async restore(): Promise<void> {
    if (!this.store) return;
    const kept = (await this.store.load()).sort((a, b) => a.lastActive - b.lastActive);
    for (const s of kept) {
      if (this.now() - s.lastActive > this.limits.idleMs) this.store.remove(s.ref);
      else this.#add(s);
    }
  }

  create(user: string, role: XapiRole, source: string, originator: string): Session {
    const now = this.now();
    const s: Session = {
      ref: `OpaqueRef:${randomUUID()}`, uuid: randomUUID(), user, role, source, originator, created: new Date(now), lastActive: now, stored: now,
    };
    this.#add(s);
    this.store?.save(s);
    return s;
  }

  #limit(group: string): number {
    if (group === 'external') return this.limits.anonymous;
    return group.startsWith('username:') ? this.limits.perUser : this.limits.perOriginator;
  }

  #add(s: Session): void {
    const key = groupOf(s);
    let group = this.#groups.get(key);
    if (!group) this.#groups.set(key, (group = new Map()));
    while (group.size >= this.#limit(key)) this.revoke(group.keys().next().value!);
    group.set(s.ref, s);
    this.#byRef.set(s.ref, s);
  }

  /** The live session of `ref` (now used), or SESSION_INVALID. */
  use(ref: unknown): Session {
    const r = typeof ref === 'string' ? ref : '';
    const s = this.#byRef.get(r);
    if (!s) throw sessionInvalid(r);
    const now = this.now();
    if (now - s.lastActive > this.limits.idleMs) {
      this.revoke(r);
      throw sessionInvalid(r);
    }
    s.lastActive = now;
    const group = this.#groups.get(groupOf(s))!;
    group.delete(r);
    group.set(r, s);
    if (now - s.stored > STORE_ACTIVE_MS) {
      s.stored = now;
      this.store?.save(s);
    }
    return s;
  }

  revoke(ref: string): boolean {
    const s = this.#byRef.get(ref);
    if (!s) return false;
    this.#byRef.delete(ref);
    const key = groupOf(s);
    const group = this.#groups.get(key)!;
    group.delete(ref);
    if (group.size === 0) this.#groups.delete(key);
    this.store?.remove(ref);
    return true;
  }

  /** End every session of a user. */
  revokeUser(user: string): void {
    for (const [ref, s] of this.#byRef) if (s.user === user) this.revoke(ref);
  }

  has(ref: string): boolean {
    return this.#byRef.has(ref);
  }

  get size(): number {
    return this.#byRef.size;
  }
}

export interface LoginLimits {
  /** Failed logins, and logins still being checked, from one source before its logins are refused... */
  readonly failures: number;
  /** ...until the window since its first failure is over. */
  readonly windowMs: number;
  /** Sources tracked at once; past it the oldest entry is forgotten. */
  readonly maxSources: number;
}

export const LOGIN_LIMITS: LoginLimits = { failures: 5, windowMs: 60_000, maxSources: 4096 };

/**
 * Logins per source: a guesser gets `failures` tries per window, then waits. A login counts from
 * before its password is checked (scrypt, 32 MiB on libuv's pool): a burst of attempts from one
 * source gets `failures` checks, not one per attempt. A login that succeeds clears its own user
 * name's failures only: one account's logins would otherwise reset the guesses at another's.
 */
export class LoginThrottle {
  /** Per source: its failures in the window (in all and per user name) and the logins being checked. */
  readonly #sources = new Map<string, { since: number; count: number; inFlight: number; failed: Map<string, number> }>();

  constructor(readonly limits: LoginLimits = LOGIN_LIMITS, private readonly now: () => number = Date.now) {}

  /** A login from `source` begins (end() says how it ended); SESSION_AUTHENTICATION_FAILED if it has failed too often lately, or has too many logins being checked. */
  begin(source: string, user: string): void {
    let f = this.#sources.get(source);
    const left = f ? f.since + this.limits.windowMs - this.now() : 0;
    if (f && f.count > 0 && left <= 0) {
      f.count = 0;
      f.failed.clear();
    }
    if (f && f.count >= this.limits.failures) {
      throw new XapiError('SESSION_AUTHENTICATION_FAILED', [user, `too many failed logins from ${source}: try again in ${Math.ceil(left / 1000)} s`]);
    }
    if (f && f.count + f.inFlight >= this.limits.failures) {
      throw new XapiError('SESSION_AUTHENTICATION_FAILED', [user, `too many logins at once from ${source}: try again`]);
    }
    if (!f) {
      if (this.#sources.size >= this.limits.maxSources) this.#sources.delete(this.#sources.keys().next().value!);
      this.#sources.set(source, (f = { since: 0, count: 0, inFlight: 0, failed: new Map() }));
    }
    f.inFlight++;
  }

  /** A login of `user` begun ended: its password was right, wrong, or never checked (`dropped`, the host was busy). */
  end(source: string, user: string, result: 'ok' | 'failed' | 'dropped'): void {
    const f = this.#sources.get(source);
    // Forgotten meanwhile (a flood of other sources): nothing to count.
    if (!f) return;
    f.inFlight = Math.max(0, f.inFlight - 1);
    if (result === 'ok') {
      f.count -= f.failed.get(user) ?? 0;
      f.failed.delete(user);
    } else if (result === 'failed') {
      if (f.count++ === 0) f.since = this.now();
      // At most `failures` names: begin() refuses past that many failures.
      f.failed.set(user, (f.failed.get(user) ?? 0) + 1);
    }
    if (f.count === 0 && f.inFlight === 0) this.#sources.delete(source);
  }
}

/**
 * Sessions as the host database's session records: auth_user_name, originator, last_active;
 * root's local sessions are is_local_superuser. The role is the user's at load time.
 */
export class HostDbSessions implements SessionStore {
  /** Called with a write the database refused (the session goes on in memory). */
  constructor(private readonly db: HostDb, private readonly onError: (e: Error) => void) {}

  async load(): Promise<Session[]> {
    return this.db.read((tx) => {
      const out: Session[] = [];
      for (const [ref, r] of tx.session.getAllRecords()) {
        const user = r.this_user === NULL_REF ? undefined : tx.user.find(r.this_user);
        const role = r.is_local_superuser ? 'pool-admin' : user?.role;
        const last = Date.parse(r.last_active);
        if (role === undefined || !isXapiRole(role) || Number.isNaN(last)) continue;
        out.push({
          ref, uuid: r.uuid, user: r.auth_user_name, role, source: r.other_config['source'] ?? '', originator: r.originator,
          created: new Date(r.validation_time), lastActive: last, stored: last,
        });
      }
      return out;
    });
  }

  save(s: Session): void {
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

  remove(ref: string): void {
    this.db.transaction((tx) => {
      if (tx.session.find(ref)) tx.session.destroy(ref);
    }).catch(this.onError);
  }
}
