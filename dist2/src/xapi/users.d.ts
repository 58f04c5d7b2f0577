import { type UserDirectory, type XapiRole } from '../toolstack/contract.js';
import type { HostDb } from '../toolstack/db/hostdb.js';
export interface User {
    readonly name: string;
    readonly role: XapiRole;
}
/** scrypt$N$r$p$salt$hash, salt and hash in base64, as the user record keeps it. */
export declare function hashPassword(password: string): Promise<string>;
/** Constant-time check of a password against a stored hash; false for a hash it cannot read. */
export declare function verifyPassword(password: string, stored: string): Promise<boolean>;
/** XenAPI's users in the host database's user class: short_name, role, password_hash. */
export declare class HostDbUsers implements UserDirectory {
    private readonly db;
    /** Told when a user is replaced (the service ends their sessions). */
    onReplaced: (name: string) => void;
    constructor(db: HostDb);
    add(name: string, role: XapiRole, password: string): Promise<boolean>;
    /** The user if the password is theirs; undefined otherwise (in about the same time). */
    authenticate(name: string, password: string): Promise<User | undefined>;
}
