// Conformance of src/abi against the real Xen public headers: a C program (c/abi_probe.c) is
// compiled against libxen-dev's headers and (a) prints sizeof/offsetof/constant values that are
// compared with the TS exports, (b) runs the RING_* macros on ring memory that is handed back
// and forth with the TS FrontRing/BackRing, so every byte, every consumed slot and every notify
// decision must agree, including indices that wrap at 2^32.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as blk from '../../src/abi/blkif.js';
import * as con from '../../src/abi/console.js';
import * as ev from '../../src/abi/event_channel.js';
import * as gnt from '../../src/abi/grant_table.js';
import * as net from '../../src/abi/netif.js';
import * as xen from '../../src/abi/xen.js';
import * as xs from '../../src/abi/xs_wire.js';
import { XenbusState } from '../../src/abi/xenbus.js';
import { BackRing, FrontRing, SRING_PAD, SRING_PVT, SRING_REQ_EVENT, SRING_REQ_PROD, SRING_RING, SRING_RSP_EVENT,
  SRING_RSP_PROD, ringSize, sharedRingInit } from '../../src/abi/ring.js';
import { XEN_ERRNO } from '../../src/errors.js';

// The compiled test lives in dist/test/interop; the C source stays in the source tree.
const PROBE_SOURCE = fileURLToPath(new URL('../../../test/interop/c/abi_probe.c', import.meta.url));
const XEN_HEADER = '/usr/include/xen/io/ring.h';

