import { type Disk, type LayeredDisk } from '../disk.js';
import { type Qcow2Header } from './header.js';
export interface Qcow2OpenOptions {
    readOnly: boolean;
    /** Real paths of the images above this one in a chain (for loops and depth). */
    chain?: readonly string[];
    /**
     * The backing file as an open disk, instead of opening it again: a snapshot under a running
     * guest puts the new image over the disk the guest was using (its file is now the base). It
     * is only read from then on, and closed with this disk.
     */
    backing?: Disk;
}
export declare class Qcow2Disk implements LayeredDisk {
    #private;
    readonly path: string;
    readonly backing: Disk | undefined;
    readonly readOnly: boolean;
    readonly sectors: number;
    readonly features: {
        flush: boolean;
        discard: boolean;
        secureDiscard: boolean;
    };
    private constructor();
    get header(): Readonly<Qcow2Header>;
    static open(path: string, opts: Qcow2OpenOptions): Promise<Qcow2Disk>;
    /** Guest clusters this image maps itself (data, zero or compressed), runs merged. */
    leafExtents(): AsyncGenerator<readonly [number, number]>;
    read(sector: number, bufs: readonly Uint8Array[]): Promise<void>;
    write(sector: number, bufs: readonly Uint8Array[]): Promise<void>;
    flush(): Promise<void>;
    discard(): never;
    close(): Promise<void>;
}
