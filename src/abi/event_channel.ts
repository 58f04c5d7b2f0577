// Event channels, 2-level ABI: xen/event_channel.h and the shared_info / vcpu_info layout of
// xen/xen.h (x86_64: xen_ulong_t is 64 bits, XEN_LEGACY_MAX_VCPUS is 32).

export const EVTCHNOP_bind_interdomain = 0;
export const EVTCHNOP_bind_virq = 1;
export const EVTCHNOP_bind_pirq = 2;
export const EVTCHNOP_close = 3;
export const EVTCHNOP_send = 4;
export const EVTCHNOP_status = 5;
export const EVTCHNOP_alloc_unbound = 6;
export const EVTCHNOP_bind_ipi = 7;
export const EVTCHNOP_bind_vcpu = 8;
export const EVTCHNOP_unmask = 9;
export const EVTCHNOP_reset = 10;

export const EVTCHNSTAT_closed = 0;
export const EVTCHNSTAT_unbound = 1;
export const EVTCHNSTAT_interdomain = 2;
export const EVTCHNSTAT_pirq = 3;
export const EVTCHNSTAT_virq = 4;
export const EVTCHNSTAT_ipi = 5;
export const EVTCHNSTAT_NAMES = ['closed', 'unbound', 'interdomain', 'pirq', 'virq', 'ipi'] as const;

export const VIRQ_TIMER = 0;
export const VIRQ_DEBUG = 1;
export const VIRQ_CONSOLE = 2;
export const VIRQ_DOM_EXC = 3;
export const VIRQ_TBUF = 4;
export const VIRQ_DEBUGGER = 6;
export const VIRQ_XENOPROF = 7;
export const VIRQ_CON_RING = 8;
export const VIRQ_PCPU_STATE = 9;
export const VIRQ_MEM_EVENT = 10;
export const VIRQ_ARGO = 11;
export const VIRQ_ENOMEM = 12;
export const VIRQ_XENPMU = 13;
export const NR_VIRQS = 24;
/** VIRQs that exist once per host and may be bound only by a privileged domain. */
export const GLOBAL_VIRQS: ReadonlySet<number> = new Set([
  VIRQ_CONSOLE, VIRQ_DOM_EXC, VIRQ_TBUF, VIRQ_CON_RING, VIRQ_PCPU_STATE, VIRQ_MEM_EVENT, VIRQ_ENOMEM,
]);

export const BITS_PER_XEN_ULONG = 64;
/** 2-level ABI: 64 words of 64 bits. */
export const EVTCHN_2L_NR_CHANNELS = BITS_PER_XEN_ULONG * BITS_PER_XEN_ULONG;

export const XEN_LEGACY_MAX_VCPUS = 32;

/** struct vcpu_info (64 bytes on x86). */
export const VCPU_INFO_SIZE = 64;
export const VCPUINFO_UPCALL_PENDING = 0; // uint8_t evtchn_upcall_pending
export const VCPUINFO_UPCALL_MASK = 1; // uint8_t evtchn_upcall_mask
export const VCPUINFO_PENDING_SEL = 8; // xen_ulong_t evtchn_pending_sel
export const VCPUINFO_ARCH = 16; // struct arch_vcpu_info { unsigned long cr2, pad; }
export const VCPUINFO_TIME = 32; // struct vcpu_time_info
/** struct vcpu_time_info */
export const VCPUTIME_VERSION = 0;
export const VCPUTIME_TSC_TIMESTAMP = 8;
export const VCPUTIME_SYSTEM_TIME = 16;
export const VCPUTIME_TSC_TO_SYSTEM_MUL = 24;
export const VCPUTIME_TSC_SHIFT = 28;
export const VCPUTIME_FLAGS = 29;

/** struct shared_info */
export const SHINFO_VCPU_INFO = 0;
export const SHINFO_EVTCHN_PENDING = XEN_LEGACY_MAX_VCPUS * VCPU_INFO_SIZE; // 2048
export const SHINFO_EVTCHN_MASK = SHINFO_EVTCHN_PENDING + BITS_PER_XEN_ULONG * 8; // 2560
export const SHINFO_WC_VERSION = SHINFO_EVTCHN_MASK + BITS_PER_XEN_ULONG * 8; // 3072
export const SHINFO_WC_SEC = SHINFO_WC_VERSION + 4;
export const SHINFO_WC_NSEC = SHINFO_WC_SEC + 4;
export const SHINFO_WC_SEC_HI = SHINFO_WC_NSEC + 4;
export const SHINFO_ARCH = SHINFO_WC_SEC_HI + 4; // struct arch_shared_info, 8-aligned

export function vcpuInfoOffset(vcpu: number): number {
  return SHINFO_VCPU_INFO + vcpu * VCPU_INFO_SIZE;
}

// ---- FIFO ABI (event_channel.h): a queue of event words per priority, 2^17 ports ----
export const EVTCHNOP_init_control = 11;
export const EVTCHNOP_expand_array = 12;
export const EVTCHNOP_set_priority = 13;

export const EVTCHN_FIFO_PRIORITY_MAX = 0;
export const EVTCHN_FIFO_PRIORITY_DEFAULT = 7;
export const EVTCHN_FIFO_PRIORITY_MIN = 15;
export const EVTCHN_FIFO_MAX_QUEUES = EVTCHN_FIFO_PRIORITY_MIN + 1;

/** Bit numbers in an event_word_t. */
export const EVTCHN_FIFO_PENDING = 31;
export const EVTCHN_FIFO_MASKED = 30;
export const EVTCHN_FIFO_LINKED = 29;
export const EVTCHN_FIFO_BUSY = 28;
export const EVTCHN_FIFO_LINK_BITS = 17;
export const EVTCHN_FIFO_LINK_MASK = (1 << EVTCHN_FIFO_LINK_BITS) - 1;
export const EVTCHN_FIFO_NR_CHANNELS = 1 << EVTCHN_FIFO_LINK_BITS;
/** sizeof(event_word_t): one page of the event array holds 1,024 of them. */
export const EVENT_WORD_SIZE = 4;

/** struct evtchn_fifo_control_block */
export const EVTCHN_FIFO_CB_READY = 0;
export const EVTCHN_FIFO_CB_RSVD = 4;
export const EVTCHN_FIFO_CB_HEAD = 8;
export const EVTCHN_FIFO_CONTROL_BLOCK_SIZE = EVTCHN_FIFO_CB_HEAD + EVTCHN_FIFO_MAX_QUEUES * 4;

/** struct evtchn_init_control */
export const EVTCHN_INIT_CONTROL_GFN = 0;
export const EVTCHN_INIT_CONTROL_OFFSET = 8;
export const EVTCHN_INIT_CONTROL_VCPU = 12;
export const EVTCHN_INIT_CONTROL_LINK_BITS = 16;
export const EVTCHN_INIT_CONTROL_SIZE = 24;
/** struct evtchn_expand_array */
export const EVTCHN_EXPAND_ARRAY_GFN = 0;
export const EVTCHN_EXPAND_ARRAY_SIZE = 8;
/** struct evtchn_set_priority */
export const EVTCHN_SET_PRIORITY_PORT = 0;
export const EVTCHN_SET_PRIORITY_PRIORITY = 4;
export const EVTCHN_SET_PRIORITY_SIZE = 8;
