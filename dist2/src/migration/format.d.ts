/** xl's save-file magic: 32 octets, NULs included. */
export declare const XL_MAGIC: Buffer<ArrayBuffer>;
export declare const XL_HEADER_BYTES = 48;
export declare const XL_BYTEORDER = 16909060;
export declare const XL_MANDATORY_FLAG_JSON: number;
export declare const XL_MANDATORY_FLAG_STREAMv2: number;
export declare const XL_MANDATORY_FLAG_ALL: number;
/** libxl: "LibxlFmt", big-endian, version 2. */
export declare const LIBXL_IDENT = 5506040288789294452n;
export declare const LIBXL_VERSION = 2;
export declare const LIBXL_OPT_BIG_ENDIAN: number;
export declare const LIBXL_OPT_LEGACY: number;
export declare const LIBXL_END = 0;
export declare const LIBXL_LIBXC_CONTEXT = 1;
export declare const LIBXL_EMULATOR_XENSTORE_DATA = 2;
export declare const LIBXL_CHECKPOINT_END = 4;
/** xenode's optional libxl record: the guest's own xenstore data (`data/`), packed as EMULATOR_XENSTORE_DATA's pairs. */
export declare const LIBXL_XENODE_XENSTORE_DATA = 2147483649;
/** libxc: marker, "XENF", version 3 (big-endian image header). */
export declare const XC_MARKER = 18446744073709551615n;
export declare const XC_ID = 1480937030;
export declare const XC_VERSION = 3;
export declare const XC_OPT_BIG_ENDIAN: number;
/** The domain header's type for a xenode domain (0x3 up is reserved by Xen; "xeno" in ASCII). */
export declare const DHDR_TYPE_XENODE = 2019913327;
export declare const PAGE_SHIFT = 12;
/** The Xen interface version xenode follows, for the domain header. */
export declare const XEN_MAJOR = 4;
export declare const XEN_MINOR = 19;
export declare const REC_END = 0;
export declare const REC_PAGE_DATA = 1;
export declare const REC_SHARED_INFO = 7;
export declare const REC_VERIFY = 13;
export declare const REC_STATIC_DATA_END = 16;
/** Bit 31: optional records, which a restorer may skip. */
export declare const REC_OPTIONAL = 2147483648;
/** xenode's: where the guest's suspend record is (pfn, bytes), as X86_PV_VCPU_BASIC carries a PV guest's start_info frame. */
export declare const REC_XENODE_SUSPEND_RECORD = 2147483649;
/** PAGE_DATA's type bits (XEN_DOMCTL_PFINFO_* << 32): a normal page, allocate only, invalid. */
export declare const PFINFO_NOTAB = 0;
export declare const PFINFO_XALLOC = 14;
export declare const PFINFO_XTAB = 15;
export declare const PFN_MASK: bigint;
/** libxc's batch size: at most this many pages per PAGE_DATA record. */
export declare const MAX_BATCH_PAGES = 1024;
export declare function padded(length: number): number;
/** One record of libxl's or libxc's layer: header, body, zero padding. */
export declare function record(type: number, body?: readonly Uint8Array[]): Buffer[];
/**
 * xl's migration handshake (tools/xl/xl.h): the receiver's banner (sent without its NUL), then
 * after the stream the receiver's ready message, the sender's permission to go, the
 * receiver's report (each with its NUL, as xl sends sizeof()) and one status octet.
 */
export declare const MIGRATE_RECEIVER_BANNER: Buffer<ArrayBuffer>;
export declare const MIGRATE_RECEIVER_READY: Buffer<ArrayBuffer>;
export declare const MIGRATE_PERMISSION_TO_GO: Buffer<ArrayBuffer>;
export declare const MIGRATE_REPORT: Buffer<ArrayBuffer>;
