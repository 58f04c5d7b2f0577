export interface LogFileOptions {
    /** Bytes of lines waiting to be written; more are dropped and counted. */
    readonly maxQueueBytes?: number;
    /** The file is rotated once it reaches this size. */
    readonly rotateBytes?: number;
    /** Files kept, the current one included (path, path.1, ..., path.{keep-1}). */
    readonly keep?: number;
    /** The line that reports `n` dropped lines (without its newline). */
    readonly droppedLine: (n: number) => string;
}
export declare const DEFAULT_LOG_QUEUE_BYTES: number;
export declare const DEFAULT_LOG_ROTATE_BYTES: number;
export declare const DEFAULT_LOG_KEEP = 3;
export declare class LogFile {
    #private;
    readonly path: string;
    /** Opens (creates, 0600) the file now, so that a path that cannot be written fails here. */
    constructor(path: string, opts: LogFileOptions);
    /** Queue one line (without its newline); false if it was dropped. */
    append(line: string): boolean;
    /** Lines dropped and not yet reported in the file. */
    get dropped(): number;
    /** Resolves once every line queued so far is in the file. */
    flush(): Promise<void>;
    /** Write what is queued, then close. */
    close(): Promise<void>;
}
