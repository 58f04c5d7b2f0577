import type { HostDb, Tx } from '../toolstack/db/hostdb.js';
import { type Ref, type SRRecord, type SrType, type VDIRecord } from '../toolstack/db/records.js';
export declare const DEFAULT_SR_NAME = "default";
/** other_config keys xenode sets: the host's default SR, and images xenode made (the only ones it deletes). */
export declare const DEFAULT_SR_KEY = "xenode-default";
export declare const CREATED_KEY = "xenode-created";
/**
 * A user's name for an SR or VDI: what the CLI and a config's vdi: target can name again. A
 * name shaped like a uuid would shadow one, so it is refused, as are control characters,
 * commas (the separator of disk specs) and '/'.
 */
export declare function checkName(what: string, name: string): string;
/** An SR as sr-list shows it. */
export interface SrView {
    readonly ref: Ref<'SR'>;
    readonly record: SRRecord;
    /** Its directory; null for a RAM SR. */
    readonly path: string | null;
}
export interface ScanReport {
    readonly sr: string;
    /** uuids of VDIs made for images found. */
    readonly introduced: string[];
    /** uuids of VDIs whose image is gone (kept, marked missing). */
    readonly missing: string[];
    /** uuids of VDIs found again after being missing. */
    readonly found: string[];
    /** Files left alone, and why. */
    readonly skipped: {
        readonly file: string;
        readonly why: string;
    }[];
}
/** The SR's directory from its PBD, or null for a RAM SR. */
export declare function srPath(tx: Tx, sr: Ref<'SR'>): string | null;
/** Where a VDI's image is: inside its SR's directory, checked (records come from a file anyone with the state dir could edit). */
export declare function imagePath(dir: string, vdi: VDIRecord): string;
/** The real path of `path`, which must lie inside the real `dir` (no symbolic link leads out). */
export declare function confined(path: string, dir: string): Promise<string>;
/** The SRs of a host and their records. */
export declare class Storage {
    #private;
    readonly db: HostDb;
    readonly defaultPath: string;
    constructor(db: HostDb, defaultPath: string);
    /** The default SR, made (with its directory) on first use. */
    defaultSr(): Promise<Ref<'SR'>>;
    /** sr-create: a directory SR (made if absent) or a RAM SR. */
    create(args: {
        name: string;
        type: SrType;
        path?: string;
        description?: string;
    }): Promise<SrView>;
    list(): Promise<SrView[]>;
    /** An SR by name or uuid. */
    resolve(name: string): Promise<Ref<'SR'>>;
    /** sr-scan: reconcile the SR's VDI records with its directory. Deletes nothing. */
    scan(sr: Ref<'SR'>): Promise<ScanReport>;
}
/** Recompute an SR's totals from its VDIs (call inside the transaction that changed them). */
export declare function refreshSr(tx: Tx, sr: Ref<'SR'>): void;
