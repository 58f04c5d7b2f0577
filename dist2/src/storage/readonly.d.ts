import type { Disk } from './disk.js';
export declare class ReadOnlyDisk implements Disk {
    readonly inner: Disk;
    readonly readOnly = true;
    readonly features: {
        flush: boolean;
        discard: boolean;
        secureDiscard: boolean;
    };
    constructor(inner: Disk);
    get sectors(): number;
    read(sector: number, bufs: readonly Uint8Array[]): Promise<void> | void;
    write(): never;
    flush(): void;
    discard(): never;
    close(): Promise<void>;
}
