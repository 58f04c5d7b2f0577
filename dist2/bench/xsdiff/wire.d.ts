import { Buffer } from 'node:buffer';
export interface Received {
    type: number;
    txId: number;
    payload: Buffer;
}
/** A packet with a raw payload (malformed ones included), as the fuzz builds them. */
export declare function rawPacket(type: number, txId: number, payload: Buffer, reqId?: number): Buffer;
/** One message as comparable text: "READ abc\0", "ERROR ENOENT\0", "WATCH_EVENT /d\0t\0". */
export declare function describe(m: Received): string;
export declare class WireClient {
    #private;
    private readonly sock;
    /** Messages not yet taken, in arrival order. */
    readonly inbox: Received[];
    closed: boolean;
    private constructor();
    static open(path: string): Promise<WireClient>;
    /**
     * Send one packet and return everything received up to and including its reply (events that
     * arrived first come first). Resolves with what came if the daemon closes the connection or
     * nothing answers within `timeoutMs` (a daemon that died or ignores the packet).
     */
    request(packet: Buffer, timeoutMs: number): Promise<{
        msgs: Received[];
        replied: boolean;
    }>;
    close(): void;
}
