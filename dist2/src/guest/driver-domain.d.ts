import type { OS } from './os.js';
import type { BlkbackDaemonOptions } from '../drivers/blk/back/devd.js';
import type { NetbackOptions } from '../drivers/net/back/netback.js';
export declare function serveBlockBackends(os: OS, opts?: BlkbackDaemonOptions): Promise<void>;
/** A network driver domain: its own virtual switch, a netback for every vif it is given. */
export declare function serveNetBackends(os: OS, opts?: NetbackOptions): Promise<void>;
