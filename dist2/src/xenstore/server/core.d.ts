import type { Buffer } from 'node:buffer';
import { Connection, type ConnectionOwner } from './connection.js';
import { Domain } from './domain.js';
import { Perms } from './perms.js';
import type { Quotas } from './quota.js';
import { Store } from './store.js';
import type { DomainRing } from '../common/ring.js';
import type { CloseReason, IntroduceHook, SendBytes, ServeRing } from './transport.js';
import { type Change, LiveView, type Transaction } from './view.js';
import { WatchTable } from './watches.js';
export declare const INTRODUCE_DOMAIN = "@introduceDomain";
/** A change firing more watches than this has its events delivered over several turns. */
export declare const FIRE_AT_ONCE = 1024;
export declare const RELEASE_DOMAIN = "@releaseDomain";
export interface CoreLimits {
    /** Unread replies/events an unprivileged connection may accumulate before it is dropped. */
    outstanding: number;
    /** Unread output bytes any connection may accumulate before it is dropped. */
    maxOutputBytes: number;
    /** Unread output bytes of all connections together; a connection adding beyond it is dropped. */
    maxTotalOutputBytes: number;
}
/** Answers one request of `conn` (requests.ts's handleRequest is xenstored's). */
export type Dispatcher = (core: XenstoreCore, conn: Connection, type: number, reqId: number, txId: number, payload: Buffer) => void;
export interface CoreOptions {
    quotas: Quotas;
    /** Unread output bytes any connection may accumulate before it is dropped. */
    maxOutputBytes: number;
    /** Unread output bytes of all connections together; a connection adding beyond it is dropped. */
    maxTotalOutputBytes: number;
    /** Whether the hypervisor has a domain (for permissions that name one). */
    domainExists: (domid: number) => boolean;
    log: (line: string) => void;
    /** Maps a guest's ring for a wire XS_INTRODUCE; without it the domain gets no ring. */
    introduce: IntroduceHook | undefined;
    /** The request table. */
    dispatch: Dispatcher;
    /** Attaches a connection to a domain's ring page (server/ring.ts's serveRing). */
    serveRing: ServeRing;
}
export declare class XenstoreCore implements ConnectionOwner {
    #private;
    readonly store: Store;
    readonly live: LiveView;
    readonly watches: WatchTable<Connection>;
    readonly domains: Map<number, Domain>;
    readonly connections: Set<Connection>;
    /** Permissions of the special watch paths: who hears of domains coming and going. */
    readonly specialPerms: Map<string, Perms>;
    /** INTRODUCEs waiting for the host to map a ring. */
    readonly introducing: Set<number>;
    tracing: boolean;
    readonly quotas: Quotas;
    readonly log: (line: string) => void;
    readonly introduceHook: IntroduceHook | undefined;
    readonly limits: CoreLimits;
    constructor(opts: CoreOptions);
    wake(conn: Connection): void;
    addUnread(delta: number): number;
    domain(domid: number): Domain;
    isIntroduced(domid: number): boolean;
    connect(domid: number, send: SendBytes, privileged: boolean, onDrop: (reason: CloseReason) => void): Connection;
    dispatch(conn: Connection, type: number, reqId: number, txId: number, payload: Buffer): void;
    forget(conn: Connection): void;
    trace(conn: Connection, dir: 'IN' | 'OUT', msg: Buffer): void;
    /** Deliver a change to the watches it fires, as far as each watcher may read the node. */
    fire(c: Change): void;
    fireSpecial(name: string): void;
    /** Commit `tx` for `conn` (quota check, then conflict check and apply), firing its watches. */
    commit(conn: Connection, tx: Transaction): void;
    /** Register a domain (with its ring, if it has one) and tell @introduceDomain watchers. */
    introduce(domid: number, ring: DomainRing | undefined): Connection | undefined;
    /**
     * The domain is gone: drop its connections (with their watches and transactions), remove
     * the nodes it owns and the ACL entries naming it (its id may be reused), tell
     * @releaseDomain watchers.
     */
    release(domid: number): void;
    /**
     * Whether `domid` exists, for permissions that name it (cxenstored domain_alloc_permrefs):
     * xenstored knows it, or the hypervisor does.
     */
    domainExists(domid: number): boolean;
    /** CONTROL check: every node's parent lists it and every listed child exists. */
    check(): string[];
}
