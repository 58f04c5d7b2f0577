import { type LayeredDisk } from '../disk.js';
import { VhdImage } from './image.js';
export declare class VhdDisk implements LayeredDisk {
    #private;
    readonly sectors: number;
    readonly readOnly: boolean;
    readonly features: {
        readonly flush: true;
        readonly discard: false;
        readonly secureDiscard: false;
    };
    /** Leaf first. */
    readonly images: readonly VhdImage[];
    private constructor();
    /**
     * Open `path` and its parents (read-only); every file is checked before any I/O is served.
     * With `confine`, every parent must lie in that directory (an SR's): an image brought in from
     * outside cannot name another SR's image, or any file of the host, as its parent.
     */
    static open(path: string, opts: {
        readOnly: boolean;
        confine?: string;
    }): Promise<VhdDisk>;
    /**
     * A new leaf at `path` over the images of `below`, a disk in use whose leaf just became the
     * new leaf's parent (a snapshot under a running guest): no file of `below` is opened again,
     * and what its images cached stays true, as they are only read from now on.
     */
    static overDisk(path: string, below: VhdDisk): Promise<VhdDisk>;
    leafExtents(): AsyncGenerator<readonly [number, number]>;
    read(sector: number, bufs: readonly Uint8Array[]): Promise<void> | void;
    write(sector: number, bufs: readonly Uint8Array[]): Promise<void>;
    flush(): Promise<void>;
    discard(): never;
    close(): Promise<void>;
}
