import type { Command } from 'commander';
import type { CpupoolInfo } from '../toolstack/contract.js';
/** xl's pool settings: KEY=VALUE words, values optionally quoted as in a pool config file. */
export declare function parsePoolSettings(words: readonly string[]): {
    name: string;
    cpus: number;
    sched?: string;
};
/** xl cpupool-list: printf("%-19s", name) then "%3d %9s       y       %4d". */
export declare function xlCpupoolList(pools: readonly CpupoolInfo[]): string;
export declare function registerCpupoolCommands(program: Command): void;
