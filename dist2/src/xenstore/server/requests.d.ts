import { Buffer } from 'node:buffer';
import type { Connection } from './connection.js';
import type { XenstoreCore } from './core.js';
/** Handle one request of `conn` and send its reply. */
export declare function handleRequest(core: XenstoreCore, conn: Connection, type: number, reqId: number, txId: number, p: Buffer): void;
