export declare function lock(words: Int32Array, index: number): void;
export declare function unlock(words: Int32Array, index: number): void;
