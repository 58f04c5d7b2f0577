import { type ShutdownReason } from '../abi/xen.js';
import type { ControlChannel, PeerGrant } from './control.js';
import * as evtchn from './evtchn.js';
import { type CopyOp, type GrantCopyBatch, type GrantMapping } from './grant.js';
import { DomainView, type DomainBuffers } from './memory.js';
export declare class Hypercalls {
    #private;
    readonly domid: number;
    constructor(self: DomainBuffers | DomainView, control: ControlChannel, opts?: {
        registry?: (domid: number) => DomainView | undefined;
        maptrack?: SharedArrayBuffer;
    });
    /** Typed views of the domain's own memory: its guest code may use all of it. */
    get memory(): DomainView;
    /** Called by the vCPU runtime when the authority pushes a peer (an interdomain bind by the other end). */
    adoptPeer(grant: PeerGrant): void;
    /** EVTCHNOP_send: deliver on the calling thread. */
    evtchnSend(port: number): void;
    evtchnUnmask(port: number): void;
    evtchnMask(port: number): void;
    evtchnAllocUnbound(remoteDom: number, dom?: number): Promise<number>;
    evtchnBindInterdomain(remoteDom: number, remotePort: number): Promise<number>;
    evtchnBindVirq(virq: number, vcpu?: number): Promise<number>;
    evtchnClose(port: number): Promise<void>;
    /** Async even for our own ports, so a bad port rejects like every other control call. */
    evtchnStatus(port: number, dom?: number): Promise<evtchn.EvtchnStatus>;
    /** gnttab_grant_foreign_access: entry written frame and domid first, flags last. */
    grantAccess(domid: number, pfn: number, readonly: boolean): number;
    /** Fill a specific entry (the builder seeds the reserved console/xenstore entries). */
    grantAccessRef(ref: number, domid: number, pfn: number, readonly: boolean): void;
    /**
     * gnttab_end_foreign_access_ref: revoke unless the peer has it mapped (GTF_reading/writing),
     * with the same compare-and-swap loop as Linux. Returns false while it is still in use.
     */
    endAccess(ref: number, release?: boolean): boolean;
    /** Refs still available without growing the table. */
    get freeGrantRefs(): number;
    /** GNTTABOP_setup_table: grow the grant table to `nrFrames` (never shrinks). */
    grantSetupTable(nrFrames: number): Promise<number>;
    /** GNTTABOP_query_size */
    grantQuerySize(): {
        nrFrames: number;
        maxNrFrames: number;
    };
    /**
     * Get access to another domain's memory, as the authority allows it (dom0 always; others
     * when a device or event channel connects the two). Needed once before mapping its grants.
     */
    connect(domid: number): Promise<void>;
    /** GNTTABOP_map_grant_ref */
    grantMap(domid: number, ref: number, readonly: boolean): GrantMapping;
    /** GNTTABOP_unmap_grant_ref */
    grantUnmap(handle: number): void;
    /** GNTTABOP_copy: one status per op, GNTST_okay or the failure, like Xen's batch. */
    grantCopy(ops: readonly CopyOp[]): number[];
    /**
     * GNTTABOP_copy of `batch` between grants of `domid` and the caller's own buffer (a
     * backend's): no maptrack handle, no page view, one lock for the batch. Returns how many ops
     * failed; each op's GNTST_* is in batch.status.
     */
    grantCopyLocal(domid: number, batch: GrantCopyBatch): number;
    get maptrackUsed(): number;
    /**
     * XENMEM_populate_physmap: `count` RAM frames, within the domain's max_pages. Frames come
     * back zeroed only the first time (as fresh pages do); reused frames hold their old data.
     */
    populatePhysmap(count: number): number[];
    /** XENMEM_decrease_reservation */
    decreaseReservation(pfns: readonly number[]): void;
    /** set_timer_op: VIRQ_TIMER fires at `deadline` (performance.now() milliseconds); 0 cancels. */
    setTimer(deadline: number): void;
    /**
     * SCHEDOP_shutdown. A suspend names the frames of the guest's suspend record and resolves
     * only if the domain is resumed in place (with 1, Xen's cancelled suspend).
     */
    shutdown(reason: ShutdownReason, record?: {
        pfn: number;
        bytes: number;
    }): Promise<number>;
}
