import type { Command } from 'commander';
/** A parameter's spellings → its name; a value of `undefined` in the result: not given. */
type Spellings = Readonly<Record<string, string>>;
/** xe's key=value words, each key in one of its spellings; `positional` takes a bare word. */
export declare function xeParams(words: readonly string[], spellings: Spellings, positional?: string): Map<string, string>;
/** One field of a record: xe's name, read-write or not, its value. */
export type XeField = readonly [name: string, rw: boolean, value: unknown];
/** Records as xe prints them: the names right-aligned, uuid first and left-aligned; a blank line after each. */
export declare function xeRecords(records: readonly (readonly XeField[])[]): string;
export declare function registerStorageCommands(program: Command): void;
export {};