function whyUnavailable(): string | undefined {
  if (!existsSync(XEN_HEADER)) return `no Xen public headers (${XEN_HEADER} missing; Debian: apt-get install libxen-dev)`;
  const cc = spawnSync('cc', ['--version'], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) return 'no C compiler: `cc` is not on PATH';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// (a) Layout and constants: C expression -> the TS value it must equal.

const PROBE_SLOT_SIZE = 20; // struct probe_req in abi_probe.c
const PROBE_RSP_SIZE = 8;

type Expected = number | string;
const layout: Array<[string, Expected]> = [];
const add = (entries: Record<string, Expected>): void => {
  for (const [k, v] of Object.entries(entries)) layout.push([k, v]);
};
const consts = (names: string[], from: Record<string, unknown>): void => {
  for (const n of names) {
    const v = from[n];
    assert.ok(typeof v === 'number', `TS export ${n} is missing`);
    layout.push([n, v]);
  }
};

// xen.h, sched.h
consts(['DOMID_FIRST_RESERVED', 'DOMID_SELF', 'DOMID_IO', 'DOMID_XEN', 'DOMID_COW', 'DOMID_INVALID', 'DOMID_IDLE',
  'SHUTDOWN_poweroff', 'SHUTDOWN_reboot', 'SHUTDOWN_suspend', 'SHUTDOWN_crash', 'SHUTDOWN_watchdog',
  'SHUTDOWN_soft_reset', 'MAX_GUEST_CMDLINE', 'SIF_PRIVILEGED', 'SIF_INITDOMAIN'], xen);
add({
  XEN_PAGE_SHIFT: xen.PAGE_SHIFT,
  'offsetof(struct start_info, magic)': xen.SI_MAGIC,
  'offsetof(struct start_info, nr_pages)': xen.SI_NR_PAGES,
  'offsetof(struct start_info, shared_info)': xen.SI_SHARED_INFO,
  'offsetof(struct start_info, flags)': xen.SI_FLAGS,
  'offsetof(struct start_info, store_mfn)': xen.SI_STORE_MFN,
  'offsetof(struct start_info, store_evtchn)': xen.SI_STORE_EVTCHN,
  'offsetof(struct start_info, console.domU.mfn)': xen.SI_CONSOLE_MFN,
  'offsetof(struct start_info, console.domU.evtchn)': xen.SI_CONSOLE_EVTCHN,
  'offsetof(struct start_info, pt_base)': xen.SI_PT_BASE,
  'offsetof(struct start_info, nr_pt_frames)': xen.SI_NR_PT_FRAMES,
  'offsetof(struct start_info, mfn_list)': xen.SI_MFN_LIST,
  'offsetof(struct start_info, mod_start)': xen.SI_MOD_START,
  'offsetof(struct start_info, mod_len)': xen.SI_MOD_LEN,
  'offsetof(struct start_info, cmd_line)': xen.SI_CMD_LINE,
  'offsetof(struct start_info, first_p2m_pfn)': xen.SI_FIRST_P2M_PFN,
  'offsetof(struct start_info, nr_p2m_frames)': xen.SI_NR_P2M_FRAMES,
  'sizeof(struct start_info)': xen.START_INFO_SIZE,
});
// errno.h hides EINTR from guests (it is defined only when building Xen itself).
for (const [name, value] of Object.entries(XEN_ERRNO)) {
  if (name !== 'EINTR') layout.push([`XEN_${name}`, value]);
}

// grant_table.h
consts(['GTF_invalid', 'GTF_permit_access', 'GTF_accept_transfer', 'GTF_transitive', 'GTF_type_mask', 'GTF_readonly',
  'GTF_reading', 'GTF_writing', 'GTF_PWT', 'GTF_PCD', 'GTF_PAT', 'GTF_sub_page', 'GTF_transfer_committed',
  'GTF_transfer_completed', 'GNTMAP_device_map', 'GNTMAP_host_map', 'GNTMAP_readonly', 'GNTMAP_application_map',
  'GNTMAP_contains_pte', 'GNTCOPY_source_gref', 'GNTCOPY_dest_gref', 'GNTTABOP_map_grant_ref',
  'GNTTABOP_unmap_grant_ref', 'GNTTABOP_setup_table', 'GNTTABOP_dump_table', 'GNTTABOP_transfer', 'GNTTABOP_copy',
  'GNTTABOP_query_size', 'GNTTABOP_unmap_and_replace', 'GNTTABOP_set_version', 'GNTTABOP_get_status_frames',
  'GNTTABOP_get_version', ...gnt.GNTST_NAMES], gnt);
add({
  'sizeof(grant_entry_v1_t)': gnt.GRANT_ENTRY_V1_SIZE,
  'offsetof(grant_entry_v1_t, flags)': gnt.GNTENT_FLAGS,
  'offsetof(grant_entry_v1_t, domid)': gnt.GNTENT_DOMID,
  'offsetof(grant_entry_v1_t, frame)': gnt.GNTENT_FRAME,
  'sizeof((const char *[])GNTTABOP_error_msgs) / sizeof(const char *)': gnt.GNTST_NAMES.length,
});

// event_channel.h and the shared_info/vcpu_info layout of xen.h
consts(['EVTCHNOP_bind_interdomain', 'EVTCHNOP_bind_virq', 'EVTCHNOP_bind_pirq', 'EVTCHNOP_close', 'EVTCHNOP_send',
  'EVTCHNOP_status', 'EVTCHNOP_alloc_unbound', 'EVTCHNOP_bind_ipi', 'EVTCHNOP_bind_vcpu', 'EVTCHNOP_unmask',
  'EVTCHNOP_reset', 'EVTCHNSTAT_closed', 'EVTCHNSTAT_unbound', 'EVTCHNSTAT_interdomain', 'EVTCHNSTAT_pirq',
  'EVTCHNSTAT_virq', 'EVTCHNSTAT_ipi', 'VIRQ_TIMER', 'VIRQ_DEBUG', 'VIRQ_CONSOLE', 'VIRQ_DOM_EXC', 'VIRQ_TBUF',
  'VIRQ_DEBUGGER', 'VIRQ_XENOPROF', 'VIRQ_CON_RING', 'VIRQ_PCPU_STATE', 'VIRQ_MEM_EVENT', 'VIRQ_ARGO', 'VIRQ_ENOMEM',
  'VIRQ_XENPMU', 'NR_VIRQS', 'EVTCHN_2L_NR_CHANNELS', 'XEN_LEGACY_MAX_VCPUS'], ev);
add({
  'sizeof(xen_ulong_t) * 8': ev.BITS_PER_XEN_ULONG,
  'sizeof(struct vcpu_info)': ev.VCPU_INFO_SIZE,
  'offsetof(struct vcpu_info, evtchn_upcall_pending)': ev.VCPUINFO_UPCALL_PENDING,
  'offsetof(struct vcpu_info, evtchn_upcall_mask)': ev.VCPUINFO_UPCALL_MASK,
  'offsetof(struct vcpu_info, evtchn_pending_sel)': ev.VCPUINFO_PENDING_SEL,
  'offsetof(struct vcpu_info, arch)': ev.VCPUINFO_ARCH,
  'offsetof(struct vcpu_info, time)': ev.VCPUINFO_TIME,
  'offsetof(struct vcpu_time_info, version)': ev.VCPUTIME_VERSION,
  'offsetof(struct vcpu_time_info, tsc_timestamp)': ev.VCPUTIME_TSC_TIMESTAMP,
  'offsetof(struct vcpu_time_info, system_time)': ev.VCPUTIME_SYSTEM_TIME,
  'offsetof(struct vcpu_time_info, tsc_to_system_mul)': ev.VCPUTIME_TSC_TO_SYSTEM_MUL,
  'offsetof(struct vcpu_time_info, tsc_shift)': ev.VCPUTIME_TSC_SHIFT,
  'offsetof(struct vcpu_time_info, flags)': ev.VCPUTIME_FLAGS,
  'offsetof(struct shared_info, vcpu_info)': ev.SHINFO_VCPU_INFO,
  'offsetof(struct shared_info, vcpu_info[3])': ev.vcpuInfoOffset(3),
  'offsetof(struct shared_info, evtchn_pending)': ev.SHINFO_EVTCHN_PENDING,
  'offsetof(struct shared_info, evtchn_mask)': ev.SHINFO_EVTCHN_MASK,
  'offsetof(struct shared_info, wc_version)': ev.SHINFO_WC_VERSION,
  'offsetof(struct shared_info, wc_sec)': ev.SHINFO_WC_SEC,
  'offsetof(struct shared_info, wc_nsec)': ev.SHINFO_WC_NSEC,
  'offsetof(struct shared_info, wc_sec_hi)': ev.SHINFO_WC_SEC_HI,
  'offsetof(struct shared_info, arch)': ev.SHINFO_ARCH,
});
// The FIFO ABI: its ops and constants, the control block the hypervisor writes into guest
// memory, the event word's bits, and the argument structs of its three ops.
consts(['EVTCHNOP_init_control', 'EVTCHNOP_expand_array', 'EVTCHNOP_set_priority', 'EVTCHN_FIFO_PRIORITY_MAX',
  'EVTCHN_FIFO_PRIORITY_DEFAULT', 'EVTCHN_FIFO_PRIORITY_MIN', 'EVTCHN_FIFO_MAX_QUEUES', 'EVTCHN_FIFO_PENDING',
  'EVTCHN_FIFO_MASKED', 'EVTCHN_FIFO_LINKED', 'EVTCHN_FIFO_BUSY', 'EVTCHN_FIFO_LINK_BITS', 'EVTCHN_FIFO_LINK_MASK',
  'EVTCHN_FIFO_NR_CHANNELS'], ev);
add({
  'sizeof(event_word_t)': ev.EVENT_WORD_SIZE,
  'offsetof(struct evtchn_fifo_control_block, ready)': ev.EVTCHN_FIFO_CB_READY,
  'offsetof(struct evtchn_fifo_control_block, _rsvd)': ev.EVTCHN_FIFO_CB_RSVD,
  'offsetof(struct evtchn_fifo_control_block, head)': ev.EVTCHN_FIFO_CB_HEAD,
  'offsetof(struct evtchn_fifo_control_block, head[EVTCHN_FIFO_PRIORITY_MIN])': ev.EVTCHN_FIFO_CB_HEAD + 4 * ev.EVTCHN_FIFO_PRIORITY_MIN,
  'sizeof(struct evtchn_fifo_control_block)': ev.EVTCHN_FIFO_CONTROL_BLOCK_SIZE,
  'offsetof(struct evtchn_init_control, control_gfn)': ev.EVTCHN_INIT_CONTROL_GFN,
  'offsetof(struct evtchn_init_control, offset)': ev.EVTCHN_INIT_CONTROL_OFFSET,
  'offsetof(struct evtchn_init_control, vcpu)': ev.EVTCHN_INIT_CONTROL_VCPU,
  'offsetof(struct evtchn_init_control, link_bits)': ev.EVTCHN_INIT_CONTROL_LINK_BITS,
  'sizeof(struct evtchn_init_control)': ev.EVTCHN_INIT_CONTROL_SIZE,
  'offsetof(struct evtchn_expand_array, array_gfn)': ev.EVTCHN_EXPAND_ARRAY_GFN,
  'sizeof(struct evtchn_expand_array)': ev.EVTCHN_EXPAND_ARRAY_SIZE,
  'offsetof(struct evtchn_set_priority, port)': ev.EVTCHN_SET_PRIORITY_PORT,
  'offsetof(struct evtchn_set_priority, priority)': ev.EVTCHN_SET_PRIORITY_PRIORITY,
  'sizeof(struct evtchn_set_priority)': ev.EVTCHN_SET_PRIORITY_SIZE,
  '(1 << XEN_PAGE_SHIFT) / sizeof(event_word_t)': xen.PAGE_SIZE / ev.EVENT_WORD_SIZE,
});

// io/ring.h, with the slot sizes of every ring type we describe
add({
  'offsetof(struct blkif_sring, req_prod)': SRING_REQ_PROD,
  'offsetof(struct blkif_sring, req_event)': SRING_REQ_EVENT,
  'offsetof(struct blkif_sring, rsp_prod)': SRING_RSP_PROD,
  'offsetof(struct blkif_sring, rsp_event)': SRING_RSP_EVENT,
  'offsetof(struct blkif_sring, pvt)': SRING_PVT,
  'offsetof(struct blkif_sring, __pad)': SRING_PAD,
  'offsetof(struct blkif_sring, ring)': SRING_RING,
  'offsetof(struct netif_tx_sring, ring)': SRING_RING,
  'sizeof(union probe_sring_entry)': PROBE_SLOT_SIZE,
  'sizeof(struct probe_rsp)': PROBE_RSP_SIZE,
});
const slotTypes: Array<[string, number]> = [
  ['blkif', blk.BLKIF_SLOT_SIZE], ['netif_tx', net.NETIF_TX_SLOT_SIZE], ['netif_rx', net.NETIF_RX_SLOT_SIZE],
  ['xen_netif_ctrl', net.NETIF_CTRL_SLOT_SIZE],
  ['probe', PROBE_SLOT_SIZE],
];
for (const [tag, slot] of slotTypes) {
  for (const order of [0, 1, 2, 3]) {
    const bytes = xen.PAGE_SIZE << order;
    layout.push([`__CONST_RING_SIZE(${tag}, ${bytes})`, ringSize(bytes, slot)]);
  }
}

// io/console.h
add({
  'offsetof(struct xencons_interface, in)': con.XENCONS_IN,
  'sizeof(((struct xencons_interface *)0)->in)': con.XENCONS_IN_SIZE,
  'offsetof(struct xencons_interface, out)': con.XENCONS_OUT,
  'sizeof(((struct xencons_interface *)0)->out)': con.XENCONS_OUT_SIZE,
  'offsetof(struct xencons_interface, in_cons)': con.XENCONS_IN_CONS,
  'offsetof(struct xencons_interface, in_prod)': con.XENCONS_IN_PROD,
  'offsetof(struct xencons_interface, out_cons)': con.XENCONS_OUT_CONS,
  'offsetof(struct xencons_interface, out_prod)': con.XENCONS_OUT_PROD,
  'sizeof(struct xencons_interface)': con.XENCONS_INTERFACE_SIZE,
  'MASK_XENCONS_IDX(0xfffff9c3u, ((struct xencons_interface *)0)->in)': con.maskXenconsIdx(0xfffff9c3, con.XENCONS_IN_SIZE),
  'MASK_XENCONS_IDX(0xfffff9c3u, ((struct xencons_interface *)0)->out)': con.maskXenconsIdx(0xfffff9c3, con.XENCONS_OUT_SIZE),
});

// io/xenbus.h
for (const [name, value] of Object.entries(XenbusState)) {
  if (typeof value === 'number') layout.push([`XenbusState${name}`, value]);
}

// io/blkif.h
consts(['BLKIF_OP_READ', 'BLKIF_OP_WRITE', 'BLKIF_OP_WRITE_BARRIER', 'BLKIF_OP_FLUSH_DISKCACHE', 'BLKIF_OP_RESERVED_1',
  'BLKIF_OP_DISCARD', 'BLKIF_OP_INDIRECT', 'BLKIF_RSP_EOPNOTSUPP', 'BLKIF_RSP_ERROR', 'BLKIF_RSP_OKAY',
  'BLKIF_DISCARD_SECURE', 'VDISK_CDROM', 'VDISK_REMOVABLE', 'VDISK_READONLY', 'BLKIF_MAX_SEGMENTS_PER_REQUEST',
  'BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST'], blk);
add({
  'sizeof(struct blkif_request_segment)': blk.BLKIF_SEGMENT_SIZE,
  'offsetof(struct blkif_request_segment, gref)': blk.BLKIF_SEG_GREF,
  'offsetof(struct blkif_request_segment, first_sect)': blk.BLKIF_SEG_FIRST_SECT,
  'offsetof(struct blkif_request_segment, last_sect)': blk.BLKIF_SEG_LAST_SECT,
  '(1 << XEN_PAGE_SHIFT) / sizeof(struct blkif_request_segment)': blk.BLKIF_SEGS_PER_INDIRECT_FRAME,
  'sizeof(struct blkif_request)': blk.BLKIF_REQUEST_SIZE,
  'offsetof(struct blkif_request, operation)': blk.BLKIF_REQ_OPERATION,
  'offsetof(struct blkif_request, nr_segments)': blk.BLKIF_REQ_NR_SEGMENTS,
  'offsetof(struct blkif_request, handle)': blk.BLKIF_REQ_HANDLE,
  'offsetof(struct blkif_request, id)': blk.BLKIF_REQ_ID,
  'offsetof(struct blkif_request, sector_number)': blk.BLKIF_REQ_SECTOR_NUMBER,
  'offsetof(struct blkif_request, seg)': blk.BLKIF_REQ_SEG,
  'offsetof(struct blkif_request, seg[10].last_sect)': blk.BLKIF_REQ_SEG + 10 * blk.BLKIF_SEGMENT_SIZE + blk.BLKIF_SEG_LAST_SECT,
  'sizeof(struct blkif_request_discard)': blk.BLKIF_REQUEST_DISCARD_SIZE,
  'offsetof(struct blkif_request_discard, operation)': blk.BLKIF_REQ_OPERATION,
  'offsetof(struct blkif_request_discard, flag)': blk.BLKIF_DISCARD_FLAG,
  'offsetof(struct blkif_request_discard, handle)': blk.BLKIF_DISCARD_HANDLE,
  'offsetof(struct blkif_request_discard, id)': blk.BLKIF_REQ_ID,
  'offsetof(struct blkif_request_discard, sector_number)': blk.BLKIF_REQ_SECTOR_NUMBER,
  'offsetof(struct blkif_request_discard, nr_sectors)': blk.BLKIF_DISCARD_NR_SECTORS,
  'sizeof(struct blkif_request_indirect)': blk.BLKIF_REQUEST_INDIRECT_SIZE,
  'offsetof(struct blkif_request_indirect, operation)': blk.BLKIF_REQ_OPERATION,
  'offsetof(struct blkif_request_indirect, indirect_op)': blk.BLKIF_INDIRECT_OP,
  'offsetof(struct blkif_request_indirect, nr_segments)': blk.BLKIF_INDIRECT_NR_SEGMENTS,
  'offsetof(struct blkif_request_indirect, id)': blk.BLKIF_REQ_ID,
  'offsetof(struct blkif_request_indirect, sector_number)': blk.BLKIF_REQ_SECTOR_NUMBER,
  'offsetof(struct blkif_request_indirect, handle)': blk.BLKIF_INDIRECT_HANDLE,
  'offsetof(struct blkif_request_indirect, indirect_grefs)': blk.BLKIF_INDIRECT_GREFS,
  'sizeof(struct blkif_response)': blk.BLKIF_RESPONSE_SIZE,
  'offsetof(struct blkif_response, id)': blk.BLKIF_RESPONSE_ID,
  'offsetof(struct blkif_response, operation)': blk.BLKIF_RESPONSE_OPERATION,
  'offsetof(struct blkif_response, status)': blk.BLKIF_RESPONSE_STATUS,
  'sizeof(union blkif_sring_entry)': blk.BLKIF_SLOT_SIZE,
});

// io/netif.h
consts(['XEN_NETIF_NR_SLOTS_MIN', 'XEN_NETIF_MAX_TX_SIZE', 'NETTXF_csum_blank', 'NETTXF_data_validated',
  'NETTXF_more_data', 'NETTXF_extra_info', 'NETRXF_data_validated', 'NETRXF_csum_blank', 'NETRXF_more_data',
  'NETRXF_extra_info', 'NETRXF_gso_prefix', 'XEN_NETIF_EXTRA_TYPE_NONE', 'XEN_NETIF_EXTRA_TYPE_GSO',
  'XEN_NETIF_EXTRA_TYPE_MCAST_ADD', 'XEN_NETIF_EXTRA_TYPE_MCAST_DEL', 'XEN_NETIF_EXTRA_TYPE_HASH',
  'XEN_NETIF_EXTRA_TYPE_MAX', 'XEN_NETIF_EXTRA_FLAG_MORE', 'XEN_NETIF_GSO_TYPE_NONE', 'XEN_NETIF_GSO_TYPE_TCPV4',
  'XEN_NETIF_GSO_TYPE_TCPV6', 'NETIF_RSP_DROPPED', 'NETIF_RSP_ERROR', 'NETIF_RSP_OKAY', 'NETIF_RSP_NULL'], net);
consts(['XEN_NETIF_CTRL_HASH_TYPE_IPV4', 'XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP', 'XEN_NETIF_CTRL_HASH_TYPE_IPV6',
  'XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP', 'XEN_NETIF_CTRL_HASH_ALGORITHM_NONE', 'XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ',
  'XEN_NETIF_CTRL_TYPE_INVALID', 'XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS', 'XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS',
  'XEN_NETIF_CTRL_TYPE_SET_HASH_KEY', 'XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE',
  'XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE', 'XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING',
  'XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM', 'XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE',
  'XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING', 'XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING', 'XEN_NETIF_CTRL_STATUS_SUCCESS',
  'XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED', 'XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER',
  'XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW'], net);
// The header's own xen_netif_toeplitz_hash against ours, on seeded keys and buffers of every
// length the hash types use (and key lengths short of the 8-byte prefix and past the buffer).
{
  const rnd = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (Math.imul(seed * 131 + i, 2654435761) >>> 24) & 0xff);
  const cArr = (b: Uint8Array) => `(const uint8_t[]){${b.length ? [...b].join(',') : '0'}}`;
  for (const [keylen, buflen, seed] of [[40, 12, 1], [40, 8, 2], [40, 36, 3], [40, 32, 4], [3, 12, 5], [0, 8, 6], [16, 36, 7], [40, 0, 8]] as const) {
    const key = rnd(keylen, seed);
    const buf = rnd(buflen, seed + 100);
    layout.push([`xen_netif_toeplitz_hash(${cArr(key)}, ${keylen}, ${cArr(buf)}, ${buflen})`, net.toeplitzHash(key, buf)]);
  }
}
add({
  'sizeof(struct netif_tx_request)': net.NETIF_TX_REQUEST_SIZE,
  'offsetof(struct netif_tx_request, gref)': net.NETIF_TX_REQ_GREF,
  'offsetof(struct netif_tx_request, offset)': net.NETIF_TX_REQ_OFFSET,
  'offsetof(struct netif_tx_request, flags)': net.NETIF_TX_REQ_FLAGS,
  'offsetof(struct netif_tx_request, id)': net.NETIF_TX_REQ_ID,
  'offsetof(struct netif_tx_request, size)': net.NETIF_TX_REQ_SIZE,
  'sizeof(struct netif_tx_response)': net.NETIF_TX_RESPONSE_SIZE,
  'offsetof(struct netif_tx_response, id)': net.NETIF_TX_RSP_ID,
  'offsetof(struct netif_tx_response, status)': net.NETIF_TX_RSP_STATUS,
  'sizeof(struct netif_rx_request)': net.NETIF_RX_REQUEST_SIZE,
  'offsetof(struct netif_rx_request, id)': net.NETIF_RX_REQ_ID,
  'offsetof(struct netif_rx_request, gref)': net.NETIF_RX_REQ_GREF,
  'sizeof(struct netif_rx_response)': net.NETIF_RX_RESPONSE_SIZE,
  'offsetof(struct netif_rx_response, id)': net.NETIF_RX_RSP_ID,
  'offsetof(struct netif_rx_response, offset)': net.NETIF_RX_RSP_OFFSET,
  'offsetof(struct netif_rx_response, flags)': net.NETIF_RX_RSP_FLAGS,
  'offsetof(struct netif_rx_response, status)': net.NETIF_RX_RSP_STATUS,
  'sizeof(struct netif_extra_info)': net.NETIF_EXTRA_INFO_SIZE,
  'offsetof(struct netif_extra_info, type)': net.NETIF_EXTRA_TYPE,
  'offsetof(struct netif_extra_info, flags)': net.NETIF_EXTRA_FLAGS,
  'offsetof(struct netif_extra_info, u)': net.NETIF_EXTRA_U,
  'offsetof(struct netif_extra_info, u.gso.size)': net.NETIF_EXTRA_GSO_SIZE,
  'offsetof(struct netif_extra_info, u.gso.type)': net.NETIF_EXTRA_GSO_TYPE,
  'offsetof(struct netif_extra_info, u.gso.features)': net.NETIF_EXTRA_GSO_FEATURES,
  'offsetof(struct netif_extra_info, u.mcast.addr)': net.NETIF_EXTRA_MCAST_ADDR,
  'offsetof(struct netif_extra_info, u.hash.type)': net.NETIF_EXTRA_HASH_TYPE,
  'offsetof(struct netif_extra_info, u.hash.algorithm)': net.NETIF_EXTRA_HASH_ALGORITHM,
  'offsetof(struct netif_extra_info, u.hash.value)': net.NETIF_EXTRA_HASH_VALUE,
  'sizeof(union netif_tx_sring_entry)': net.NETIF_TX_SLOT_SIZE,
  'sizeof(union netif_rx_sring_entry)': net.NETIF_RX_SLOT_SIZE,
  'sizeof(struct xen_netif_ctrl_request)': net.NETIF_CTRL_REQUEST_SIZE,
  'offsetof(struct xen_netif_ctrl_request, id)': net.NETIF_CTRL_REQ_ID,
  'offsetof(struct xen_netif_ctrl_request, type)': net.NETIF_CTRL_REQ_TYPE,
  'offsetof(struct xen_netif_ctrl_request, data)': net.NETIF_CTRL_REQ_DATA,
  'sizeof(struct xen_netif_ctrl_response)': net.NETIF_CTRL_RESPONSE_SIZE,
  'offsetof(struct xen_netif_ctrl_response, id)': net.NETIF_CTRL_RSP_ID,
  'offsetof(struct xen_netif_ctrl_response, type)': net.NETIF_CTRL_RSP_TYPE,
  'offsetof(struct xen_netif_ctrl_response, status)': net.NETIF_CTRL_RSP_STATUS,
  'offsetof(struct xen_netif_ctrl_response, data)': net.NETIF_CTRL_RSP_DATA,
  'sizeof(union xen_netif_ctrl_sring_entry)': net.NETIF_CTRL_SLOT_SIZE,
});

