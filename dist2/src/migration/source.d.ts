import type { Readable } from 'node:stream';
export declare class ByteSource {
    #private;
    /** Octets handed out so far. */
    offset: number;
    constructor(stream: Readable, opts: {
        stallMs: number;
    });
    /** Exactly `n` octets; `what` names them in errors. */
    read(n: number, what: string): Promise<Buffer>;
    /** Stop reading (the rest is not ours). */
    close(): void;
}
