import { type BlkifRequest, type BlkifResponse, type BlkifSegment } from '../../src/abi/blkif.js';
import { FrontRing } from '../../src/abi/ring.js';
import { type GuestSide, type Rig } from './blk.js';
/** A frontend written by hand: it puts whatever the test says on the ring. */
export declare class RawFront {
    #private;
    readonly g: GuestSide;
    readonly port: {
        notify(): void;
    };
    readonly ring: FrontRing;
    readonly ringPfn: number;
    private constructor();
    static connect(rig: Rig, g: GuestSide, persistent: boolean): Promise<RawFront>;
    send(req: BlkifRequest): void;
    /** The next `n` responses. */
    take(n: number): Promise<BlkifResponse[]>;
    /** A page of the guest's RAM granted to dom0. */
    page(readonly: boolean, fill?: number): {
        ref: number;
        page: Uint8Array;
        pfn: number;
    };
}
/** A read or write request with its segments in the slot (nrSegments may lie). */
export declare const rw: (operation: number, sectorNumber: number, seg: BlkifSegment[], nrSegments?: number) => BlkifRequest;
