import type { Socket } from 'node:net';
import type { ByteSource } from './source.js';
export declare const TOKEN_HEX = 64;
export declare const AUTH_BYTES: number;
export declare const AUTH_REFUSED = "xenode migration receiver: authentication failed\n";
export declare function isToken(s: string): boolean;
export declare function authLine(token: string): Buffer;
/** Whether the preamble carries `token` (in constant time). */
export declare function authentic(preamble: Buffer, token: string): boolean;
/** Read one of xl's fixed messages; EBADMSG if something else came. */
export declare function readFixed(src: ByteSource, msg: Buffer, what: string): Promise<void>;
/** Write, waiting for the socket to drain when it asks to. */
export declare function send(sock: Socket, chunks: readonly Buffer[]): Promise<void>;
/** The receiver's banner, or its refusal of our token (which is shorter than the banner). */
export declare function readBanner(src: ByteSource, banner: Buffer): Promise<void>;
