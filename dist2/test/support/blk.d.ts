import { BlkFront, type BlkfrontOptions } from '../../src/drivers/blk/front/blkfront.js';
import { BlkBack, type BlkbackOptions } from '../../src/drivers/blk/back/blkback.js';
import { type DeviceHost } from '../../src/toolstack/devices.js';
import type { Disk } from '../../src/storage/disk.js';
import type { TestContext } from 'node:test';
import { DriverRig, type GuestSide } from './driver-rig.js';
export { within } from './hypervisor.js';
export type { GuestSide } from './driver-rig.js';
export declare class Rig extends DriverRig {
    readonly backendOpts: BlkbackOptions;
    readonly disks: Map<string, Disk>;
    readonly host: DeviceHost;
    constructor(backendOpts?: BlkbackOptions);
    /** dom0's blkback service, with this rig's options and its test disks. */
    daemon(): Promise<import("../../src/drivers/blk/back/devd.js").BlkbackDaemon>;
    /** Attach `disk` (registered under its absolute target path) or a spec target through the toolstack's code. */
    attach(g: GuestSide, spec: string, disk?: Disk): Promise<void>;
    front(g: GuestSide, devid?: number, opts?: BlkfrontOptions): Promise<BlkFront>;
    /**
     * Replace the backend of `g`'s xvda under its frontend, as a reload of blkback would: the old
     * one stops (once `gated` lets its requests finish), unmaps and says Closed; a fresh one
     * starts on the same directory and disk.
     */
    restartBackend(g: GuestSide, gated: GatedDisk): Promise<BlkBack>;
    close(): Promise<void>;
}
/** A rig whose one guest has connected blkfront to `disk` under `spec`; the rig closes after the test. */
export declare function connected(t: TestContext, disk: Disk, spec?: string): Promise<{
    rig: Rig;
    g: GuestSide;
    f: BlkFront;
}>;
/** Bytes with a recognizable pattern per sector: sector number and a salt. */
export declare function pattern(sector: number, sectors: number, salt: number): Uint8Array;
/** A disk whose I/O waits for the test to open the gate: requests stay in flight. */
export declare class GatedDisk implements Disk {
    #private;
    readonly inner: Disk;
    readonly features: {
        flush: boolean;
        discard: boolean;
        secureDiscard: boolean;
    };
    readonly readOnly = false;
    started: number;
    constructor(inner: Disk);
    get sectors(): number;
    close(): Promise<void>;
    shut(): void;
    open(): void;
    read(sector: number, bufs: readonly Uint8Array[]): Promise<void>;
    write(sector: number, bufs: readonly Uint8Array[]): Promise<void>;
    flush(): Promise<void>;
    discard(sector: number, count: number, secure: boolean): Promise<void>;
}
/** One read or write as the disk saw it: where each buffer it was given lies. */
export interface DiskCall {
    readonly op: 'read' | 'write';
    readonly sector: number;
    readonly runs: readonly {
        readonly buffer: ArrayBufferLike;
        readonly byteOffset: number;
        readonly byteLength: number;
    }[];
}
/** A disk that records the buffers blkback hands it (so a test sees copies and runs), then passes them on. */
export declare class RecordingDisk implements Disk {
    #private;
    readonly inner: Disk;
    readonly calls: DiskCall[];
    constructor(inner: Disk);
    get features(): import("../../src/storage/disk.js").DiskFeatures;
    get readOnly(): boolean;
    get sectors(): number;
    read(sector: number, bufs: readonly Uint8Array[]): Promise<void> | void;
    write(sector: number, bufs: readonly Uint8Array[]): Promise<void> | void;
    flush(): Promise<void> | void;
    discard(sector: number, count: number, secure: boolean): Promise<void> | void;
    close(): Promise<void>;
}
