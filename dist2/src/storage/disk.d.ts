/** The sector unit of blkif (sector_number, first_sect/last_sect, `sectors`) and of every disk: 512 bytes. */
export declare const SECTOR_SHIFT = 9;
export declare const SECTOR_SIZE: number;
export interface DiskFeatures {
    /** flush() makes acknowledged writes durable (FLUSH_DISKCACHE, barriers). */
    readonly flush: boolean;
    readonly discard: boolean;
    /** discard(..., secure) renders the data unrecoverable. */
    readonly secureDiscard: boolean;
}
export interface Disk {
    /** Size in 512-byte sectors. */
    readonly sectors: number;
    readonly readOnly: boolean;
    readonly features: DiskFeatures;
    /** Fill `bufs`, in order, from the sectors starting at `sector`. */
    read(sector: number, bufs: readonly Uint8Array[]): Promise<void> | void;
    /** Write `bufs`, in order, to the sectors starting at `sector`. */
    write(sector: number, bufs: readonly Uint8Array[]): Promise<void> | void;
    /** Make every completed write durable. */
    flush(): Promise<void> | void;
    /** The sectors read as zeros afterwards. */
    discard(sector: number, count: number, secure: boolean): Promise<void> | void;
    close(): Promise<void>;
}
/** A disk made of layers (a VHD chain, a qcow2 image over its backing file): what its top layer holds. */
export interface LayeredDisk extends Disk {
    /** Runs of sectors [first, count) whose data is in the top layer itself, in order: what a coalesce copies down. */
    leafExtents(): AsyncIterable<readonly [number, number]>;
}
/** Total bytes of a buffer list, checked to be whole sectors. */
export declare function sgBytes(bufs: readonly Uint8Array[]): number;
/** Range check every backend repeats (the block backend checks first; this is the last line). */
export declare function checkRange(disk: Disk, sector: number, count: number): void;
export declare function checkWritable(disk: Disk): void;
