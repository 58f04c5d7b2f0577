export interface ConsolePort {
    notify(): void;
    onEvent(handler: () => void): () => void;
}
export declare class ConsoleFront {
    #private;
    constructor(page: Uint8Array, port: ConsolePort);
    write(data: string | Uint8Array): void;
    /** Resolves once everything written so far is in the ring, where the daemon will find it. */
    flush(): Promise<void>;
    onInput(handler: (data: Uint8Array) => void): () => void;
}
