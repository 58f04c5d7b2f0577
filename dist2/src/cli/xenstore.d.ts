import type { Command } from 'commander';
import { type XsPerm } from '../xenstore/client/client.js';
/** Where xenstored listens: --state-dir, else XENSTORED_PATH (as Xen's tools), else the default state dir. */
export declare function xenstoredSocketPath(stateDir?: string): string;
/**
 * xs_sanitise_value: printable ASCII as is, backslash doubled, \t \n \r by name, bytes below 8
 * as three octal digits, anything else as \xHH.
 */
export declare function sanitiseValue(val: Uint8Array): string;
/**
 * xs_unsanitise_value, the inverse used by xenstore-write: \t \n \r \\, \xH[H], octal \O[O[O]],
 * a backslash before anything else keeps that character, a trailing backslash is a NUL byte.
 */
export declare function unsanitiseValue(spec: string): Uint8Array;
/** xenstore-chmod's mode words: n, r, w or b followed by a domid (atoi, as Xen parses it). */
export declare function parseModes(words: readonly string[]): XsPerm[];
export declare function registerXenstoreCommands(program: Command): void;
