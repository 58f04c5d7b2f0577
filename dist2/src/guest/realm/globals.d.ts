import type { RealmHost } from './host.js';
export declare const host: RealmHost;
/** Where errors of callbacks that nothing else catches go (the boot's crash). */
export declare function onUncaught(fn: (err: unknown) => void): void;
/** The pCPU's turn: timer `id` is due. */
export declare function fireTimer(id: number): void;
/** The pCPU's turn: run the setImmediate callbacks queued before it (later ones wait for the next turn). */
export declare function runImmediates(): void;
