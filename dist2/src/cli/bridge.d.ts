import type { Command } from 'commander';
import type { BridgeInfo, LinkInfo } from '../toolstack/contract.js';
/** brctl show's shape, with VLANs and counters; then brctl showmacs' per bridge. */
export declare function formatBridgeList(bridges: readonly BridgeInfo[], links: readonly LinkInfo[]): string;
export declare function registerBridgeCommands(program: Command): void;
