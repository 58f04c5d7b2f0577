// xenstored's state and the operations that span connections: the store, watches and their
// delivery, domains (introduce, release, SET_TARGET), and the connections themselves. The core
// is given its request table and its ring transport when it is built (daemon.ts does that), as
// ocaml-xenstore's server is a functor over its transport: it imports neither.
import type { Buffer } from 'node:buffer';
import { XENSTORE_ERROR_NONE, XS_TYPE_NAMES } from '../../abi/xs_wire.js';
import { XenError } from '../../errors.js';
import { Connection, type ConnectionOwner } from './connection.js';
import { Domain } from './domain.js';
import { removeNode } from './nodeops.js';
import { baseName, childPath, parentPath, printable } from '../common/path.js';
import { type Accessor, Perms, XS_PERM_READ, permFor } from './perms.js';
import type { Quotas } from './quota.js';
import { type Job, Scheduler } from './scheduler.js';
import { Children } from './children.js';
import { Node, Store } from './store.js';
import type { DomainRing } from '../common/ring.js';
import type { CloseReason, IntroduceHook, SendBytes, ServeRing } from './transport.js';
import { type Change, LiveView, type Transaction } from './view.js';
import { type Watch, WatchTable } from './watches.js';

export const INTRODUCE_DOMAIN = '@introduceDomain';
/** A change firing more watches than this has its events delivered over several turns. */
export const FIRE_AT_ONCE = 1024;
export const RELEASE_DOMAIN = '@releaseDomain';

/** A change being delivered: its watches, how far delivery got, and the events each got. */
interface Firing {
  readonly c: Change;
  /** In owner order (WatchTable.matching), so one owner's events are delivered together. */
  readonly found: readonly Watch<Connection>[];
  at: number;
  /** The owner being delivered to, its first event, and the events it got once it has two. */
  owner?: Connection;
  first?: { path: string; token: Buffer };
  seen?: Set<string>;
}

const eventKey = (path: string, token: Buffer): string => `${path}\0${token.toString('latin1')}`;

/** xenstored itself, for the work it does on its own behalf (releasing a domain's nodes). */
const DAEMON: Accessor = { domid: 0, privileged: true, target: undefined };

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

export class XenstoreCore implements ConnectionOwner {
  readonly store = new Store();
  readonly live: LiveView;
  readonly watches = new WatchTable<Connection>();
  readonly domains = new Map<number, Domain>();
  readonly connections = new Set<Connection>();
  /** Each introduced domain's connection over its xenstore ring page, by domid. */
  readonly #rings = new Map<number, Connection>();
  /** Permissions of the special watch paths: who hears of domains coming and going. */
  readonly specialPerms = new Map<string, Perms>([[INTRODUCE_DOMAIN, Perms.owned(0)], [RELEASE_DOMAIN, Perms.owned(0)]]);
  /** INTRODUCEs waiting for the host to map a ring. */
  readonly introducing = new Set<number>();
  tracing = false;
  #connSeq = 0;
  readonly #scheduler = new Scheduler();
  /** Unread output bytes of all connections. */
  #unread = 0;

  readonly quotas: Quotas;
  readonly log: (line: string) => void;
  readonly introduceHook: IntroduceHook | undefined;
  readonly limits: CoreLimits;
  readonly #dispatch: Dispatcher;
  readonly #serveRing: ServeRing;
  readonly #domainExists: (domid: number) => boolean;

  constructor(opts: CoreOptions) {
    this.quotas = opts.quotas;
    this.log = opts.log;
    this.introduceHook = opts.introduce;
    const quotas = opts.quotas;
    this.limits = {
      get outstanding() { return quotas.outstanding; },
      maxOutputBytes: opts.maxOutputBytes,
      maxTotalOutputBytes: opts.maxTotalOutputBytes,
    };
    this.#dispatch = opts.dispatch;
    this.#serveRing = opts.serveRing;
    this.#domainExists = opts.domainExists;
    this.live = new LiveView(this.store, (c) => this.fire(c));
    // cxenstored's initial tree.
    const root = Perms.owned(0);
    this.store.set('/', Node.empty(root).withChildren(Children.of('tool')));
    this.store.set('/tool', Node.empty(root).withChildren(Children.of('xenstored')));
    this.store.set('/tool/xenstored', Node.empty(root));
    this.domain(0).introduced = true;
  }

  wake(conn: Connection): void {
    this.#scheduler.wake(conn);
  }

  addUnread(delta: number): number {
    this.#unread += delta;
    return this.#unread;
  }

