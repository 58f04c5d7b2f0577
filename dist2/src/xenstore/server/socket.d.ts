import type { CloseReason, ConnectionSink, SendBytes } from './transport.js';
export type AcceptConnection = (send: SendBytes, onDrop: (reason: CloseReason) => void) => ConnectionSink;
export declare class UnixSocketListener {
    #private;
    private readonly server;
    readonly path: string;
    private constructor();
    static listen(path: string, accept: AcceptConnection, log: (line: string) => void): Promise<UnixSocketListener>;
    close(): Promise<void>;
}
