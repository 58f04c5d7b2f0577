/** Run `script` with `args` until it has acknowledged record `atLeast`, SIGKILL it; the last record it acknowledged. */
export declare function killAfterFlushed(script: string, args: readonly string[], atLeast: number): Promise<number>;
