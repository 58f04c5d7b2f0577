import type { Disk } from './disk.js';
/** Where mirrored writes go: a local image (a Disk), or a stream to another host. */
export interface MirrorTarget {
    write(sector: number, bufs: readonly Uint8Array[]): Promise<void> | void;
    flush(): Promise<void> | void;
}
export declare class MirrorDisk implements Disk {
    #private;
    readonly source: Disk;
    readonly target: MirrorTarget;
    readonly sectors: number;
    readonly readOnly = false;
    readonly features: {
        flush: boolean;
        discard: boolean;
        secureDiscard: boolean;
    };
    /** Why the target was dropped; null while it mirrors. */
    broken: Error | null;
    /** Bytes written to the target. */
    mirrored: number;
    constructor(source: Disk, target: MirrorTarget);
    read(sector: number, bufs: readonly Uint8Array[]): Promise<void> | void;
    write(sector: number, bufs: readonly Uint8Array[]): Promise<void>;
    flush(): Promise<void>;
    discard(): never;
    /** Closes the source only: the target belongs to whoever made the mirror. */
    close(): Promise<void>;
}
