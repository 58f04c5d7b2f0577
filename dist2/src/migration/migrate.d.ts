import type { MigrateResult } from '../toolstack/contract.js';
import type { Host } from '../toolstack/host.js';
/** xc's defaults: stop and copy once fewer frames than this changed in a round, or after this many rounds. */
export declare const DIRTY_THRESHOLD = 50;
export declare const MAX_ROUNDS = 5;
export interface MigrateOptions {
    /** The receiving host's migration token. */
    readonly token: string;
    readonly maxRounds?: number;
    readonly dirtyThreshold?: number;
    /** How long the guest gets to suspend. */
    readonly suspendTimeoutMs?: number;
    /** How long the receiver may stay silent. */
    readonly stallMs?: number;
    /** xl's sender messages, as they happen. */
    readonly say?: (line: string) => void;
}
export declare function parseTarget(target: string): {
    host: string;
    port: number;
};
export declare function migrateDomain(host: Host, domid: number, target: string, opts: MigrateOptions): Promise<MigrateResult>;
