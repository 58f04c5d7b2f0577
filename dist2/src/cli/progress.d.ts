export declare class Progress {
    #private;
    readonly what: string;
    readonly total: number;
    private readonly out;
    constructor(what: string, total: number, out?: NodeJS.WriteStream);
    update(done: number): void;
    /** Take the bar off the terminal (the caller prints the result). */
    finish(): void;
}
