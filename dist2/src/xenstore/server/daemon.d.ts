import type { XsConnection } from './connection.js';
import { type Quotas } from './quota.js';
import type { DomainRing } from '../common/ring.js';
import type { CloseReason, IntroduceHook, SendBytes } from './transport.js';
export type { XsConnection } from './connection.js';
export type { Quotas } from './quota.js';
export interface XenstoredOptions {
    /** Per-domain quotas (cxenstored's names and defaults otherwise). */
    quotas?: Partial<Quotas>;
    /** Receives log lines: dropped connections, CONTROL print, and message traces after CONTROL log on. */
    log?: (line: string) => void;
    /**
     * Maps a guest's xenstore ring for a wire XS_INTRODUCE (domid, mfn, port). Without it, an
     * INTRODUCE registers the domain with no ring.
     */
    introduce?: IntroduceHook;
    /**
     * Whether a domain exists (the hypervisor's domain lookup): SET_PERMS may not name as owner a
     * domain that does not, and ACL entries naming one grant nothing. Without it, every domain id
     * counts as existing (a xenstored with no hypervisor behind it).
     */
    domainExists?: (domid: number) => boolean;
    /** Unread output bytes any connection may accumulate before it is dropped (default 2 MiB). */
    maxOutputBytes?: number;
    /** Unread output bytes of all connections together (default 64 MiB): a connection adding past it is dropped. */
    maxTotalOutputBytes?: number;
}
export interface ConnectOptions {
    /** dom0 rights (default: domid 0 is privileged, others are not). */
    privileged?: boolean;
    /** Called when xenstored drops the connection, with the XENSTORE_ERROR_* reason (0: domain released). */
    onClose?: (reason: CloseReason) => void;
}
export declare class Xenstored {
    #private;
    constructor(opts?: XenstoredOptions);
    /** A connection for a transport: the transport pushes received bytes in and gets reply bytes out through `send`. */
    connect(domid: number, send: SendBytes, opts?: ConnectOptions): XsConnection;
    /**
     * The toolstack introduces a domain (with its mapped ring page and event channel, if it has
     * one); fires @introduceDomain. Returns the domain's ring connection. Introducing a domain
     * twice changes nothing.
     */
    introduceDomain(domid: number, ring?: DomainRing): XsConnection | undefined;
    /**
     * The domain is gone: its connections, watches and transactions go, the nodes it owns are
     * removed, and @releaseDomain fires. Throws ENOENT if it was not introduced.
     */
    releaseDomain(domid: number): void;
    isIntroduced(domid: number): boolean;
    /** Serve a Unix socket (mode 0600); every client of it is dom0, as in Xen. */
    listen(socketPath: string): Promise<void>;
    /** Stop listening and drop every connection. */
    close(): Promise<void>;
}
