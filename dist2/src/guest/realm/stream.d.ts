interface WritableOptions {
    write(chunk: unknown, encoding: string, done: (err?: Error | null) => void): void;
}
export declare class Writable {
    #private;
    constructor(opts: WritableOptions);
    write(chunk: unknown): boolean;
}
export declare class Duplex {
    constructor();
}
export {};
