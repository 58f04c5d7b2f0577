export interface FlipJob {
    readonly memory: SharedArrayBuffer;
    /** Byte offsets (4-aligned) and the values each cycles through. */
    readonly words: readonly {
        readonly offset: number;
        readonly values: readonly number[];
    }[];
    readonly stop: SharedArrayBuffer;
}
