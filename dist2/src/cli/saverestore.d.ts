import type { Command } from 'commander';
export declare function registerSaveRestoreCommands(program: Command): void;
