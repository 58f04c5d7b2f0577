import type { Command } from 'commander';
export declare function registerDomainCommands(program: Command): void;
