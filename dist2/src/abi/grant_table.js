// Grant table v1 (xen/grant_table.h): entry layout, flags, operations and status codes.
export const GRANT_ENTRY_V1_SIZE = 8;
/** struct grant_entry_v1 { uint16_t flags; domid_t domid; uint32_t frame; } */
export const GNTENT_FLAGS = 0;
export const GNTENT_DOMID = 2;
export const GNTENT_FRAME = 4;
export const GRANT_ENTRIES_PER_FRAME = 4096 / GRANT_ENTRY_V1_SIZE;
export const GTF_invalid = 0;
export const GTF_permit_access = 1;
export const GTF_accept_transfer = 2;
export const GTF_transitive = 3;
export const GTF_type_mask = 3;
export const GTF_readonly = 1 << 2;
export const GTF_reading = 1 << 3;
export const GTF_writing = 1 << 4;
export const GTF_PWT = 1 << 5;
export const GTF_PCD = 1 << 6;
export const GTF_PAT = 1 << 7;
export const GTF_sub_page = 1 << 8;
export const GTF_transfer_committed = 1 << 2;
export const GTF_transfer_completed = 1 << 3;
export const GNTMAP_device_map = 1 << 0;
export const GNTMAP_host_map = 1 << 1;
export const GNTMAP_readonly = 1 << 2;
export const GNTMAP_application_map = 1 << 3;
export const GNTMAP_contains_pte = 1 << 4;
export const GNTCOPY_source_gref = 1 << 0;
export const GNTCOPY_dest_gref = 1 << 1;
export const GNTTABOP_map_grant_ref = 0;
export const GNTTABOP_unmap_grant_ref = 1;
export const GNTTABOP_setup_table = 2;
export const GNTTABOP_dump_table = 3;
export const GNTTABOP_transfer = 4;
export const GNTTABOP_copy = 5;
export const GNTTABOP_query_size = 6;
export const GNTTABOP_unmap_and_replace = 7;
export const GNTTABOP_set_version = 8;
export const GNTTABOP_get_status_frames = 9;
export const GNTTABOP_get_version = 10;
export const GNTST_okay = 0;
export const GNTST_general_error = -1;
export const GNTST_bad_domain = -2;
export const GNTST_bad_gntref = -3;
export const GNTST_bad_handle = -4;
export const GNTST_bad_virt_addr = -5;
export const GNTST_bad_dev_addr = -6;
export const GNTST_no_device_space = -7;
export const GNTST_permission_denied = -8;
export const GNTST_bad_page = -9;
export const GNTST_bad_copy_arg = -10;
export const GNTST_address_too_big = -11;
export const GNTST_eagain = -12;
export const GNTST_no_space = -13;
/** The GNTST_* symbol names, indexed by -status (GNTTABOP_error_msgs has the same count). */
export const GNTST_NAMES = [
    'GNTST_okay', 'GNTST_general_error', 'GNTST_bad_domain', 'GNTST_bad_gntref',
    'GNTST_bad_handle', 'GNTST_bad_virt_addr', 'GNTST_bad_dev_addr', 'GNTST_no_device_space',
    'GNTST_permission_denied', 'GNTST_bad_page', 'GNTST_bad_copy_arg', 'GNTST_address_too_big',
    'GNTST_eagain', 'GNTST_no_space',
];
export function gntstName(status) {
    return GNTST_NAMES[-status] ?? 'GNTST_general_error';
}
/** A grant operation failed; `status` is the GNTST_* code Xen would return. */
export class GrantError extends Error {
    status;
    detail;
    name = 'GrantError';
    constructor(status, detail) {
        super(`${gntstName(status)}: ${detail}`);
        this.status = status;
        this.detail = detail;
    }
    get statusName() {
        return gntstName(this.status);
    }
}
//# sourceMappingURL=grant_table.js.map