// XenAPI's users: a name, a role and an scrypt hash of the password, kept in a 0600 file of the
// state dir (written whole and renamed, so a crash leaves the old file or the new one). The
// host database takes them over once it exists; this module's interface stays.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { isXapiRole, type UserDirectory, type XapiRole } from '../toolstack/contract.js';

export interface User {
  readonly name: string;
  readonly role: XapiRole;
}

interface StoredUser extends User {
  /** scrypt$N$r$p$salt$hash, salt and hash in base64. */
  readonly hash: string;
}

/** scrypt's cost: N=2^15 takes ~50 ms and 32 MiB, enough to make guessing offline slow. */
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 << 20 };
const KEY_LEN = 32;

function scrypt(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, KEY_LEN, opts, (e, key) => (e ? reject(e) : resolve(key))));
}

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

export class UserFile implements UserDirectory {
  #users = new Map<string, StoredUser>();
  /** Writes one at a time, in order. */
  #writing: Promise<void> = Promise.resolve();
  /** Told when a user is replaced (the service ends their sessions). */
  onReplaced: (name: string) => void = () => {};

  private constructor(readonly path: string) {}

  static async open(path: string): Promise<UserFile> {
    const f = new UserFile(path);
    const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return '[]';
      throw e;
    });
    const list = JSON.parse(text) as unknown;
    if (!Array.isArray(list)) throw new Error(`${path}: not a list of users`);
    for (const u of list as StoredUser[]) {
      if (typeof u?.name !== 'string' || typeof u.hash !== 'string' || typeof u.role !== 'string' || !isXapiRole(u.role)) {
        throw new Error(`${path}: a malformed user entry`);
      }
      f.#users.set(u.name, { name: u.name, role: u.role, hash: u.hash });
    }
    return f;
  }

  async add(name: string, role: XapiRole, password: string): Promise<boolean> {
    const hash = await hashPassword(password);
    const replaced = this.#users.has(name);
    this.#users.set(name, { name, role, hash });
    const text = JSON.stringify([...this.#users.values()], null, 1);
    const write = this.#writing.then(async () => {
      const tmp = `${this.path}.tmp`;
      await writeFile(tmp, text, { mode: 0o600 });
      await rename(tmp, this.path);
    });
    this.#writing = write.catch(() => {});
    await write;
    if (replaced) this.onReplaced(name);
    return replaced;
  }

  /** The user if the password is theirs; undefined otherwise (in about the same time). */
  async authenticate(name: string, password: string): Promise<User | undefined> {
    const u = this.#users.get(name);
    const ok = await verifyPassword(password, u?.hash ?? (await DECOY));
    return u && ok ? { name: u.name, role: u.role } : undefined;
  }
}
