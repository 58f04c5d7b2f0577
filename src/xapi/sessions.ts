// XenAPI sessions: a ref handed out at login, checked on every call. A session ends at logout,
// when it has been idle too long, when its user is replaced, or when the table is full (the
// least recently used goes, as XAPI drops its oldest past 500 per user). Refs are 128 random
// bits: a forged one is SESSION_INVALID, as is an expired or revoked one.
import { randomUUID } from 'node:crypto';
import type { XapiRole } from '../toolstack/contract.js';
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
}

export interface SessionLimits {
  /** A session idle this long ends. */
  readonly idleMs: number;
  /** Sessions at once; the least recently used goes past it. */
  readonly maxSessions: number;
}

export const SESSION_LIMITS: SessionLimits = { idleMs: 24 * 3600_000, maxSessions: 1000 };

export class SessionTable {
  /** In order of last use: the first is the least recently used. */
  readonly #byRef = new Map<string, Session>();

  constructor(readonly limits: SessionLimits = SESSION_LIMITS, private readonly now: () => number = Date.now) {}

  create(user: string, role: XapiRole, source: string, originator: string): Session {
    const s: Session = {
      ref: `OpaqueRef:${randomUUID()}`, uuid: randomUUID(), user, role, source, originator, created: new Date(this.now()), lastActive: this.now(),
    };
    while (this.#byRef.size >= this.limits.maxSessions) this.#byRef.delete(this.#byRef.keys().next().value!);
    this.#byRef.set(s.ref, s);
    return s;
  }

  /** The live session of `ref` (now used), or SESSION_INVALID. */
  use(ref: unknown): Session {
    const r = typeof ref === 'string' ? ref : '';
    const s = this.#byRef.get(r);
    if (!s) throw sessionInvalid(r);
    const now = this.now();
    if (now - s.lastActive > this.limits.idleMs) {
      this.#byRef.delete(r);
      throw sessionInvalid(r);
    }
    s.lastActive = now;
    this.#byRef.delete(r);
    this.#byRef.set(r, s);
    return s;
  }

  revoke(ref: string): boolean {
    return this.#byRef.delete(ref);
  }

  /** End every session of a user. */
  revokeUser(user: string): void {
    for (const [ref, s] of this.#byRef) if (s.user === user) this.#byRef.delete(ref);
  }

  get size(): number {
    return this.#byRef.size;
  }

  all(): Session[] {
    return [...this.#byRef.values()];
  }
}

export interface LoginLimits {
  /** Failed logins from one source within the window before its logins are refused... */
  readonly failures: number;
  /** ...until the window since its first failure is over. */
  readonly windowMs: number;
  /** Sources tracked at once; past it the oldest entry is forgotten. */
  readonly maxSources: number;
}

export const LOGIN_LIMITS: LoginLimits = { failures: 5, windowMs: 60_000, maxSources: 4096 };

/** Failed logins per source: a guesser gets `failures` tries per window, then waits. */
export class LoginThrottle {
  readonly #failed = new Map<string, { since: number; count: number }>();

  constructor(readonly limits: LoginLimits = LOGIN_LIMITS, private readonly now: () => number = Date.now) {}

  /** SESSION_AUTHENTICATION_FAILED if `source` has failed too often lately. */
  check(source: string, user: string): void {
    const f = this.#failed.get(source);
    if (!f) return;
    const left = f.since + this.limits.windowMs - this.now();
    if (left <= 0) this.#failed.delete(source);
    else if (f.count >= this.limits.failures) {
      throw new XapiError('SESSION_AUTHENTICATION_FAILED', [user, `too many failed logins from ${source}: try again in ${Math.ceil(left / 1000)} s`]);
    }
  }

  failed(source: string): void {
    const f = this.#failed.get(source);
    if (f) f.count++;
    else {
      if (this.#failed.size >= this.limits.maxSources) this.#failed.delete(this.#failed.keys().next().value!);
      this.#failed.set(source, { since: this.now(), count: 1 });
    }
  }

  succeeded(source: string): void {
    this.#failed.delete(source);
  }
}
