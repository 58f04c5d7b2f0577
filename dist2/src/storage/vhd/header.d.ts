export declare const HEADER_BYTES = 1024;
export declare const LOCATOR_SLOTS = 8;
/** A parent locator entry: where the platform-specific parent path lies in the file. */
export interface LocatorEntry {
    readonly code: number;
    /** Bytes reserved, as blktap and Windows write data_space (the spec says sectors: both are read). */
    readonly space: number;
    readonly length: number;
    readonly offset: number;
}
export interface DynamicHeader {
    readonly tableOffset: number;
    readonly maxTableEntries: number;
    readonly blockSize: number;
    readonly parentUuid: Uint8Array;
    readonly parentTimestamp: number;
    readonly parentName: string;
    readonly locators: readonly LocatorEntry[];
}
export declare function decodeHeader(b: Uint8Array, file: string): DynamicHeader;
export declare function encodeHeader(h: DynamicHeader): Uint8Array;