  domain(domid: number): Domain {
    let d = this.domains.get(domid);
    if (d === undefined) {
      d = new Domain(domid);
      this.domains.set(domid, d);
    }
    return d;
  }

  isIntroduced(domid: number): boolean {
    return this.domains.get(domid)?.introduced === true;
  }

  connect(domid: number, send: SendBytes, privileged: boolean, onDrop: (reason: CloseReason) => void): Connection {
    const conn = new Connection(this, ++this.#connSeq, this.domain(domid), privileged, send, onDrop);
    this.connections.add(conn);
    return conn;
  }

  dispatch(conn: Connection, type: number, reqId: number, txId: number, payload: Buffer): void {
    this.#dispatch(this, conn, type, reqId, txId, payload);
  }

  forget(conn: Connection): void {
    conn.transactions.clear();
    conn.domain.watches -= this.watches.removeOwner(conn);
    if (conn.closed) {
      this.connections.delete(conn);
      if (this.#rings.get(conn.domid) === conn) this.#rings.delete(conn.domid);
    }
  }

  trace(conn: Connection, dir: 'IN' | 'OUT', msg: Buffer): void {
    const type = msg.readUInt32LE(0);
    const body = msg.toString('latin1', 16).replace(/\0/g, ' ');
    this.log(`${dir} d${conn.domid}#${conn.seq} ${XS_TYPE_NAMES[type] || type} req=${msg.readUInt32LE(4)} tx=${msg.readUInt32LE(8)} (${printable(body)})`);
  }

  /** Deliver a change to the watches it fires, as far as each watcher may read the node. */
  fire(c: Change): void {
    const found = this.watches.matching(c.path, c.exact);
    // Most changes fire nothing: no firing to make.
    if (found.length === 0) return;
    const f: Firing = { c, found, at: 0 };
    if (this.#firing.length === 0 && f.found.length <= FIRE_AT_ONCE) {
      this.#deliver(f, f.found.length);
      return;
    }
    // Too many for one turn: delivered over the next turns, and later changes queue behind, so
    // each connection still gets its events in order.
    this.#firing.push(f);
    this.#scheduler.defer(this.#firingJob);
  }

  #deliver(f: Firing, to: number): void {
    const { c, found } = f;
    for (let i = f.at; i < to; i++) {
      const w = found[i]!;
      if (!this.#mayHear(w.owner, c)) continue;
      const path = w.eventPath(c.path);
      if (this.#repeats(f, w, path)) continue;
      w.owner.sendEvent(path, w.token);
    }
    this.#scheduler.charge(to - f.at);
  }

  /**
   * cxenstored queues a change's events before writing any and drops one identical to an event
   * still queued: two watches of one connection with the same token that a change both fires
   * give one event. Keys are made only for an owner with a second watch in the change.
   */
  #repeats(f: Firing, w: Watch<Connection>, path: string): boolean {
    if (w.owner !== f.owner) {
      f.owner = w.owner;
      f.first = { path, token: w.token };
      f.seen = undefined;
      return false;
    }
    f.seen ??= new Set([eventKey(f.first!.path, f.first!.token)]);
    const key = eventKey(path, w.token);
    if (f.seen.has(key)) return true;
    f.seen.add(key);
    return false;
  }

  readonly #firing: Firing[] = [];
  readonly #firingJob: Job = {
    run: (max) => {
      let done = 0;
      while (done < max && this.#firing.length > 0) {
        const f = this.#firing[0]!;
        const to = Math.min(f.found.length, f.at + max - done);
        this.#deliver(f, to);
        done += to - f.at;
        f.at = to;
        if (f.at === f.found.length) this.#firing.shift();
      }
      return done;
    },
    pending: () => this.#firing.length > 0,
  };

  /** cxenstored watch_permitted: the node, its old permissions, or its parent must be readable. */
  #mayHear(who: Connection, c: Change): boolean {
    if (who.privileged) return true;
    if (c.oldPerms !== undefined && (permFor(who, c.oldPerms) & XS_PERM_READ) !== 0) return true;
    if ((permFor(who, c.node.perms) & XS_PERM_READ) !== 0) return true;
    const parent = this.store.get(parentPath(c.path));
    return parent !== undefined && (permFor(who, parent.perms) & XS_PERM_READ) !== 0;
  }

  fireSpecial(name: string): void {
    const perms = this.specialPerms.get(name)!;
    for (const w of this.watches.matching(name, true)) {
      if (w.owner.privileged || (permFor(w.owner, perms) & XS_PERM_READ) !== 0) w.owner.sendEvent(name, w.token);
    }
  }

