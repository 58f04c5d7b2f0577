import { type Server } from 'node:net';
import type { Host } from '../toolstack/host.js';
export interface ReceiverOptions {
    readonly address: string;
    readonly port: number;
    /** Where the token is written (mode 0600) for senders that may use it. */
    readonly tokenFile: string;
    readonly log: (line: string) => void;
    readonly stallMs?: number;
}
export declare class MigrationReceiver {
    #private;
    readonly server: Server;
    readonly token: string;
    private constructor();
    static listen(host: Host, opts: ReceiverOptions): Promise<MigrationReceiver>;
    get port(): number;
    close(): Promise<void>;
}
