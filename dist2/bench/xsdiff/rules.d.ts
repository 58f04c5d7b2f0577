import type { Op } from './ops.js';
export interface Rule {
    readonly name: string;
    readonly reason: string;
    /** Rewrites one message's text (from describe()) for `op`; returns it unchanged if the rule does not apply. */
    normalize(op: Op, msg: string): string;
}
export declare const RULES: readonly Rule[];
/** Both sides' messages with every rule applied; returns the rules that changed something. */
export declare function explain(op: Op, x: string[], c: string[]): {
    x: string[];
    c: string[];
    used: string[];
};
