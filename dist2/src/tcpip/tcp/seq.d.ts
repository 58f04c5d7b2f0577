export declare function seqAdd(a: number, n: number): number;
/** a - b as a signed 32-bit distance. */
export declare function seqDiff(a: number, b: number): number;
export declare function seqLt(a: number, b: number): boolean;
export declare function seqLe(a: number, b: number): boolean;
export declare function seqGt(a: number, b: number): boolean;
export declare function seqGe(a: number, b: number): boolean;
