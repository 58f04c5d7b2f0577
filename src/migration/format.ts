// The three layers of a Xen save image or migration stream, as xl, libxl and libxc write them
// (tools/xl/xl.h; docs/specs/libxl-migration-stream.pandoc and libxc-migration-stream.pandoc):
// xl's save-file header with the domain configuration as optional data, then libxl's stream
// (LibxlFmt), whose LIBXC_CONTEXT record hands over to libxc's (XENF), whose records carry the
// memory. Records of both inner layers are (type, body_length) with the body padded to 8 octets.

/** xl's save-file magic: 32 octets, NULs included. */
export const XL_MAGIC = Buffer.from('Xen saved domain, xl format\n \0 \r', 'latin1');
export const XL_HEADER_BYTES = 48;
export const XL_BYTEORDER = 0x01020304;
export const XL_MANDATORY_FLAG_JSON = 1 << 0;
export const XL_MANDATORY_FLAG_STREAMv2 = 1 << 1;
export const XL_MANDATORY_FLAG_ALL = XL_MANDATORY_FLAG_JSON | XL_MANDATORY_FLAG_STREAMv2;

/** libxl: "LibxlFmt", big-endian, version 2. */
export const LIBXL_IDENT = 0x4c6962786c466d74n;
export const LIBXL_VERSION = 2;
export const LIBXL_OPT_BIG_ENDIAN = 1 << 0;
export const LIBXL_OPT_LEGACY = 1 << 1;
export const LIBXL_END = 0x0;
export const LIBXL_LIBXC_CONTEXT = 0x1;
export const LIBXL_EMULATOR_XENSTORE_DATA = 0x2;
export const LIBXL_CHECKPOINT_END = 0x4;
/** xenode's optional libxl record: the guest's own xenstore data (`data/`), packed as EMULATOR_XENSTORE_DATA's pairs. */
export const LIBXL_XENODE_XENSTORE_DATA = 0x80000001;

/** libxc: marker, "XENF", version 3 (big-endian image header). */
export const XC_MARKER = 0xffffffffffffffffn;
export const XC_ID = 0x58454e46;
export const XC_VERSION = 3;
export const XC_OPT_BIG_ENDIAN = 1 << 0;
/** The domain header's type for a xenode domain (0x3 up is reserved by Xen; "xeno" in ASCII). */
export const DHDR_TYPE_XENODE = 0x78656e6f;
export const PAGE_SHIFT = 12;
/** The Xen interface version xenode follows, for the domain header. */
export const XEN_MAJOR = 4;
export const XEN_MINOR = 19;

export const REC_END = 0x0;
export const REC_PAGE_DATA = 0x1;
export const REC_SHARED_INFO = 0x7;
export const REC_VERIFY = 0xd;
export const REC_STATIC_DATA_END = 0x10;
/** Bit 31: optional records, which a restorer may skip. */
export const REC_OPTIONAL = 0x80000000;
/** xenode's: where the guest's suspend record is (pfn, bytes), as X86_PV_VCPU_BASIC carries a PV guest's start_info frame. */
export const REC_XENODE_SUSPEND_RECORD = 0x80000001;
/**
 * xenode's, empty: the sender asks whether the stream so far is in. A live migration's receiver
 * answers MIGRATE_XENODE_SYNCED once it has read this far (a file restore skips it), as COLO's
 * secondary answers its primary's checkpoint records on libxl's back channel.
 */
export const REC_XENODE_SYNC = 0x80000002;
/** Sync records a stream may carry (each is answered: a bound on what a sender can make us write). */
export const MAX_SYNC_RECORDS = 16;

/** PAGE_DATA's type bits (XEN_DOMCTL_PFINFO_* << 32): a normal page, allocate only, invalid. */
export const PFINFO_NOTAB = 0x0;
export const PFINFO_XALLOC = 0xe;
export const PFINFO_XTAB = 0xf;
/** libxc's batch size: at most this many pages per PAGE_DATA record. */
export const MAX_BATCH_PAGES = 1024;

export function padded(length: number): number {
  return (length + 7) & ~7;
}

/** One record of libxl's or libxc's layer: header, body, zero padding. */
export function record(type: number, body: readonly Uint8Array[] = []): Buffer[] {
  const length = body.reduce((n, b) => n + b.length, 0);
  const hdr = Buffer.alloc(8);
  hdr.writeUInt32LE(type >>> 0, 0);
  hdr.writeUInt32LE(length, 4);
  const pad = padded(length) - length;
  return pad ? [hdr, ...body.map((b) => Buffer.from(b.buffer, b.byteOffset, b.length)), Buffer.alloc(pad)] : [hdr, ...body.map((b) => Buffer.from(b.buffer, b.byteOffset, b.length))];
}

/**
 * xl's migration handshake (tools/xl/xl.h): the receiver's banner (sent without its NUL), then
 * after the stream the receiver's ready message, the sender's permission to go, the
 * receiver's report (each with its NUL, as xl sends sizeof()) and one status octet.
 */
export const MIGRATE_RECEIVER_BANNER = Buffer.from('xl migration receiver ready, send binary domain data.\n', 'latin1');
export const MIGRATE_RECEIVER_READY = Buffer.from('domain received, ready to unpause\0', 'latin1');
export const MIGRATE_PERMISSION_TO_GO = Buffer.from('domain is yours, you are cleared to unpause\0', 'latin1');
export const MIGRATE_REPORT = Buffer.from('my copy unpause results are as follows\0', 'latin1');

/**
 * xenode's own message between the banner and the ready message (xl has none there): the
 * receiver has built NAME--incoming and its runtime is parked, so the sender stops the guest
 * only once nothing but the last frames and the resume are left to do at the target.
 */
export const MIGRATE_XENODE_BUILT = Buffer.from('xenode migration receiver: domain built, ready for the stop-and-copy\0', 'latin1');
/**
 * What the receiver sends instead when it will not build the domain (a name clash, a refused
 * configuration, a build or a parked restore that failed): this, the error's errno name, a
 * space, its text and a newline; then it closes. The sender fails with that error, its guest
 * never stopped.
 */
export const MIGRATE_XENODE_REFUSED = Buffer.from('xenode migration receiver: domain refused: ', 'latin1');
/**
 * The receiver's answer to a sync record (REC_XENODE_SYNC), after the built message: everything
 * sent before it has been read into the domain. The sender stops the guest only then, so that
 * the stop-and-copy does not wait behind the pre-copy's tail in the sockets' buffers.
 */
export const MIGRATE_XENODE_SYNCED = Buffer.from('xenode migration receiver: stream in, ready to stop\0', 'latin1');
