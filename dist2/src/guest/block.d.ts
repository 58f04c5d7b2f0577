import type { BlkFront, BlkfrontOptions } from '../drivers/blk/front/blkfront.js';
import type { Block } from '../drivers/blk/front/block.js';
import type { DriverContext } from '../drivers/evtchn.js';
export type OpenBlock = (vdev?: string, opts?: BlkfrontOptions) => Promise<Block>;
/** `track` learns of every device opened (the runtime quiesces them for a suspend). */
export declare function blockDevices(ctx: DriverContext, domid: number, track?: (f: Promise<BlkFront>) => void): OpenBlock;
