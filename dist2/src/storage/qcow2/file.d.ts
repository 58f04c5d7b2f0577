export declare class ImageFile {
    #private;
    readonly path: string;
    size: number;
    private constructor();
    /** A regular file, opened as every named file is (named.ts: no blocking on FIFOs, kinds checked). */
    static open(path: string, write: boolean): Promise<ImageFile>;
    /** Fill `bufs` from `pos`; bytes past the end of the file read as zeros. */
    read(pos: number, bufs: readonly Uint8Array[]): Promise<void>;
    write(pos: number, bufs: readonly Uint8Array[]): Promise<void>;
    sync(): Promise<void>;
    close(): Promise<void>;
}
