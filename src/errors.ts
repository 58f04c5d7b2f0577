// Typed errors shared by every layer. Names and numbers are Xen's (xen/errno.h), so an error
// that crosses a wire (xenstore ERROR replies, XenAPI) keeps the name a Xen engineer expects.

export const XEN_ERRNO = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, ENOEXEC: 8, EBADF: 9,
  EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, EBUSY: 16, EEXIST: 17, EXDEV: 18,
  ENODEV: 19, EISDIR: 21, EINVAL: 22, ENFILE: 23, EMFILE: 24, ENOSPC: 28, EROFS: 30,
  EMLINK: 31, ERANGE: 34, EDEADLK: 35, ENAMETOOLONG: 36, ENOSYS: 38, ENOTEMPTY: 39,
  ENODATA: 61, ETIME: 62, EBADMSG: 74, EOVERFLOW: 75, ENOTCONN: 107, EISCONN: 106,
  EOPNOTSUPP: 95, EADDRINUSE: 98, EADDRNOTAVAIL: 99, ETIMEDOUT: 110, ECONNREFUSED: 111,
} as const;

export type XenErrnoName = keyof typeof XEN_ERRNO;

/** An operation failed with one of Xen's errno values. */
export class XenError extends Error {
  override name = 'XenError';
  constructor(readonly errno: XenErrnoName, readonly detail: string) {
    super(`${errno}: ${detail}`);
  }
  get errnoValue(): number {
    return XEN_ERRNO[this.errno];
  }

  /**
   * The same error without a stack trace, for an everyday answer on a wire (xenstored's ENOENT
   * for a missing node, EACCES, EAGAIN) rather than a fault for a person to trace: capturing
   * the stack cost 5-10x the request it answered.
   */
  static quiet(errno: XenErrnoName, detail: string): XenError {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return new XenError(errno, detail);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }
}

export function isXenError(e: unknown, errno?: XenErrnoName): e is XenError {
  return e instanceof XenError && (errno === undefined || e.errno === errno);
}
