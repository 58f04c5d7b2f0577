export declare const PFN_SHARED_INFO = 0;
export declare const PFN_START_INFO = 1;
export declare const PFN_XENSTORE = 2;
export declare const PFN_CONSOLE = 3;
export declare const PFN_GRANT_TABLE = 4;
/** Xen's defaults (xen/common/grant_table.c, xl.cfg max_grant_frames / max_maptrack_frames). */
export declare const DEFAULT_MAX_GRANT_FRAMES = 64;
export declare const DEFAULT_MAX_MAPTRACK_FRAMES = 1024;
/** xl.cfg max_event_channels default. */
export declare const DEFAULT_MAX_EVTCHNS = 1023;
/** GNTTAB_RESERVED_CONSOLE / GNTTAB_RESERVED_XENSTORE (grant_table.h): seeded by the builder. */
export declare const GNTTAB_RESERVED_CONSOLE = 0;
export declare const GNTTAB_RESERVED_XENSTORE = 1;
export declare const GNTTAB_NR_RESERVED_ENTRIES = 8;
export interface MemoryGeometry {
    /** Grant-table frames reserved after the special pages (max_grant_frames). */
    readonly maxGrantFrames: number;
    /** RAM frames the guest may populate (its I/O memory). */
    readonly ramFrames: number;
}
export declare function firstRamPfn(g: MemoryGeometry): number;
export declare function totalFrames(g: MemoryGeometry): number;
export declare function frameOffset(pfn: number): number;
export declare const CB_EVTCHN_LOCK = 0;
export declare const CB_GRANT_LOCK = 1;
/** Pause count; the vCPU sleeps at its next scheduling point while it is non-zero. */
export declare const CB_PAUSE = 2;
/** Written by the vCPU: RUNSTATE_running or RUNSTATE_blocked. */
export declare const CB_RUNSTATE = 3;
/** -1 while running, else the SHUTDOWN_* code. */
export declare const CB_SHUTDOWN = 4;
export declare const CB_NR_GRANT_FRAMES = 5;
export declare const CB_MAX_GRANT_FRAMES = 6;
/** Populated RAM frames and the limit (Xen's tot_pages / max_pages). */
export declare const CB_TOT_PAGES = 7;
export declare const CB_MAX_PAGES = 8;
/** Pins other domains hold on this domain's grants; a dying domain is reaped at zero. */
export declare const CB_FOREIGN_PINS = 9;
export declare const CB_MAX_EVTCHNS = 10;
/** Set once the domain is dying: event delivery and new maps are refused. */
export declare const CB_DYING = 11;
/** Next RAM frame never handed out (the allocator's high-water mark). */
export declare const CB_RAM_HWM = 12;
/** 1 while the vCPU runs a data-path hypercall (which may hold locks of other domains). */
export declare const CB_IN_HYPERCALL = 13;
/** Set by the authority before it kills the vCPU: no new hypercall may start. */
export declare const CB_KILL = 14;
/** domid + 1 of whoever holds CB_GRANT_LOCK, so a vCPU that died holding it can be cleaned up. */
export declare const CB_GRANT_LOCK_OWNER = 15;
export declare const CB_HEADER_WORDS = 16;
export declare const RUNSTATE_running = 0;
export declare const RUNSTATE_blocked = 1;
/** VIRQ -> port (0 = unbound), one word per VIRQ for vCPU 0. */
export declare const CB_VIRQ_BASE = 16;
/** Event channel table: 4 words per port. */
export declare const CB_EVTCHN_BASE: number;
export declare const EVTCHN_WORDS = 4;
export declare const EV_STATE = 0;
export declare const EV_REMOTE_DOM = 1;
export declare const EV_REMOTE_PORT = 2;
export declare const EV_VCPU = 3;
/** Active grant entries: 4 words per grant ref. */
export declare const ACT_WORDS = 4;
export declare const ACT_PIN = 0;
export declare const ACT_FRAME = 1;
export declare const ACT_DOMID = 2;
export declare const PIN_READ = 1;
export declare const PIN_WRITE: number;
export declare const PIN_MAX = 65535;
export declare function activeBase(): number;
export declare function controlBlockBytes(maxGrantFrames: number): number;
export declare const MT_WORDS = 2;
export declare const MT_REF = 0;
export declare const MT_FLAGS_DOM = 1;
export declare const MAPTRACK_PER_FRAME: number;
