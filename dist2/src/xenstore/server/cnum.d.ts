/** C atoi: leading number, 0 if none, as a 32-bit int. */
export declare function atoi(s: string): number;
/** strtol(s, &end, 0) that must consume all of a non-empty `s` (libxenstore's permission ids). */
export declare function strtolWhole(s: string): number | undefined;
