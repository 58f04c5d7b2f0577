export type Role = 'ping' | 'pong';
/** Word 0 counts pings, word 1 pongs. */
export interface BareRequest {
    readonly role: Role;
    readonly sab: SharedArrayBuffer;
    readonly rounds: number;
}
