import { type Command } from 'commander';
/** The daemon flags that neither `execArgv` nor `nodeOptions` already sets. */
export declare function daemonNodeFlags(execArgv: readonly string[], nodeOptions?: string): string[];
export declare function registerHostCommands(program: Command): void;
