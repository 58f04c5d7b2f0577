import { type Disk } from './disk.js';
export declare class RamDisk implements Disk {
    #private;
    readonly sectors: number;
    readonly readOnly = false;
    readonly features: {
        readonly flush: true;
        readonly discard: true;
        readonly secureDiscard: true;
    };
    constructor(bytes: number);
    read(sector: number, bufs: readonly Uint8Array[]): void;
    write(sector: number, bufs: readonly Uint8Array[]): void;
    flush(): void;
    discard(sector: number, count: number): void;
    close(): Promise<void>;
}
