// What guest programs import from 'xenode': the types of the library OS.
export type { OS, GuestConsole } from './os.js';
export type { Time } from './time.js';
export type { IoPages } from './iopages.js';
export type { Lifecycle, ShutdownRequest } from './lifecycle.js';
export { HISTOGRAM_BUCKETS, bucketLimit, bucketOf, percentileOf } from './histogram.js';
export type { XenstoreClient } from '../xenstore/client/client.js';
export { XenError } from '../errors.js';
export type { Block, BlockInfo } from '../drivers/blk/block.js';
export type { BlkfrontOptions } from '../drivers/blk/front.js';
export { BlockError, Disconnected, IoError, OutOfRange, ReadOnly } from '../drivers/blk/errors.js';
export type { EventChannels } from '../drivers/evtchn.js';
export { serveBlockBackends } from '../drivers/blk/serve.js';
