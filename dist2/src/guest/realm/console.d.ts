interface Sink {
    write(chunk: string): unknown;
}
export declare function format(...args: unknown[]): string;
export declare class Console {
    #private;
    constructor(opts: {
        stdout: Sink;
        stderr?: Sink;
    });
    log(...a: unknown[]): void;
    info(...a: unknown[]): void;
    debug(...a: unknown[]): void;
    error(...a: unknown[]): void;
    warn(...a: unknown[]): void;
    trace(...a: unknown[]): void;
    dir(v: unknown): void;
}
export {};
