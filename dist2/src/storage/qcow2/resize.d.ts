export declare function qcow2Info(path: string): Promise<{
    virtualSize: number;
    physicalUtilisation: number;
}>;
/**
 * Point an image at another backing file (after a coalesce): the new name, stored relative to
 * the image's directory as qemu-img rebase -u does, in place of the old one and its size in one
 * header write. The name may not be longer than the old one (sm's names are all one length).
 */
export declare function rebaseQcow2(path: string, backingName: string): Promise<void>;
/** Grow the image to `size` bytes: new L1 entries zeroed and synced, then the header's size and l1_size in one write. */
export declare function resizeQcow2(path: string, size: number): Promise<void>;
