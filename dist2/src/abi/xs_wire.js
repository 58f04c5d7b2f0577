// enum xsd_sockmsg_type
export const XS_CONTROL = 0;
/** The old name of XS_CONTROL. */
export const XS_DEBUG = XS_CONTROL;
export const XS_DIRECTORY = 1;
export const XS_READ = 2;
export const XS_GET_PERMS = 3;
export const XS_WATCH = 4;
export const XS_UNWATCH = 5;
export const XS_TRANSACTION_START = 6;
export const XS_TRANSACTION_END = 7;
export const XS_INTRODUCE = 8;
export const XS_RELEASE = 9;
export const XS_GET_DOMAIN_PATH = 10;
export const XS_WRITE = 11;
export const XS_MKDIR = 12;
export const XS_RM = 13;
export const XS_SET_PERMS = 14;
export const XS_WATCH_EVENT = 15;
export const XS_ERROR = 16;
export const XS_IS_DOMAIN_INTRODUCED = 17;
export const XS_RESUME = 18;
export const XS_SET_TARGET = 19;
// 20 was XS_RESTRICT, removed from Xen.
export const XS_RESET_WATCHES = XS_SET_TARGET + 2;
export const XS_DIRECTORY_PART = 22;
/** Number of valid types. */
export const XS_TYPE_COUNT = 23;
/** Guaranteed to remain an invalid type. */
export const XS_INVALID = 0xffff;
/** Message type names by number, for logs ('' for numbers with no message). */
export const XS_TYPE_NAMES = [
    'CONTROL', 'DIRECTORY', 'READ', 'GET_PERMS', 'WATCH', 'UNWATCH', 'TRANSACTION_START',
    'TRANSACTION_END', 'INTRODUCE', 'RELEASE', 'GET_DOMAIN_PATH', 'WRITE', 'MKDIR', 'RM', 'SET_PERMS',
    'WATCH_EVENT', 'ERROR', 'IS_DOMAIN_INTRODUCED', 'RESUME', 'SET_TARGET', '', 'RESET_WATCHES',
    'DIRECTORY_PART',
];
export const XS_WRITE_NONE = 'NONE';
export const XS_WRITE_CREATE = 'CREATE';
export const XS_WRITE_CREATE_EXCL = 'CREATE|EXCL';
/** xsd_errors[], in the header's order (new errors are only ever appended). */
export const XSD_ERRORS = [
    'EINVAL', 'EACCES', 'EEXIST', 'EISDIR', 'ENOENT', 'ENOMEM', 'ENOSPC', 'EIO', 'ENOTEMPTY', 'ENOSYS',
    'EROFS', 'EBUSY', 'EAGAIN', 'EISCONN', 'E2BIG', 'EPERM',
];
// struct xsd_sockmsg: four little-endian uint32, then `len` payload bytes.
export const XSD_SOCKMSG_SIZE = 16;
export const XSD_SOCKMSG_TYPE = 0;
export const XSD_SOCKMSG_REQ_ID = 4;
export const XSD_SOCKMSG_TX_ID = 8;
export const XSD_SOCKMSG_LEN = 12;
export function readSockmsg(buf, off = 0) {
    const v = new DataView(buf.buffer, buf.byteOffset + off, XSD_SOCKMSG_SIZE);
    return {
        type: v.getUint32(XSD_SOCKMSG_TYPE, true),
        reqId: v.getUint32(XSD_SOCKMSG_REQ_ID, true),
        txId: v.getUint32(XSD_SOCKMSG_TX_ID, true),
        len: v.getUint32(XSD_SOCKMSG_LEN, true),
    };
}
export function writeSockmsg(buf, h, off = 0) {
    const v = new DataView(buf.buffer, buf.byteOffset + off, XSD_SOCKMSG_SIZE);
    v.setUint32(XSD_SOCKMSG_TYPE, h.type, true);
    v.setUint32(XSD_SOCKMSG_REQ_ID, h.reqId, true);
    v.setUint32(XSD_SOCKMSG_TX_ID, h.txId, true);
    v.setUint32(XSD_SOCKMSG_LEN, h.len, true);
}
// enum xs_watch_type: positions of the strings in a WATCH_EVENT payload.
export const XS_WATCH_PATH = 0;
export const XS_WATCH_TOKEN = 1;
/** Violating this is very bad (docs/misc/xenstore.txt): the daemon drops the connection. */
export const XENSTORE_PAYLOAD_MAX = 4096;
/** Violating these just gets you an error back. */
export const XENSTORE_ABS_PATH_MAX = 3072;
export const XENSTORE_REL_PATH_MAX = 2048;
// struct xenstore_domain_interface: the ring page shared by a guest and xenstored.
export const XENSTORE_RING_SIZE = 1024;
export function maskXenstoreIdx(idx) {
    return idx & (XENSTORE_RING_SIZE - 1);
}
export const XS_INTF_REQ = 0;
export const XS_INTF_RSP = XS_INTF_REQ + XENSTORE_RING_SIZE;
export const XS_INTF_REQ_CONS = XS_INTF_RSP + XENSTORE_RING_SIZE;
export const XS_INTF_REQ_PROD = XS_INTF_REQ_CONS + 4;
export const XS_INTF_RSP_CONS = XS_INTF_REQ_PROD + 4;
export const XS_INTF_RSP_PROD = XS_INTF_RSP_CONS + 4;
export const XS_INTF_SERVER_FEATURES = XS_INTF_RSP_PROD + 4;
export const XS_INTF_CONNECTION = XS_INTF_SERVER_FEATURES + 4;
export const XS_INTF_ERROR = XS_INTF_CONNECTION + 4;
/** sizeof(struct xenstore_domain_interface). */
export const XS_INTF_SIZE = XS_INTF_ERROR + 4;
/** The ability to reconnect a ring. */
export const XENSTORE_SERVER_FEATURE_RECONNECTION = 1;
/** The presence of the "error" field in the ring page. */
export const XENSTORE_SERVER_FEATURE_ERROR = 2;
// Values of the `connection` field.
export const XENSTORE_CONNECTED = 0;
export const XENSTORE_RECONNECT = 1;
// Values of the `error` field.
export const XENSTORE_ERROR_NONE = 0;
export const XENSTORE_ERROR_COMM = 1;
export const XENSTORE_ERROR_RINGIDX = 2;
export const XENSTORE_ERROR_PROTO = 3;
//# sourceMappingURL=xs_wire.js.map