// io/xs_wire.h
consts(['XS_CONTROL', 'XS_DEBUG', 'XS_DIRECTORY', 'XS_READ', 'XS_GET_PERMS', 'XS_WATCH', 'XS_UNWATCH',
  'XS_TRANSACTION_START', 'XS_TRANSACTION_END', 'XS_INTRODUCE', 'XS_RELEASE', 'XS_GET_DOMAIN_PATH', 'XS_WRITE',
  'XS_MKDIR', 'XS_RM', 'XS_SET_PERMS', 'XS_WATCH_EVENT', 'XS_ERROR', 'XS_IS_DOMAIN_INTRODUCED', 'XS_RESUME',
  'XS_SET_TARGET', 'XS_RESET_WATCHES', 'XS_DIRECTORY_PART', 'XS_TYPE_COUNT', 'XS_INVALID', 'XS_WATCH_PATH',
  'XS_WATCH_TOKEN', 'XENSTORE_RING_SIZE', 'XENSTORE_PAYLOAD_MAX', 'XENSTORE_ABS_PATH_MAX', 'XENSTORE_REL_PATH_MAX',
  'XENSTORE_SERVER_FEATURE_RECONNECTION', 'XENSTORE_SERVER_FEATURE_ERROR', 'XENSTORE_CONNECTED',
  'XENSTORE_RECONNECT', 'XENSTORE_ERROR_NONE', 'XENSTORE_ERROR_COMM', 'XENSTORE_ERROR_RINGIDX',
  'XENSTORE_ERROR_PROTO'], xs);
