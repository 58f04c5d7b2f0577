import type { Command } from 'commander';
export declare function registerVmCommands(program: Command): void;
