import type { Host } from '../../src/toolstack/host.js';
export declare const BLKBENCH: string;
/** A blkbench result. */
export interface Point {
    iops: number;
    mbps: number;
    p50_us: number;
    p99_us: number;
}
export interface BlkbenchRun {
    /** The guest's name; unique on the host. */
    readonly name: string;
    readonly format: string;
    readonly target: string;
    /** blkbench's load options (`rw=... bs=... qd=...`). */
    readonly load: string;
    readonly runtime: number;
    readonly ramp: number;
    /** How long the guest may take to boot and connect its disk, in ms. */
    readonly readyTimeout: number;
}
/** Boot a blkbench guest on `target`, start its load, and return its result; the guest is destroyed. */
export declare function runBlkbench(host: Host, r: BlkbenchRun): Promise<Point>;
/** The point of median IOPS (the lower middle one of an even count). */
export declare function medianPoint(points: readonly Point[]): Point;
