import type { Command } from 'commander';
export declare function demo(): Promise<void>;
export declare function registerDemoCommand(program: Command): void;
