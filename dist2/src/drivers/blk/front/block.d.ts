export interface BlockInfo {
    /** False for a read-only device (access=ro, cdroms). */
    readonly readWrite: boolean;
    /** Bytes per sector (512). */
    readonly sectorSize: number;
    readonly sizeSectors: number;
}
export interface Block {
    /** The guest's name for the disk (xvda, ...) and its virtual device number. */
    readonly vdev: string;
    readonly devid: number;
    info(): BlockInfo;
    /** Fill `buffers`, in order, from the sectors starting at `sector`. */
    read(sector: number, buffers: Uint8Array | readonly Uint8Array[]): Promise<void>;
    write(sector: number, buffers: Uint8Array | readonly Uint8Array[]): Promise<void>;
    /** Make every write completed so far durable (BLKIF_OP_FLUSH_DISKCACHE, else a barrier). */
    flush(): Promise<void>;
    /** The sectors may read back as zeros afterwards; `secure` asks that they be unrecoverable. */
    discard(sector: number, count: number, secure?: boolean): Promise<void>;
    /** Close the device (xenbus Closing, Closed); later calls reject with Disconnected. */
    disconnect(): Promise<void>;
}
