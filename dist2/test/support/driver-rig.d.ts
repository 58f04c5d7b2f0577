import { type DriverContext } from '../../src/drivers/evtchn.js';
import { XenstoreClient } from '../../src/xenstore/client/client.js';
import { Xenstored } from '../../src/xenstore/server/daemon.js';
import { Harness, type LocalDomain } from './hypervisor.js';
export interface GuestSide extends LocalDomain {
    readonly ctx: DriverContext;
    readonly xs: XenstoreClient;
}
export declare class DriverRig {
    #private;
    readonly h: Harness;
    readonly xenstored: Xenstored;
    readonly xs0: XenstoreClient;
    readonly log: string[];
    get dom0(): DriverContext;
    /** A guest with its own xenstore connection; `logged`: its drivers log into `log` too. */
    guest(ramFrames?: number, logged?: boolean): GuestSide;
    /** Close every xenstore connection, then the hypervisor. */
    close(): Promise<void>;
}