add({
  XS_WRITE_NONE: xs.XS_WRITE_NONE,
  XS_WRITE_CREATE: xs.XS_WRITE_CREATE,
  XS_WRITE_CREATE_EXCL: xs.XS_WRITE_CREATE_EXCL,
  'sizeof(xsd_errors) / sizeof(xsd_errors[0])': xs.XSD_ERRORS.length,
  'sizeof(struct xsd_sockmsg)': xs.XSD_SOCKMSG_SIZE,
  'offsetof(struct xsd_sockmsg, type)': xs.XSD_SOCKMSG_TYPE,
  'offsetof(struct xsd_sockmsg, req_id)': xs.XSD_SOCKMSG_REQ_ID,
  'offsetof(struct xsd_sockmsg, tx_id)': xs.XSD_SOCKMSG_TX_ID,
  'offsetof(struct xsd_sockmsg, len)': xs.XSD_SOCKMSG_LEN,
  'offsetof(struct xenstore_domain_interface, req)': xs.XS_INTF_REQ,
  'offsetof(struct xenstore_domain_interface, rsp)': xs.XS_INTF_RSP,
  'offsetof(struct xenstore_domain_interface, req_cons)': xs.XS_INTF_REQ_CONS,
  'offsetof(struct xenstore_domain_interface, req_prod)': xs.XS_INTF_REQ_PROD,
  'offsetof(struct xenstore_domain_interface, rsp_cons)': xs.XS_INTF_RSP_CONS,
  'offsetof(struct xenstore_domain_interface, rsp_prod)': xs.XS_INTF_RSP_PROD,
  'offsetof(struct xenstore_domain_interface, server_features)': xs.XS_INTF_SERVER_FEATURES,
  'offsetof(struct xenstore_domain_interface, connection)': xs.XS_INTF_CONNECTION,
  'offsetof(struct xenstore_domain_interface, error)': xs.XS_INTF_ERROR,
  'sizeof(struct xenstore_domain_interface)': xs.XS_INTF_SIZE,
  'MASK_XENSTORE_IDX(0xfffff9c3u)': xs.maskXenstoreIdx(0xfffff9c3),
});
xs.XSD_ERRORS.forEach((name, i) => layout.push([`xsd_errors[${i}].errstring`, name]));
xs.XS_TYPE_NAMES.forEach((name, i) => {
  if (name !== '') layout.push([`XS_${name}`, i]);
});

