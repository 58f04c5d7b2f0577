/** Where a token starts: 1-based line and column (columns count characters). */
export interface CfgPosition {
    readonly line: number;
    readonly column: number;
}
export type CfgScalar = string | number;
export type CfgValue = CfgScalar | readonly CfgValue[];
export interface CfgSetting {
    readonly key: string;
    readonly value: CfgValue;
    /** Position of the key in the assignment that set it last. */
    readonly pos: CfgPosition;
    /** Position of the value (of the last `+=` operand for appended values). */
    readonly valuePos: CfgPosition;
    /** Positions of the top-level list items, when value is a list. */
    readonly itemPos: readonly CfgPosition[];
}
export interface XlConfig {
    readonly file: string;
    /** In the order of the assignments that set them last. */
    readonly settings: ReadonlyMap<string, CfgSetting>;
}
/** A configuration file is wrong; the message says where (FILE:LINE:COL) and what. */
export declare class ConfigError extends Error {
    readonly reason: string;
    readonly key?: string | undefined;
    name: string;
    readonly file: string;
    readonly line: number;
    readonly column: number;
    constructor(file: string, pos: CfgPosition, reason: string, key?: string | undefined);
}
/**
 * A C integer literal as strtol(s, NULL, 0) reads it when it consumes the whole string:
 * decimal, octal with a leading 0, hex with 0x. Undefined if s is not one, or not exactly
 * representable.
 */
export declare function parseCInteger(s: string): number | undefined;
/** Parses xl.cfg text. Throws ConfigError (and nothing else) on any malformed input. */
export declare function parseXlCfg(text: string, file: string): XlConfig;
