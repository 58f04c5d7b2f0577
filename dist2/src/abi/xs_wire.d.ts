import type { XenErrnoName } from '../errors.js';
export declare const XS_CONTROL = 0;
/** The old name of XS_CONTROL. */
export declare const XS_DEBUG = 0;
export declare const XS_DIRECTORY = 1;
export declare const XS_READ = 2;
export declare const XS_GET_PERMS = 3;
export declare const XS_WATCH = 4;
export declare const XS_UNWATCH = 5;
export declare const XS_TRANSACTION_START = 6;
export declare const XS_TRANSACTION_END = 7;
export declare const XS_INTRODUCE = 8;
export declare const XS_RELEASE = 9;
export declare const XS_GET_DOMAIN_PATH = 10;
export declare const XS_WRITE = 11;
export declare const XS_MKDIR = 12;
export declare const XS_RM = 13;
export declare const XS_SET_PERMS = 14;
export declare const XS_WATCH_EVENT = 15;
export declare const XS_ERROR = 16;
export declare const XS_IS_DOMAIN_INTRODUCED = 17;
export declare const XS_RESUME = 18;
export declare const XS_SET_TARGET = 19;
export declare const XS_RESET_WATCHES: number;
export declare const XS_DIRECTORY_PART = 22;
/** Number of valid types. */
export declare const XS_TYPE_COUNT = 23;
/** Guaranteed to remain an invalid type. */
export declare const XS_INVALID = 65535;
/** Message type names by number, for logs ('' for numbers with no message). */
export declare const XS_TYPE_NAMES: readonly string[];
export declare const XS_WRITE_NONE = "NONE";
export declare const XS_WRITE_CREATE = "CREATE";
export declare const XS_WRITE_CREATE_EXCL = "CREATE|EXCL";
/** xsd_errors[], in the header's order (new errors are only ever appended). */
export declare const XSD_ERRORS: readonly XenErrnoName[];
export declare const XSD_SOCKMSG_SIZE = 16;
export declare const XSD_SOCKMSG_TYPE = 0;
export declare const XSD_SOCKMSG_REQ_ID = 4;
export declare const XSD_SOCKMSG_TX_ID = 8;
export declare const XSD_SOCKMSG_LEN = 12;
export interface XsdSockmsg {
    type: number;
    reqId: number;
    txId: number;
    len: number;
}
export declare function readSockmsg(buf: Uint8Array, off?: number): XsdSockmsg;
export declare function writeSockmsg(buf: Uint8Array, h: XsdSockmsg, off?: number): void;
export declare const XS_WATCH_PATH = 0;
export declare const XS_WATCH_TOKEN = 1;
/** Violating this is very bad (docs/misc/xenstore.txt): the daemon drops the connection. */
export declare const XENSTORE_PAYLOAD_MAX = 4096;
/** Violating these just gets you an error back. */
export declare const XENSTORE_ABS_PATH_MAX = 3072;
export declare const XENSTORE_REL_PATH_MAX = 2048;
export declare const XENSTORE_RING_SIZE = 1024;
export declare function maskXenstoreIdx(idx: number): number;
export declare const XS_INTF_REQ = 0;
export declare const XS_INTF_RSP: number;
export declare const XS_INTF_REQ_CONS: number;
export declare const XS_INTF_REQ_PROD: number;
export declare const XS_INTF_RSP_CONS: number;
export declare const XS_INTF_RSP_PROD: number;
export declare const XS_INTF_SERVER_FEATURES: number;
export declare const XS_INTF_CONNECTION: number;
export declare const XS_INTF_ERROR: number;
/** sizeof(struct xenstore_domain_interface). */
export declare const XS_INTF_SIZE: number;
/** The ability to reconnect a ring. */
export declare const XENSTORE_SERVER_FEATURE_RECONNECTION = 1;
/** The presence of the "error" field in the ring page. */
export declare const XENSTORE_SERVER_FEATURE_ERROR = 2;
export declare const XENSTORE_CONNECTED = 0;
export declare const XENSTORE_RECONNECT = 1;
export declare const XENSTORE_ERROR_NONE = 0;
export declare const XENSTORE_ERROR_COMM = 1;
export declare const XENSTORE_ERROR_RINGIDX = 2;
export declare const XENSTORE_ERROR_PROTO = 3;