  /** Commit `tx` for `conn` (quota check, then conflict check and apply), firing its watches. */
  commit(conn: Connection, tx: Transaction): void {
    const added = tx.addedFor(conn.domid);
    if (!conn.privileged && added > 0 && this.store.ownedBy(conn.domid) + added > this.quotas.nodes) {
      throw new XenError('ENOSPC', `domain ${conn.domid} would exceed its quota of ${this.quotas.nodes} nodes`);
    }
    for (const c of tx.commit()) this.fire(c);
  }

  /** The domain's ring connection, if it was introduced with one. */
  ring(domid: number): Connection | undefined {
    return this.#rings.get(domid);
  }

  /** Register a domain (with its ring, if it has one) and tell @introduceDomain watchers. */
  introduce(domid: number, ring: DomainRing | undefined): Connection | undefined {
    const d = this.domain(domid);
    if (d.introduced) return this.#rings.get(domid);
    d.introduced = true;
    if (ring !== undefined) {
      let transport: ReturnType<ServeRing> | undefined;
      const conn = this.connect(domid, (b) => transport?.send(b), domid === 0, (reason) => transport?.close(reason));
      transport = this.#serveRing(ring, conn);
      this.#rings.set(domid, conn);
    }
    this.fireSpecial(INTRODUCE_DOMAIN);
    return this.#rings.get(domid);
  }

  /**
   * The domain is gone: drop its connections (with their watches and transactions), remove
   * the nodes it owns and the ACL entries naming it (its id may be reused), tell
   * @releaseDomain watchers.
   */
  release(domid: number): void {
    if (domid === 0) throw new XenError('EINVAL', 'domain 0 cannot be released');
    const d = this.domains.get(domid);
    if (d === undefined || !d.introduced) throw new XenError('ENOENT', `domain ${domid} is not introduced`);
    for (const c of [...this.connections]) {
      if (c.domid === domid) c.drop(XENSTORE_ERROR_NONE, 'domain released');
    }
    this.domains.delete(domid);
    for (const other of this.domains.values()) if (other.target === domid) other.target = undefined;
    this.#forgetNodesOf(domid);
    this.fireSpecial(RELEASE_DOMAIN);
  }

  /**
   * As cxenstored does by default (no -K): the nodes the domain owns are removed (the top of
   * each owned subtree; removing it takes the rest), and ACL entries naming it grant nothing
   * from now on, also to a later domain with the same id. The store's index of nodes naming the
   * domain keeps this from scanning the whole tree.
   */
  #forgetNodesOf(domid: number): void {
    const owned: string[] = [];
    const acl: string[] = [];
    for (const path of this.store.naming(domid)) {
      const n = this.store.get(path)!;
      if (n.perms.owner !== domid) acl.push(path);
      else if (this.store.get(parentPath(path))?.perms.owner !== domid) owned.push(path);
    }
    const gone = (id: number): boolean => id === domid;
    for (const path of acl) {
      const n = this.store.get(path)!;
      const perms = n.perms.ignoring(gone);
      if (perms !== n.perms) this.store.set(path, n.withPerms(perms));
    }
    for (const path of owned) if (this.store.get(path) !== undefined) removeNode(this.live, DAEMON, path);
    // cxenstored remove_domid_from_perm: the special nodes forget the domain outright.
    for (const [name, perms] of this.specialPerms) {
      const kept = perms.entries.filter((e, i) => i === 0 || e.id !== domid);
      if (kept.length !== perms.entries.length || perms.owner === domid) {
        this.specialPerms.set(name, new Perms([{ ...kept[0]!, id: perms.owner === domid ? 0 : perms.owner }, ...kept.slice(1)]));
      }
    }
  }

  /**
   * Whether `domid` exists, for permissions that name it (cxenstored domain_alloc_permrefs):
   * xenstored knows it, or the hypervisor does.
   */
  domainExists(domid: number): boolean {
    return domid === 0 || this.isIntroduced(domid) || this.#domainExists(domid);
  }

  /** CONTROL check: every node's parent lists it and every listed child exists. */
  check(): string[] {
    const problems: string[] = [];
    for (const [path, n] of this.store.entries()) {
      if (path !== '/' && !this.store.get(parentPath(path))?.children.has(baseName(path))) {
        problems.push(`${path} is not listed by its parent`);
      }
      for (const name of n.children.names) {
        if (this.store.get(childPath(path, name)) === undefined) problems.push(`${path} lists missing child ${name}`);
      }
    }
    return problems;
  }
}
