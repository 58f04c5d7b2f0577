import type { DriverContext } from '../drivers/evtchn.js';
import type { Net } from '../drivers/net/front/net.js';
import type { NetFront, NetfrontOptions } from '../drivers/net/front/netfront.js';
export type OpenNet = (devid?: number, opts?: NetfrontOptions) => Promise<Net>;
/** `track` learns of every device opened (the runtime quiesces them for a suspend). */
export declare function netDevices(ctx: DriverContext, domid: number, track?: (f: Promise<NetFront>) => void): OpenNet;
