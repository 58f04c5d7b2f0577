export type BlockErrorKind = 'Disconnected' | 'ReadOnly' | 'OutOfRange' | 'Unaligned' | 'IoError';
export declare abstract class BlockError extends Error {
    abstract readonly kind: BlockErrorKind;
}
declare const Disconnected_base: (abstract new (...args: any[]) => {
    name: string;
    readonly kind: "Disconnected";
    message: string;
    stack?: string;
    cause?: unknown;
}) & typeof BlockError;
/** The device is not connected (any more): closed by the guest, detached, or its backend gone. */
export declare class Disconnected extends Disconnected_base {
}
declare const ReadOnly_base: (abstract new (...args: any[]) => {
    name: string;
    readonly kind: "ReadOnly";
    message: string;
    stack?: string;
    cause?: unknown;
}) & typeof BlockError;
/** A write or discard on a read-only device. */
export declare class ReadOnly extends ReadOnly_base {
}
declare const OutOfRange_base: (abstract new (...args: any[]) => {
    name: string;
    readonly kind: "OutOfRange";
    message: string;
    stack?: string;
    cause?: unknown;
}) & typeof BlockError;
/** Sectors outside the device. */
export declare class OutOfRange extends OutOfRange_base {
}
declare const Unaligned_base: (abstract new (...args: any[]) => {
    name: string;
    readonly kind: "Unaligned";
    message: string;
    stack?: string;
    cause?: unknown;
}) & typeof BlockError;
/** Buffers that add up to a length that is not a whole number of sectors. */
export declare class Unaligned extends Unaligned_base {
}
declare const IoError_base: (abstract new (...args: any[]) => {
    name: string;
    readonly kind: "IoError";
    message: string;
    stack?: string;
    cause?: unknown;
}) & typeof BlockError;
/** The backend answered BLKIF_RSP_ERROR or BLKIF_RSP_EOPNOTSUPP (`unsupported`), or memory ran out. */
export declare class IoError extends IoError_base {
    readonly unsupported: boolean;
    constructor(message: string, unsupported?: boolean);
}
export {};