// ---------------------------------------------------------------------------------------------
// (b) Ring scripts. Each op is run by C (RING_* macros) or TS (FrontRing/BackRing) alike:
//   init                    SHARED_RING_INIT
//   front:PVT:CONS          FRONT_RING_ATTACH at PVT, then rsp_cons = CONS
//   back:PVT:CONS           BACK_RING_ATTACH at PVT, then req_cons = CONS
//   poke:W:V                the peer scribbles V into header word W (0 req_prod, 1 req_event,
//                           2 rsp_prod, 3 rsp_event)
//   produce:N:SEED          front fills N requests (contents from index and SEED)
//   pushreq / pushrsp       RING_PUSH_*_AND_CHECK_NOTIFY, prints the notify decision
//   consume:N / collect:N   back / front copies out up to N requests / responses and prints them
//   respond:N               back fills N responses
//   finalreq:K / finalrsp:K RING_FINAL_CHECK_FOR_* (K > 1: event set K ahead, the batching form)
//   unconsumed, free, overflow:V, state   print what the macros say

type RingKind = 'blkif' | 'probe';

interface Codec {
  slotSize: number;
  fillReq(view: DataView, off: number, k: number, seed: number): void;
  showReq(view: DataView, k: number): string;
  fillRsp(view: DataView, off: number, k: number): void;
  showRsp(view: DataView, k: number): string;
}

