import type { BuiltDomain } from './builder.js';
import { type Ref } from './db/records.js';
import type { Host } from './host.js';
import { type RestoreInfo } from '../migration/restore.js';
import type { SaveResult } from './contract.js';
/** Suspend a running VM into a new suspend VDI; the VM is Suspended afterwards. */
export declare function suspendVm(host: Host, vm: Ref<'VM'>): Promise<SaveResult & {
    vdi: string;
}>;
/** Resume a suspended VM from its image (a new domain, the same VM); the suspend VDI goes. */
export declare function resumeVm(host: Host, vm: Ref<'VM'>, opts?: {
    paused?: boolean;
}): Promise<BuiltDomain & RestoreInfo>;
/** A suspended VM halts without resuming: its image is discarded (XAPI's hard_shutdown of a suspended VM). */
export declare function discardSuspend(host: Host, vm: Ref<'VM'>): Promise<void>;
