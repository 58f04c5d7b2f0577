export declare const PlatformCode: {
    readonly MACX: 1298228056;
    readonly W2KU: 1462922101;
    readonly W2RU: 1462923893;
};
export type LocatorKind = keyof typeof PlatformCode;
/** The order blktap writes them in. */
export declare const BLKTAP_LOCATORS: readonly LocatorKind[];
/** A relative path as blktap's relative_path_to gives it: "./name" or "../dir/name". */
export declare function relativeParentPath(childPath: string, parentPath: string): string;
/** A locator's bytes for a relative path. */
export declare function encodeLocator(kind: LocatorKind, rel: string): Uint8Array;
/** Bytes reserved for a locator's data: whole sectors. */
export declare function locatorSpace(length: number): number;
/**
 * The parent path a locator names, resolved against the child's directory; undefined for a
 * platform code we do not read or bytes that are not a path.
 */
export declare function decodeLocator(code: number, data: Uint8Array, childPath: string): string | undefined;
