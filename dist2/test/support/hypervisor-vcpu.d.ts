import { type MessagePort } from 'node:worker_threads';
import { XenError } from '../../src/errors.js';
import type { DomainBuffers } from '../../src/hypervisor/memory.js';
export interface GuestBoot {
    readonly buffers: DomainBuffers;
    readonly control: MessagePort;
}
/** Requests from the test, and what comes back. */
export interface GuestRequest {
    readonly id: number;
    readonly op: string;
    readonly args: unknown[];
}
export type EncodedError = {
    readonly kind: 'xen';
    readonly errno: XenError['errno'];
    readonly detail: string;
} | {
    readonly kind: 'grant';
    readonly status: number;
    readonly detail: string;
} | {
    readonly kind: 'other';
    readonly name: string;
    readonly message: string;
};
export type GuestMessage = {
    readonly type: 'ready';
} | {
    readonly type: 'event';
    readonly port: number;
} | {
    readonly type: 'reply';
    readonly id: number;
    readonly ok: true;
    readonly value: unknown;
} | {
    readonly type: 'reply';
    readonly id: number;
    readonly ok: false;
    readonly error: EncodedError;
};
/** Replies to flood messages carry ids from here up, so they never match a real request. */
export declare const FLOOD_ID_BASE = 1000000000;
export declare function encodeError(e: unknown): EncodedError;
/** xorshift32: the fuzz and the scribbles are reproducible from their seed. */
export declare function rng(seed: number): () => number;
