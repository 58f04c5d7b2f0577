import type { PeerGrant } from '../hypervisor/control.js';
import type { DomainBuffers } from '../hypervisor/memory.js';
/** A kernel image built for realms (kernel.ts): a CommonJS module body. */
export type RealmKernel = (exports: object, require: (id: string) => unknown, module: {
    exports: object;
}) => void;
/** What the pCPU calls in the domain's turns; each returns once the work is handed to the realm. */
export interface RealmTurns {
    timer(id: number): void;
    /** A control-plane reply: the value, or an error as control.ts encodes it. */
    reply(id: number, ok: boolean, value: unknown, kind?: string, code?: number | string, message?: string): void;
    push(grant: PeerGrant): void;
    immediates(): void;
    /** Run the handlers of pending events; false if none were pending. */
    upcall(): boolean;
    /** A rejection of one of the realm's promises that nothing handled: the domain crashes. */
    uncaught(reason: unknown): void;
}
export declare function boot(buffers: DomainBuffers, kernel: RealmKernel): RealmTurns;
