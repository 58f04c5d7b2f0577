// Where the XenAPI service keeps its files in a host's state dir.
import { join } from 'node:path';

export interface XapiPaths {
  /** Plain HTTP for local clients; root needs no password here. */
  readonly socket: string;
  readonly cert: string;
  readonly key: string;
  /** Every state-changing call and login (audit.ts), rotated as audit.log.1, .2. */
  readonly audit: string;
  /**
   * Kernels XenAPI callers may name (VM.create's PV_kernel), as XAPI's /var/lib/xcp/guest/; it
   * may be a link to a directory (the shipped examples/), whose files are then the kernels.
   */
  readonly kernels: string;
}

export function xapiPaths(stateDir: string): XapiPaths {
  return {
    socket: join(stateDir, 'xapi.sock'),
    cert: join(stateDir, 'xapi-cert.pem'),
    key: join(stateDir, 'xapi-key.pem'),
    audit: join(stateDir, 'audit.log'),
    kernels: join(stateDir, 'guest'),
  };
}
