import type { TestContext } from 'node:test';
import { type Footer } from '../../src/storage/vhd/footer.js';
import { type DynamicHeader } from '../../src/storage/vhd/header.js';
export declare function scratch(t: TestContext, prefix?: string): Promise<string>;
export declare function patch(path: string, offset: number, bytes: Uint8Array): Promise<void>;
export declare function readAt(path: string, offset: number, length: number): Promise<Uint8Array>;
/** Rewrite the footer at the end (and with `copy`, the one at the start) through `change`. */
export declare function editFooter(path: string, change: (f: Footer) => Footer, copy?: boolean): Promise<void>;
/** Rewrite the dynamic header (at byte 512) through `change`. */
export declare function editHeader(path: string, change: (h: DynamicHeader) => DynamicHeader): Promise<void>;
/** `n` bytes that say which `tag` wrote them and where. */
export declare function pattern(tag: number, n: number): Uint8Array;
