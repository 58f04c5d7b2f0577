export declare const QCOW2_MAGIC = 1363560955;
export declare const MIN_CLUSTER_BITS = 9;
export declare const MAX_CLUSTER_BITS = 21;
export declare const V2_HEADER_LENGTH = 72;
export declare const V3_HEADER_LENGTH = 104;
/** What qemu writes for version 3 (the compression type byte, padded to 8). */
export declare const WRITTEN_HEADER_LENGTH = 112;
/** Virtual sizes beyond this do not fit a JavaScript number of bytes exactly: refused. */
export declare const MAX_VIRTUAL_SIZE: number;
/** qemu's limits on the L1 and refcount tables (QCOW_MAX_L1_SIZE, QCOW_MAX_REFTABLE_SIZE). */
export declare const MAX_L1_BYTES: number;
export declare const MAX_REFTABLE_BYTES: number;
export declare const MAX_BACKING_NAME = 1023;
export declare const EXT_END = 0;
export declare const EXT_BACKING_FORMAT = 3799591626;
export declare const EXT_FEATURE_NAMES = 1745090647;
export declare const EXT_CRYPTO = 87539319;
export declare const EXT_DATA_FILE = 1145132097;
/** Incompatible feature bits: only "corrupt" is understood (it forbids writing). */
export declare const INCOMPAT_DIRTY: bigint;
export declare const INCOMPAT_CORRUPT: bigint;
export interface Qcow2Header {
    version: 2 | 3;
    backingFileOffset: number;
    backingFileSize: number;
    clusterBits: number;
    size: number;
    cryptMethod: number;
    l1Size: number;
    l1TableOffset: number;
    refcountTableOffset: number;
    refcountTableClusters: number;
    nbSnapshots: number;
    snapshotsOffset: number;
    incompatible: bigint;
    compatible: bigint;
    autoclear: bigint;
    refcountOrder: number;
    headerLength: number;
    /** The backing file name as stored (relative names are relative to the image's directory). */
    backingFile?: string;
    /** From the backing format extension. */
    backingFormat?: string;
}
/** A feature name table entry: type 0 incompatible, 1 compatible, 2 autoclear. */
export interface FeatureName {
    type: number;
    bit: number;
    name: string;
}
/** Parse and check the header in `buf` (the first cluster, or as much of the file as there is). */
export declare function parseHeader(file: string, buf: Uint8Array, fileSize: number): Qcow2Header;
export interface NewHeader {
    clusterBits: number;
    size: number;
    l1Size: number;
    l1TableOffset: number;
    refcountTableOffset: number;
    refcountTableClusters: number;
    backingFile?: string;
    backingFormat?: string;
}
/** A version 3 header with refcount_order 4, its extensions and the backing file name, in one cluster. */
export declare function encodeHeader(n: NewHeader): Uint8Array;
/** Byte offset of the autoclear field (cleared when a writer does not keep those features). */
export declare const AUTOCLEAR_OFFSET = 88;