const blkifCodec: Codec = {
  slotSize: blk.BLKIF_SLOT_SIZE,
  fillReq(view, off, k, seed) {
    const id = (BigInt(seed) << 32n) | BigInt(k);
    const sectorNumber = k * 8 + seed * 2 ** 20;
    const handle = seed & 0xffff;
    const sel = ((k + seed) >>> 0) % 5;
    if (sel === 2) {
      blk.encodeBlkifRequest(view, off, {
        kind: 'discard', operation: blk.BLKIF_OP_DISCARD, flag: k & 1, handle, id, sectorNumber, nrSectors: 2 ** 33 + k,
      });
    } else if (sel === 3) {
      blk.encodeBlkifRequest(view, off, {
        kind: 'indirect', operation: blk.BLKIF_OP_INDIRECT, indirectOp: blk.BLKIF_OP_WRITE, nrSegments: k % 4096,
        id, sectorNumber, handle,
        indirectGrefs: Array.from({ length: blk.BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST }, (_, i) => (k + i * 0x10000) >>> 0),
      });
    } else {
      const flush = sel === 4;
      const nrSegments = flush ? 0 : 1 + (k % blk.BLKIF_MAX_SEGMENTS_PER_REQUEST);
      blk.encodeBlkifRequest(view, off, {
        kind: 'segments', operation: flush ? blk.BLKIF_OP_FLUSH_DISKCACHE : sel, nrSegments, handle, id, sectorNumber,
        seg: Array.from({ length: nrSegments }, (_, i) => ({ gref: (k * 16 + i) >>> 0, firstSect: i % 8, lastSect: 7 })),
      });
    }
  },
  showReq(view, k) {
    const r = blk.decodeBlkifRequest(view, 0);
    const u53 = (v: number): string => (Number.isSafeInteger(v) ? String(v) : 'unsafe');
    switch (r.kind) {
      case 'discard':
        return `req k=${k} op=${r.operation} flag=${r.flag} handle=${r.handle} id=${r.id} sector=${u53(r.sectorNumber)} nr_sectors=${u53(r.nrSectors)}`;
      case 'indirect':
        return `req k=${k} op=${r.operation} indirect_op=${r.indirectOp} nseg=${r.nrSegments} handle=${r.handle} id=${r.id} sector=${u53(r.sectorNumber)} grefs=${r.indirectGrefs.join(',')}`;
      case 'segments':
        return `req k=${k} op=${r.operation} nseg=${r.nrSegments} handle=${r.handle} id=${r.id} sector=${u53(r.sectorNumber)} seg=${r.seg.map((s) => `${s.gref}/${s.firstSect}/${s.lastSect}`).join(',')}`;
    }
  },
  fillRsp(view, off, k) {
    blk.encodeBlkifResponse(view, off, { id: 0xfeed000000000000n + BigInt(k), operation: k % 7, status: (k % 3) - 2 });
  },
  showRsp(view, k) {
    const r = blk.decodeBlkifResponse(view, 0);
    return `rsp k=${k} id=${r.id} op=${r.operation} status=${r.status}`;
  },
};

const probeCodec: Codec = {
  slotSize: PROBE_SLOT_SIZE,
  fillReq(view, off, k, seed) {
    view.setUint32(off, k, true);
    for (let i = 0; i < 4; i++) view.setUint32(off + 4 + 4 * i, (((k + seed) >>> 0) * (i + 1)) >>> 0, true);
  },
  showReq(view, k) {
    const data = [0, 1, 2, 3].map((i) => view.getUint32(4 + 4 * i, true));
    return `req k=${k} id=${view.getUint32(0, true)} data=${data.join(',')}`;
  },
  fillRsp(view, off, k) {
    view.setUint32(off, k, true);
    view.setInt32(off + 4, (k ^ 0x80000000) | 0, true);
  },
  showRsp(view, k) {
    return `rsp k=${k} id=${view.getUint32(0, true)} status=${view.getInt32(4, true)}`;
  },
};

const codecs: Record<RingKind, Codec> = { blkif: blkifCodec, probe: probeCodec };

/** The TS twin of abi_probe's interpreter. */
function runTs(kind: RingKind, mem: Uint8Array, ops: string[]): string[] {
  const codec = codecs[kind];
  const out: string[] = [];
  const copy = new Uint8Array(codec.slotSize);
  const copyView = new DataView(copy.buffer);
  const header = new Int32Array(mem.buffer, mem.byteOffset, SRING_RING >> 2);
  let f: FrontRing | undefined;
  let b: BackRing | undefined;
  const front = (): FrontRing => f ?? assert.fail('front ring used before front:');
  const back = (): BackRing => b ?? assert.fail('back ring used before back:');
  const bit = (v: boolean): number => (v ? 1 : 0);
  for (const op of ops) {
    const [name, ...rest] = op.split(':');
    const a = rest.map((s) => Number(s) >>> 0);
    switch (name) {
      case 'init':
        sharedRingInit(mem);
        break;
      case 'front':
        f = new FrontRing(mem, codec.slotSize, a[0]);
        f.rspCons = a[1]!;
        break;
      case 'back':
        b = new BackRing(mem, codec.slotSize, a[0]);
        b.reqCons = a[1]!;
        break;
      case 'poke':
        Atomics.store(header, Math.min(a[0]!, 3), a[1]! | 0);
        break;
      case 'produce':
        for (let i = 0; i < a[0]!; i++) {
          const r = front();
          codec.fillReq(r.view, r.slotOffset(r.reqProdPvt), r.reqProdPvt, a[1]!);
          r.reqProdPvt++;
        }
        break;
      case 'pushreq':
        out.push(`pushreq notify=${bit(front().pushRequestsAndCheckNotify())}`);
        break;
      case 'consume': {
        const r = back();
        let n = 0;
        while (n < a[0]! && r.hasUnconsumedRequests()) {
          r.copyRequest(r.reqCons, copy);
          out.push(codec.showReq(copyView, r.reqCons));
          r.reqCons++;
          n++;
        }
        out.push(`consumed ${n}`);
        break;
      }
      case 'respond':
        for (let i = 0; i < a[0]!; i++) {
          const r = back();
          codec.fillRsp(r.view, r.slotOffset(r.rspProdPvt), r.rspProdPvt);
          r.rspProdPvt++;
        }
        break;
      case 'pushrsp':
        out.push(`pushrsp notify=${bit(back().pushResponsesAndCheckNotify())}`);
        break;
      case 'collect': {
        const r = front();
        let n = 0;
        while (n < a[0]! && r.hasUnconsumedResponses()) {
          r.copyResponse(r.rspCons, copy);
          out.push(codec.showRsp(copyView, r.rspCons));
          r.rspCons++;
          n++;
        }
        out.push(`collected ${n}`);
        break;
      }
      case 'finalreq':
        out.push(`finalreq work=${bit(back().finalCheckForRequests(a[0]))}`);
        break;
      case 'finalrsp':
        out.push(`finalrsp work=${bit(front().finalCheckForResponses(a[0]))}`);
        break;
      case 'unconsumed':
        out.push(`unconsumed req=${back().hasUnconsumedRequests()} rsp=${front().hasUnconsumedResponses()}`);
        break;
      case 'free':
        out.push(`free ${front().freeRequests()} full=${bit(front().full())}`);
        break;
      case 'overflow': {
        const v = a[0]!;
        out.push(`overflow ${v} cons=${bit(back().requestConsOverflow(v))} reqprod=${bit(back().requestProdOverflow(v))} rspprod=${bit(front().responseProdOverflow(v))}`);
        break;
      }
      case 'state': {
        const fr = front();
        const br = back();
        out.push(`state size=${fr.nrEnts} front=${fr.reqProdPvt}:${fr.rspCons} back=${br.rspProdPvt}:${br.reqCons} shared=${fr.reqProd}:${fr.reqEvent}:${fr.rspProd}:${fr.rspEvent}`);
        break;
      }
      default:
        assert.fail(`unknown op ${op}`);
    }
  }
  return out;
}

