import { type Footer } from './footer.js';
import { type DiskTypeName } from './format.js';
import { type DynamicHeader } from './header.js';
export interface OpenImageOptions {
    readonly readOnly: boolean;
    /** Block size a fixed image is mapped in (its chain's); default 2 MiB. */
    readonly blockSize?: number;
}
export declare class VhdImage {
    #private;
    readonly readOnly: boolean;
    readonly footer: Footer;
    readonly header: DynamicHeader | undefined;
    readonly type: DiskTypeName;
    /** Virtual size in bytes. */
    readonly bytes: number;
    readonly blockSize: number;
    readonly sectorsPerBlock: number;
    /** BAT (dynamic and differencing); for a fixed image, empty. */
    readonly bat: Uint32Array;
    readonly blocks: number;
    private constructor();
    static open(path: string, opts: OpenImageOptions): Promise<VhdImage>;
    /** Where the file is (its name in errors and the base of its relative parent locators). */
    get path(): string;
    /** The file was renamed (or linked) to `path` while open: a snapshot made it a base. */
    moved(path: string): void;
    get uuid(): Uint8Array;
    isAllocated(b: number): boolean;
    /** Every sector of the (allocated) block is in this image: read it without its bitmap. */
    isFull(b: number): boolean;
    /** Sectors of block b inside the disk (the last block may be short). */
    sectorsIn(b: number): number;
    /** The bitmap of an allocated block (loaded once). */
    bitmap(b: number): Promise<Uint8Array> | Uint8Array;
    read(b: number, s: number, bufs: readonly Uint8Array[]): Promise<void>;
    write(b: number, s: number, bufs: readonly Uint8Array[]): Promise<void>;
    /** After data was written to an allocated block: its sectors' bits, set on disk. */
    markWritten(b: number, s: number, count: number): Promise<void> | undefined;
    /**
     * Allocate block `b` with `bufs` written at its sector `s`. A differencing image marks only
     * those sectors (the rest still comes from the parent); an image with no parent marks the
     * whole block, whose other sectors read as the zeros of new file space. Returns false if the
     * block was allocated by another request meanwhile (write to it then).
     */
    allocate(b: number, s: number, bufs: readonly Uint8Array[]): Promise<boolean>;
    /** Parent locators' data, read and resolved against this file's directory, in header order. */
    parentPaths(): Promise<string[]>;
    flush(): Promise<void>;
    close(): Promise<void>;
}
