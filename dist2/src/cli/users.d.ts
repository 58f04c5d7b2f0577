import type { Command } from 'commander';
export declare function registerUserCommands(program: Command): void;
