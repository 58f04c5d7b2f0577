import type { Command } from 'commander';
import type { ForwardInfo } from '../toolstack/contract.js';
export declare function registerNetworkCommands(program: Command): void;
/** One row per forward: the domain, the host side, the guest side, the bridge. */
export declare function formatForwards(rows: readonly ForwardInfo[]): string;
