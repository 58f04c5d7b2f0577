// XenAPI's users: a name, a role and an scrypt hash of the password, kept in the host
// database (its user class), so they persist with the host's other records.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { isXapiRole, type UserDirectory, type XapiRole } from '../toolstack/contract.js';
import type { HostDb } from '../toolstack/db/hostdb.js';

export interface User {
  readonly name: string;
  readonly role: XapiRole;
}

/** scrypt's cost: N=2^15 takes ~50 ms and 32 MiB, enough to make guessing offline slow. */
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 << 20 };
const KEY_LEN = 32;

function scrypt(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, KEY_LEN, opts, (e, key) => (e ? reject(e) : resolve(key))));
}

/** scrypt$N$r$p$salt$hash, salt and hash in base64, as the user record keeps it. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Constant-time check of a password against a stored hash; false for a hash it cannot read. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = /^scrypt\$([0-9]+)\$([0-9]+)\$([0-9]+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!m) return false;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (N > 1 << 20 || r > 32 || p > 16) return false;
  const want = Buffer.from(m[5]!, 'base64');
  if (want.length !== KEY_LEN) return false;
  const got = await scrypt(password, Buffer.from(m[4]!, 'base64'), { N, r, p, maxmem: 256 << 20 });
  return timingSafeEqual(got, want);
}

/** A hash no password matches, checked for unknown users so that they take as long to refuse. */
const DECOY = hashPassword(randomBytes(16).toString('hex'));

/** The host is checking as many passwords as it will: this login is refused without a check. */
export class LoginsBusy extends Error {
  override name = 'LoginsBusy';

  /** fromSource: the caller's own address has as many checks waiting as it may, not the host. */
  constructor(message: string, readonly fromSource = false) {
    super(message);
  }
}

export interface CheckLimits {
  /** Password checks computing at once... */
  readonly concurrent: number;
  /** ...and waiting for their turn, in all... */
  readonly queued: number;
  /** ...and of one source address; more from it are refused (LoginsBusy). */
  readonly perSource: number;
}

/**
 * scrypt runs on libuv's thread pool (4 threads), which guests' file-backed disks use for their
 * reads and writes: unbounded, a flood of logins (even of unknown users) stalled every disk for
 * seconds. Two checks at once leave the pool's other threads to the disks, as XAPI's
 * local_auth_max_threads semaphore bounds its password checks. 128 waiting at most, 5 of any
 * one source (as many as its failed-login throttle lets through; on the default 127.0.0.1
 * listener every local client is that one source): a full queue gives a newcomer the place of
 * the source with most waiting, so many addresses cannot keep another out.
 */
export const CHECK_LIMITS: CheckLimits = { concurrent: 2, queued: 128, perSource: 5 };

interface Waiter {
  go(): void;
  refuse(e: LoginsBusy): void;
}

/**
 * Password checks in turn: `concurrent` at once; those waiting are served one source address at
 * a time, round robin, so a check waits behind at most one of each other address. In arrival
 * order, many addresses kept the queue full and an honest one was refused for as long as they
 * kept on. When the queue is full, an address with fewer waiting takes the place of the newest
 * check of the address with the most (which is refused): only when every address waiting has
 * one is a newcomer refused.
 */
export class CheckQueue {
  #running = 0;
  #waiting = 0;
  /** Each address's waiting checks, oldest first; addresses in turn order (the one served goes to the back). */
  readonly #bySource = new Map<string, Waiter[]>();

  constructor(readonly limits: CheckLimits) {}

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting;
  }

  async run<T>(source: string, check: () => Promise<T>): Promise<T> {
    // The one that ends hands its turn over: #running stays as it is.
    if (this.#running >= this.limits.concurrent) await this.#wait(source);
    else this.#running++;
    try {
      return await check();
    } finally {
      this.#next();
    }
  }

  #wait(source: string): Promise<void> {
    const mine = this.#bySource.get(source) ?? [];
    const busy = (why: string, fromSource = false) => new LoginsBusy(`${this.#running} password checks running and ${this.#waiting} waiting${why}`, fromSource);
    if (mine.length >= this.limits.perSource) throw busy(`, ${mine.length} of them from ${source}`, true);
    if (this.#waiting >= this.limits.queued) {
      let most: Waiter[] = mine;
      for (const list of this.#bySource.values()) if (list.length >= most.length) most = list;
      if (most.length <= mine.length + 1) throw busy('');
      this.#waiting--;
      most.pop()!.refuse(busy(`: its place went to ${source}, which had fewer waiting`));
    }
    return new Promise((resolve, reject) => {
      mine.push({ go: resolve, refuse: reject });
      this.#bySource.set(source, mine);
      this.#waiting++;
    });
  }

  #next(): void {
    const first = this.#bySource.entries().next();
    if (first.done) {
      this.#running--;
      return;
    }
    const [source, list] = first.value;
    this.#bySource.delete(source);
    if (list.length > 1) this.#bySource.set(source, list);
    this.#waiting--;
    list.shift()!.go();
  }
}

/** XenAPI's users in the host database's user class: short_name, role, password_hash. */
export class HostDbUsers implements UserDirectory {
  /** Told when a user is replaced (the service ends their sessions). */
  onReplaced: (name: string) => void = () => {};

  /** Password checks of this host's logins, in turn. */
  readonly checks: CheckQueue;

  constructor(private readonly db: HostDb, limits: CheckLimits = CHECK_LIMITS) {
    this.checks = new CheckQueue(limits);
  }

  async add(name: string, role: XapiRole, password: string): Promise<boolean> {
    const hash = await hashPassword(password);
    const replaced = await this.db.transaction((tx) => {
      const [ref] = tx.user.where('short_name', name);
      if (ref) tx.user.update(ref, { password_hash: hash, role });
      else tx.user.create({ short_name: name, fullname: name, password_hash: hash, role });
      return ref !== undefined;
    });
    if (replaced) this.onReplaced(name);
    return replaced;
  }

  /**
   * The user if the password is theirs; undefined otherwise (in about the same time, and in the
   * same queue, in `source`'s turn). LoginsBusy, before anything is looked up, when the queue has
   * no place for it.
   */
  async authenticate(name: string, password: string, source: string): Promise<User | undefined> {
    return this.checks.run(source, async () => {
      const u = await this.db.read((tx) => {
        const [ref] = tx.user.where('short_name', name);
        return ref === undefined ? undefined : tx.user.get(ref);
      });
      const ok = await verifyPassword(password, u?.password_hash ?? (await DECOY));
      return u && ok && isXapiRole(u.role) ? { name: u.short_name, role: u.role } : undefined;
    });
  }
}
