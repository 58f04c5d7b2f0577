import { type Disk } from './disk.js';
export declare class RawFile implements Disk {
    #private;
    readonly path: string;
    readonly readOnly: boolean;
    readonly sectors: number;
    readonly features: {
        readonly flush: true;
        readonly discard: true;
        readonly secureDiscard: true;
    };
    private constructor();
    /**
     * Open an existing image: a regular file or a block device, opened without blocking (named.ts).
     * A size that is not whole sectors is rounded down, as blkback does.
     */
    static open(path: string, opts: {
        readOnly: boolean;
    }): Promise<RawFile>;
    read(sector: number, bufs: readonly Uint8Array[]): Promise<void>;
    write(sector: number, bufs: readonly Uint8Array[]): Promise<void>;
    flush(): Promise<void>;
    /** Without fallocate in Node, discarding writes zeros: reads then see zeros, as a secure discard requires. */
    discard(sector: number, count: number): Promise<void>;
    close(): Promise<void>;
}
/** The buffer list after its first `n` bytes. */
export declare function advance(bufs: readonly Uint8Array[], n: number): Uint8Array[];
