/** Give an image a backing file name by hand (after the end-of-extensions marker, in the header cluster). */
export declare function patchBackingName(path: string, name: string): Promise<void>;
