/** start_info flags (xen.h): mod_start is a pfn, not a virtual address. */
export declare const SIF_MOD_START_PFN: number;
/** xenode's: the domain resumes from the suspend record at mod_start/mod_len. */
export declare const SIF_XENODE_RESUMED: number;
export declare const SUSPEND_RECORD_VERSION = 1;
/** A state larger than this is refused at suspend (and in a save image). */
export declare const MAX_SUSPEND_RECORD_BYTES: number;
export interface SuspendRecord {
    readonly version: typeof SUSPEND_RECORD_VERSION;
    /** Whether the program handed over a state (a handler may hand over undefined). */
    readonly hasState: boolean;
    readonly state: unknown;
    /** The program's I/O pages: [first pfn, count] pairs. */
    readonly io: readonly (readonly [number, number])[];
}
/** Throws a DataCloneError (from V8) if the state is not structured-cloneable. */
export declare function encodeSuspendRecord(r: SuspendRecord): Uint8Array;
/**
 * The record in `bytes`, checked: valid structured-clone data of the right shape, I/O pages
 * within RAM frames `first` up to `hwm`. EINVAL names what is wrong.
 */
export declare function decodeSuspendRecord(bytes: Uint8Array, first: number, hwm: number): SuspendRecord;
