import type { XenstoreCore } from './core.js';
/** Run the CONTROL request whose NUL-terminated strings are `strings`; returns the reply payload. */
export declare function control(core: XenstoreCore, strings: string[]): string;