interface Scenario {
  name: string;
  kind: RingKind;
  bytes: number;
  /** Each phase starts by re-attaching both halves where the previous phase left them. */
  phases: string[][];
}

const WRAP = 0xfffffff0;
const atIndex = (s: number): string[] => [
  'init', `poke:0:${s}`, `poke:1:${(s + 1) >>> 0}`, `poke:2:${s}`, `poke:3:${(s + 1) >>> 0}`, `front:${s}:${s}`, `back:${s}:${s}`,
];

const scenarios: Scenario[] = [
  {
    name: 'blkif, one page: batching, notify hold-off, full ring',
    kind: 'blkif', bytes: 4096,
    phases: [
      ['init', 'front:0:0', 'back:0:0', 'free', 'produce:5:7', 'pushreq', 'free', 'unconsumed'],
      ['consume:3', 'respond:3', 'pushrsp', 'finalreq:1', 'unconsumed'],
      ['collect:100', 'finalrsp:1', 'produce:2:8', 'pushreq'],
      ['consume:100', 'respond:4', 'pushrsp', 'finalreq:1'],
      ['collect:100', 'finalrsp:1', 'produce:8:9', 'pushreq', 'finalrsp:4'],
      ['consume:100', 'respond:3', 'pushrsp', 'respond:1', 'pushrsp', 'respond:4', 'pushrsp', 'finalreq:1'],
      ['collect:100', 'finalrsp:1', 'produce:32:1', 'free', 'pushreq'],
      ['consume:100', 'unconsumed', 'respond:32', 'pushrsp', 'finalreq:1'],
      ['collect:100', 'finalrsp:1', 'free'],
    ],
  },
  {
    name: 'blkif, one page: indices wrapping at 2^32',
    kind: 'blkif', bytes: 4096,
    phases: [
      [...atIndex(WRAP), 'produce:20:3', 'pushreq', `overflow:${WRAP + 20 - 2 ** 32}`],
      ['consume:100', 'respond:20', 'pushrsp', 'finalreq:1'],
      ['collect:100', 'finalrsp:1', 'produce:32:4', 'free', 'pushreq'],
      ['consume:10', 'respond:10', 'pushrsp', 'unconsumed'],
      ['collect:100', 'finalrsp:1', 'produce:10:5', 'pushreq'],
      ['consume:100', 'respond:32', 'pushrsp', 'finalreq:1'],
      ['collect:100', 'finalrsp:8', 'produce:9:6', 'pushreq'],
      ['consume:100', 'respond:7', 'pushrsp', 'respond:2', 'pushrsp', 'finalreq:2'],
    ],
  },
  {
    name: 'blkif, one page: req_event placements',
    kind: 'blkif', bytes: 4096,
    phases: [
      ['init', 'front:0:0', 'back:0:0', 'produce:1:1', 'pushreq', 'produce:1:1', 'pushreq', 'poke:1:3', 'produce:1:1',
        'pushreq', 'poke:1:10', 'produce:5:1', 'pushreq', 'produce:2:1', 'pushreq', 'poke:1:0xfffffff0', 'produce:1:1',
        'pushreq', 'poke:1:11', 'pushreq'],
      ['consume:100', 'respond:11', 'poke:3:0', 'pushrsp', 'finalreq:1'],
    ],
  },
  {
    name: 'blkif, one page: hostile req_prod',
    kind: 'blkif', bytes: 4096,
    phases: [
      [...atIndex(100), 'produce:3:1', 'pushreq'],
      ['poke:0:1100', 'unconsumed', 'overflow:1100', 'overflow:132', 'overflow:133', 'consume:1000', 'unconsumed',
        'finalreq:1', 'respond:32', 'unconsumed', 'poke:0:50', 'unconsumed', 'overflow:0xffffffff', 'consume:5',
        'poke:0:0xffffff00', 'unconsumed', 'finalreq:1'],
    ],
  },
  {
    name: 'probe ring (20-byte slots), two pages, wrapping',
    kind: 'probe', bytes: 8192,
    phases: [
      [...atIndex(0xffffff00), 'produce:200:11', 'pushreq', 'free'],
      ['consume:150', 'respond:150', 'pushrsp', 'finalreq:1'],
      ['collect:1000', 'finalrsp:2', 'produce:100:12', 'pushreq', 'free'],
      ['consume:1000', 'respond:100', 'pushrsp', 'respond:50', 'pushrsp', 'finalreq:1'],
      ['collect:1000', 'finalrsp:1'],
    ],
  },
  {
    name: 'blkif, four pages (ring-page-order 2)',
    kind: 'blkif', bytes: 16384,
    phases: [
      [...atIndex(0xffffffc0), 'produce:128:21', 'free', 'pushreq'],
      ['consume:1000', 'respond:64', 'pushrsp', 'unconsumed', 'finalreq:1'],
      ['collect:1000', 'finalrsp:1', 'free', 'produce:64:22', 'pushreq'],
      ['respond:128', 'pushrsp', 'consume:1000', 'finalreq:1'],
      ['collect:1000', 'finalrsp:1'],
    ],
  },
];

type Executor = 'ts' | 'c';

interface Run {
  transcript: string[];
  /** The ring memory after each phase. */
  memories: Uint8Array[];
}

