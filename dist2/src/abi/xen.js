// Basic types and constants of xen/xen.h and xen/sched.h.
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
// Reserved domain ids (xen.h).
export const DOMID_FIRST_RESERVED = 0x7ff0;
export const DOMID_SELF = 0x7ff0;
export const DOMID_IO = 0x7ff1;
export const DOMID_XEN = 0x7ff2;
export const DOMID_COW = 0x7ff3;
export const DOMID_INVALID = 0x7ff4;
export const DOMID_IDLE = 0x7fff;
export function isValidDomid(domid) {
    return Number.isInteger(domid) && domid >= 0 && domid < DOMID_FIRST_RESERVED;
}
// SCHEDOP_shutdown reasons (sched.h).
export const SHUTDOWN_poweroff = 0;
export const SHUTDOWN_reboot = 1;
export const SHUTDOWN_suspend = 2;
export const SHUTDOWN_crash = 3;
export const SHUTDOWN_watchdog = 4;
export const SHUTDOWN_soft_reset = 5;
export const SHUTDOWN_REASONS = ['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset'];
export function shutdownCode(reason) {
    return SHUTDOWN_REASONS.indexOf(reason);
}
// struct start_info (x86_64), which the domain builder writes into the guest's start_info page.
export const START_INFO_MAGIC_PREFIX = 'xen-3.0-x86_64';
export const MAX_GUEST_CMDLINE = 1024;
export const SI_MAGIC = 0; // char magic[32]
export const SI_NR_PAGES = 32;
export const SI_SHARED_INFO = 40;
export const SI_FLAGS = 48;
export const SI_STORE_MFN = 56;
export const SI_STORE_EVTCHN = 64;
export const SI_CONSOLE_MFN = 72; // console.domU.mfn
export const SI_CONSOLE_EVTCHN = 80; // console.domU.evtchn
export const SI_PT_BASE = 88;
export const SI_NR_PT_FRAMES = 96;
export const SI_MFN_LIST = 104;
export const SI_MOD_START = 112;
export const SI_MOD_LEN = 120;
export const SI_CMD_LINE = 128;
export const SI_FIRST_P2M_PFN = SI_CMD_LINE + MAX_GUEST_CMDLINE;
export const SI_NR_P2M_FRAMES = SI_FIRST_P2M_PFN + 8;
export const START_INFO_SIZE = SI_NR_P2M_FRAMES + 8;
/** start_info.flags */
export const SIF_PRIVILEGED = 1 << 0;
export const SIF_INITDOMAIN = 1 << 1;
//# sourceMappingURL=xen.js.map