function runScenario(sc: Scenario, executors: (phase: number) => Executor, probe: string, dir: string): Run {
  // Shared memory as in a real domain; a non-zero fill shows what init and the ops leave alone.
  const mem = new Uint8Array(new SharedArrayBuffer(sc.bytes));
  mem.fill(0xa5);
  const file = join(dir, `ring-${sc.kind}-${sc.bytes}.bin`);
  const run: Run = { transcript: [], memories: [] };
  let attach: string[] = [];
  sc.phases.forEach((phase, i) => {
    const ops = [...attach, ...phase, 'state'];
    const who = executors(i);
    let lines: string[];
    if (who === 'ts') {
      lines = runTs(sc.kind, mem, ops);
    } else {
      writeFileSync(file, mem);
      const r = spawnSync(probe, ['ring', sc.kind, file, String(sc.bytes), ...ops], { encoding: 'utf8' });
      assert.equal(r.status, 0, `abi_probe ring failed: ${r.stderr}`);
      lines = r.stdout.trimEnd().split('\n');
      mem.set(readFileSync(file));
    }
    const state = /^state size=\d+ front=(\d+):(\d+) back=(\d+):(\d+) /.exec(lines.at(-1) ?? '');
    assert.ok(state, `phase ${i} by ${who} ended without a state line: ${lines.at(-1)}`);
    attach = [`front:${state[1]}:${state[2]}`, `back:${state[3]}:${state[4]}`];
    run.transcript.push(`-- phase ${i}`, ...lines);
    run.memories.push(mem.slice());
  });
  return run;
}

/** A dump of the bytes where two memories differ, for a readable failure. */
function diffBytes(a: Uint8Array, b: Uint8Array): string[] {
  const diffs: string[] = [];
  for (let i = 0; i < a.length && diffs.length < 16; i++) {
    if (a[i] !== b[i]) diffs.push(`@${i}: ${a[i]} vs ${b[i]}`);
  }
  return diffs;
}

const unavailable = whyUnavailable();

test('src/abi conforms to the installed Xen public headers', async (t) => {
  if (unavailable) {
    console.log(`abi-conformance skipped: ${unavailable}`);
    t.skip(unavailable);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'xenode-abi-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  writeFileSync(join(dir, 'probe_layout.inc'), layout.map(([expr, v]) => `${typeof v === 'string' ? 'S' : 'N'}(${expr})\n`).join(''));
  const probe = join(dir, 'abi_probe');
  const cc = spawnSync('cc', ['-std=gnu11', '-O1', '-fno-strict-aliasing', '-Wall', '-I', dir, '-o', probe, PROBE_SOURCE], {
    encoding: 'utf8',
  });
  assert.equal(cc.status, 0, `compiling ${PROBE_SOURCE} failed:\n${cc.stderr}`);

  await t.test('sizeof, offsetof and constants match the TS exports', () => {
    const r = spawnSync(probe, ['layout'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const c = new Map(r.stdout.trimEnd().split('\n').map((line) => line.split('\t') as [string, string]));
    const mismatches = layout
      .filter(([expr, v]) => c.get(expr) !== String(v))
      .map(([expr, v]) => `${expr}: C says ${c.get(expr)}, TS says ${v}`);
    assert.deepEqual(mismatches, []);
    assert.equal(c.size, new Set(layout.map(([e]) => e)).size);
  });

  // The all-C run of each scenario: the reference for the TS runs and for the checks below.
  const references = new Map<Scenario, Run>();
  const reference = (sc: Scenario): Run => {
    let run = references.get(sc);
    if (!run) references.set(sc, (run = runScenario(sc, () => 'c', probe, dir)));
    return run;
  };

  for (const sc of scenarios) {
    await t.test(`ring: ${sc.name}`, () => {
      const ref = reference(sc);
      const schedules: Array<[string, (i: number) => Executor]> = [
        ['TS only', () => 'ts'],
        ['TS then C alternating', (i) => (i % 2 === 0 ? 'ts' : 'c')],
        ['C then TS alternating', (i) => (i % 2 === 0 ? 'c' : 'ts')],
      ];
      for (const [label, schedule] of schedules) {
        const run = runScenario(sc, schedule, probe, dir);
        assert.deepEqual(run.transcript, ref.transcript, `${label}: transcript differs from the RING_* macros`);
        run.memories.forEach((m, i) => {
          assert.deepEqual(diffBytes(m, ref.memories[i]!), [], `${label}: ring memory after phase ${i} differs`);
        });
      }
      assert.ok(ref.transcript.some((l) => l.startsWith('req ')), 'the scenario moved no requests');
    });
  }

  await t.test('ring: the notify decisions are the ones ring.h prescribes', () => {
    const [basic, , events, hostile] = scenarios.map(reference);
    const decisions = (r: Run): string[] => r.transcript.filter((l) => /^(pushreq|pushrsp|final|free|unconsumed)/.test(l));
    assert.deepEqual(decisions(basic!), [
      'free 32 full=0', 'pushreq notify=1', 'free 27 full=0', 'unconsumed req=5 rsp=0',
      // back answers 3 of 5; the front never asked for a wake-up beyond rsp_event=1, so it is told
      'pushrsp notify=1', 'finalreq work=1', 'unconsumed req=2 rsp=3',
      // front collects, re-arms rsp_event; its new requests need no event (back still busy: req_event=1)
      'finalrsp work=0', 'pushreq notify=0',
      'pushrsp notify=1', 'finalreq work=0',
      // the front asks to be woken only after 4 more responses
      'finalrsp work=0', 'pushreq notify=1', 'finalrsp work=0',
      'pushrsp notify=0', 'pushrsp notify=1', 'pushrsp notify=0', 'finalreq work=0',
      'finalrsp work=0', 'free 0 full=1', 'pushreq notify=1',
      'unconsumed req=0 rsp=0', 'pushrsp notify=1', 'finalreq work=0',
      'finalrsp work=0', 'free 32 full=0',
    ]);
    // The event index must fall in (old, new], in wrapping arithmetic; an empty push never notifies.
    assert.deepEqual(decisions(events!), [
      'pushreq notify=1', 'pushreq notify=0', 'pushreq notify=1', 'pushreq notify=0', 'pushreq notify=1',
      'pushreq notify=0', 'pushreq notify=0',
      'pushrsp notify=0', 'finalreq work=0',
    ]);
    // A req_prod far beyond the ring, or behind req_cons, yields at most the slots not awaiting a
    // response: 32, none once 32 are consumed unanswered, 27 with 5 outstanding.
    assert.deepEqual(decisions(hostile!), [
      'pushreq notify=1',
      'unconsumed req=32 rsp=0', 'unconsumed req=0 rsp=0', 'finalreq work=0', 'unconsumed req=32 rsp=0',
      'unconsumed req=32 rsp=0', 'unconsumed req=27 rsp=0', 'finalreq work=1',
    ]);
  });
});
