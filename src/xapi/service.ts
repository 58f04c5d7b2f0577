// XenAPI over the command layer: a call's name and parameters in (from either transport), its
// value or its XapiError out. Here, in this order and for every call, as XAPI's dispatcher does:
// the call is known, its parameter count is right, its session is live, the session's role may
// make it, its parameters have the right types. Then it runs (Async.*: as a task).
import type { HostEvent, Subscription, Toolstack } from '../toolstack/contract.js';
import { XAPI_ROLES, type XapiRole } from '../toolstack/contract.js';
import type { Change, HostDb, Tx } from '../toolstack/db/hostdb.js';
import { NULL_REF } from '../toolstack/db/records.js';
import { auditArg, type AuditSink } from './audit.js';
import { CALLS, type Call, type CallContext, type CallHost, type ClassicEvents, type MigrationEndpoint } from './calls.js';
import { sourceKey } from './conns.js';
import { methodUnknown, parameterCountMismatch, toXapiError, XapiError } from './errors.js';
import { EVENT_LIMITS, EventLog, type EventLimits } from './events.js';
import { KernelDirs } from './kernels.js';
import { isDbClass, poolIdentity, serveRecord, type DbClass, type PoolIdentity, type XRecord } from './model.js';
import { LOGIN_LIMITS, LoginThrottle, SESSION_LIMITS, SessionTable, type LoginLimits, type SessionLimits, type SessionStore } from './sessions.js';
import { RrdSampler, type RrdUpdates } from './rrd.js';
import { shareRecord } from './shared.js';
import { TaskTable } from './tasks.js';
import { checkParam, type XValue } from './types.js';
import { LoginsBusy, type User } from './users.js';

/** Who is calling: a TCP peer's address, or the local Unix socket (whose root needs no password). */
export interface Peer {
  readonly source: string;
  readonly local: boolean;
}

export interface Authenticator {
  /** The user if the password is theirs; checks are taken in turn by `source` (the caller's address). */
  authenticate(name: string, password: string, source: string): Promise<User | undefined>;
  /** Set by the service: a user was replaced (new role or password), so their sessions end. */
  onReplaced: (name: string) => void;
}

/**
 * The transport's hold on a call: a call that waits for events (event.from, event.next) parks
 * it, so that long polls (EventLog's maxWaiters bounds them) do not take the places of calls
 * that run; unpark takes it back once the wait is over, even past the transport's bound (and
 * the user's): a wait that ended must answer. So calls running may pass the bounds by at most
 * the waits that end at once, maxWaiters.
 */
export interface CallSlot {
  park(): () => void;
  /** Aborted when the client's connection closed before its answer: its wait ends. */
  readonly closed: AbortSignal;
  /** The call carried a live session, or logged in: its connection is a logged-in client's (conns.ts). */
  authenticated(): void;
}

/** A user has as many calls running as it may: the transport answers 503, as for the host's own bound. */
export class TooManyCalls extends Error {
  override name = 'TooManyCalls';
}

export interface XapiServiceOptions {
  /** Calls of one user running at once (waits for events not counted); 128 when absent. */
  readonly callsPerUser?: number;
  readonly sessions?: Partial<SessionLimits>;
  /** Where sessions outlive the process (the host database); in memory only when absent. */
  readonly sessionStore?: SessionStore;
  readonly logins?: Partial<LoginLimits>;
  readonly events?: Partial<EventLimits>;
  /** Where state-changing calls and logins are recorded (the state dir's audit.log); nowhere when absent. */
  readonly audit?: AuditSink;
  /** This host's migration listener, once it listens (host.migrate_receive hands it out). */
  readonly migration?: () => MigrationEndpoint | undefined;
  /** The directories whose kernels VM.create may name (kernels.ts); none when absent. */
  readonly kernelDirs?: readonly string[];
  /** The host's state dir: refusals name it <state>. */
  readonly stateDir?: string;
}

const LOGIN = 'session.login_with_password';
const LIST_METHODS = 'system.listMethods';

/** Whether `role` may make a call that needs `need` (roles are ordered, most powerful first). */
export function roleAllows(role: XapiRole, need: XapiRole): boolean {
  return XAPI_ROLES.indexOf(role) <= XAPI_ROLES.indexOf(need);
}

interface DomainWaiter {
  readonly domid: number;
  readonly types: readonly HostEvent['type'][];
  done(): void;
}

/**
 * A snapshot made or destroyed changes its origin's derived `snapshots` (VM.snapshots,
 * VDI.snapshots) without a write to the origin: a mod event of the origin says so, as XAPI
 * sends one for each end of a relation, so clients that follow events see the new set.
 */
function snapshotOfChanges(tx: Tx, changes: readonly Change[]): { c: { class: DbClass; operation: 'mod'; ref: string }; snapshot: XRecord }[] {
  const seen = new Set(changes.map((c) => `${c.class}/${c.ref}`));
  const out: { c: { class: DbClass; operation: 'mod'; ref: string }; snapshot: XRecord }[] = [];
  for (const c of changes) {
    if (c.class !== 'VM' && c.class !== 'VDI') continue;
    const of = (c.snapshot as { snapshot_of?: string } | null)?.snapshot_of;
    if (of === undefined || of === NULL_REF || seen.has(`${c.class}/${of}`)) continue;
    seen.add(`${c.class}/${of}`);
    const rec = tx[c.class].find(of);
    if (rec) out.push({ c: { class: c.class, operation: 'mod', ref: of }, snapshot: serveRecord(tx, c.class, of, rec as never) });
  }
  return out;
}

export class XapiService implements CallHost {
  /** The pool's and the host's refs, read from the database at start. */
  identity: PoolIdentity = { poolRef: NULL_REF, hostRef: NULL_REF, hostUuid: '' };
  /** Statistics for /rrd_updates, sampled from start() on. */
  readonly rrd: RrdSampler;
  readonly sessions: SessionTable;
  readonly throttle: LoginThrottle;
  readonly events: EventLog;
  readonly tasks: TaskTable;
  readonly kernels: KernelDirs;
  readonly #domainWaiters = new Set<DomainWaiter>();
  readonly #classic = new Map<string, ClassicEvents>();
  #sub: Subscription | undefined;
  #unwatch: (() => void) | undefined;
  /** Records as served, by class and ref, and whole classes: cleared by every change of a served class. */
  readonly #served = new Map<string, XRecord>();
  readonly #servedAll = new Map<DbClass, ReadonlyMap<string, XRecord>>();
  /** Bumped at each clear: a read that straddles one does not fill the cache with what it read before. */
  #servedGeneration = 0;
  readonly #audit: AuditSink | undefined;
  /** Calls running per user, against callsPerUser. */
  readonly #userCalls = new Map<string, number>();
  readonly #callsPerUser: number;
  readonly #migration: (() => MigrationEndpoint | undefined) | undefined;

  constructor(readonly ts: Toolstack, readonly db: HostDb, private readonly users: Authenticator, opts: XapiServiceOptions = {}) {
    this.#audit = opts.audit;
    this.#callsPerUser = opts.callsPerUser ?? 128;
    this.kernels = new KernelDirs(opts.kernelDirs ?? [], opts.stateDir);
    this.#migration = opts.migration;
    this.rrd = new RrdSampler(ts, () => this.identity.hostUuid);
    this.sessions = new SessionTable({ ...SESSION_LIMITS, ...opts.sessions }, Date.now, opts.sessionStore);
    this.throttle = new LoginThrottle({ ...LOGIN_LIMITS, ...opts.logins });
    this.events = new EventLog({ ...EVENT_LIMITS, ...opts.events });
    this.tasks = new TaskTable(this.events, () => this.identity.hostRef);
    users.onReplaced = (name) => this.sessions.revokeUser(name);
  }

  /**
   * Take up the stored sessions, and follow the host database's changes, so that event.from
   * sees every record change (a VM's included: the toolstack writes it at each change of its domain).
   */
  async start(): Promise<this> {
    this.identity = await this.db.read(poolIdentity);
    this.rrd.start();
    await this.sessions.restore();
    this.#sub = await this.ts.events((e) => this.#onHostEvent(e));
    this.#unwatch = this.db.watch((changes) => {
      const served = changes.filter((c) => isDbClass(c.class));
      if (!served.length) return;
      this.#served.clear();
      this.#servedAll.clear();
      this.#servedGeneration++;
      // The relations as they are right after the commit (the read runs now; events keep the commits' order).
      void this.db.read((tx) => [
        ...served.map((c) => ({ c, snapshot: serveRecord(tx, c.class as never, c.ref as never, c.snapshot as never) })),
        ...snapshotOfChanges(tx, served),
      ]).then((list) => {
        for (const { c, snapshot } of list) this.events.record(c.class, c.operation, c.ref, snapshot);
      });
    });
    return this;
  }

  async served(cls: DbClass, ref: string): Promise<XRecord> {
    const key = `${cls}/${ref}`;
    const hit = this.#served.get(key);
    if (hit) return hit;
    const gen = this.#servedGeneration;
    const rec = shareRecord(await this.db.read((tx) => serveRecord(tx, cls, ref as never, tx[cls].get(ref as never) as never)));
    // Served records are shared between calls: bounded by the database's size, and never changed in place.
    if (gen === this.#servedGeneration) this.#served.set(key, rec);
    return rec;
  }

  async servedAll(cls: DbClass): Promise<ReadonlyMap<string, XRecord>> {
    const hit = this.#servedAll.get(cls);
    if (hit) return hit;
    const gen = this.#servedGeneration;
    const all = await this.db.read((tx) => {
      const out = new Map<string, XRecord>();
      for (const [ref, rec] of tx[cls].getAllRecords()) out.set(ref, shareRecord(serveRecord(tx, cls, ref as never, rec as never)));
      return out;
    });
    if (gen === this.#servedGeneration) this.#servedAll.set(cls, all);
    return all;
  }

  migration(): MigrationEndpoint | undefined {
    return this.#migration?.();
  }

  /** A session's classic event registration (event.register/next), made on first use; it ends with the session. */
  classicEvents(session: string): ClassicEvents {
    let reg = this.#classic.get(session);
    if (!reg) {
      // Past one per live session, some are of sessions that ended: drop those.
      if (this.#classic.size >= this.sessions.size) {
        for (const s of this.#classic.keys()) if (!this.sessions.has(s)) this.#classic.delete(s);
      }
      this.#classic.set(session, (reg = { classes: new Set(), cursor: this.events.last }));
    }
    return reg;
  }

  /** /rrd_updates: the session (query session_id) must be live; `start` is required, AVERAGE the only cf. */
  rrdUpdates(query: URLSearchParams): RrdUpdates {
    this.sessions.use(query.get('session_id') ?? '');
    const num = (k: string, dflt?: number) => {
      const v = query.get(k);
      if (v === null && dflt !== undefined) return dflt;
      const n = Number(v);
      if (v === null || !Number.isFinite(n) || n < 0) throw new XapiError('INVALID_VALUE', [k, String(v)]);
      return n;
    };
    const cf = query.get('cf') ?? 'AVERAGE';
    if (cf !== 'AVERAGE') throw new XapiError('INVALID_VALUE', ['cf', `${cf}: xenode keeps AVERAGE archives only`]);
    return this.rrd.store.updates(num('start'), num('interval', 5), query.get('host') === 'true');
  }

  close(): void {
    this.rrd.stop();
    this.#unwatch?.();
    this.#sub?.close();
    this.events.close();
    for (const w of [...this.#domainWaiters]) w.done();
  }

  /** Every call served, Async.* forms included (system.listMethods). */
  listMethods(): string[] {
    const names = [LOGIN, LIST_METHODS, ...Object.keys(CALLS)];
    return [...names, ...Object.entries(CALLS).filter(([, c]) => c.async).map(([n]) => `Async.${n}`)];
  }

  /** A call made; `slot` is the transport's hold on it (parked while the call waits for events). */
  async call(method: string, params: readonly unknown[], peer: Peer, slot?: CallSlot): Promise<XValue> {
    let user: string | undefined;
    try {
      if (method === LOGIN) {
        const ref = await this.#login(params, peer);
        slot?.authenticated();
        return ref;
      }
      if (method === LIST_METHODS) return this.listMethods();
      const isAsync = method.startsWith('Async.');
      const name = isAsync ? method.slice(6) : method;
      const call: Call | undefined = Object.hasOwn(CALLS, name) ? CALLS[name] : undefined;
      if (!call || (isAsync && !call.async)) throw methodUnknown(method);
      if (params.length !== call.params.length + 1) throw parameterCountMismatch(method, call.params.length + 1, params.length);
      const session = this.sessions.use(params[0]);
      slot?.authenticated();
      // One user's calls take at most callsPerUser of the transport's places (a read-only user's long polls took them all).
      if (!this.#takeCall(session.user)) throw new TooManyCalls(`${session.user} has ${this.#callsPerUser} calls running: try again`);
      user = session.user;
      const audit = call.writes && this.#audit ? (result: string) => this.#audit!.record({
        user: session.user, source: session.source, session: session.uuid, call: method,
        args: params.slice(1).map((v) => auditArg(v as XValue)), result,
      }) : undefined;
      try {
        if (!roleAllows(session.role, call.role)) {
          throw new XapiError('RBAC_PERMISSION_DENIED', [name.toLowerCase(), `the role ${session.role} may not call ${name}: it needs ${call.role}`]);
        }
        const args = call.params.map((p, i) => checkParam(p.type, params[i + 1], p.name));
        const ctx: CallContext = {
          svc: this, session, progress: () => {}, cancellable: () => {},
          parked: async (wait) => {
            const unpark = slot?.park();
            this.#dropCall(session.user);
            try {
              return await wait({ owner: session.user, closed: slot?.closed });
            } finally {
              unpark?.();
              this.#addCall(session.user);
            }
          },
        };
        const run = audit ? async () => {
          try {
            const v = await call.run(ctx, args);
            audit('ok');
            return v;
          } catch (e) {
            audit(toXapiError(e).code);
            throw e;
          }
        } : async () => call.run(ctx, args);
        if (isAsync) {
          return this.tasks.start(method, session.ref, (task) => {
            ctx.progress = task.progress;
            ctx.cancellable = task.cancellable;
            return run();
          });
        }
        return (await run()) ?? '';
      } catch (e) {
        // Refused before it ran (its role, its parameters): recorded too.
        if (audit && e instanceof XapiError && (e.code === 'RBAC_PERMISSION_DENIED' || e.code === 'FIELD_TYPE_ERROR')) audit(e.code);
        throw e;
      }
    } catch (e) {
      if (e instanceof TooManyCalls) throw e;
      throw toXapiError(e);
    } finally {
      if (user !== undefined) this.#dropCall(user);
    }
  }

  #takeCall(user: string): boolean {
    const n = this.#userCalls.get(user) ?? 0;
    if (n >= this.#callsPerUser) return false;
    this.#addCall(user);
    return true;
  }

  #addCall(user: string): void {
    this.#userCalls.set(user, (this.#userCalls.get(user) ?? 0) + 1);
  }

  #dropCall(user: string): void {
    const n = (this.#userCalls.get(user) ?? 1) - 1;
    if (n > 0) this.#userCalls.set(user, n);
    else this.#userCalls.delete(user);
  }

  async #login(params: readonly unknown[], peer: Peer): Promise<string> {
    // (user, password), and optionally the API version and an originator, as XAPI takes.
    if (params.length < 2 || params.length > 4) throw parameterCountMismatch(LOGIN, 2, params.length);
    const [name, password, , originator] = params.map((v, i) => checkParam('string', v, ['uname', 'pwd', 'version', 'originator'][i]!) as string);
    let user: User | undefined;
    const audit = (session: string, result: string) => this.#audit?.record({ user: name!, source: peer.source, session, call: LOGIN, args: [], result });
    // Throttled and queued by source (conns.ts): many addresses of one holder are one.
    const source = sourceKey(peer.source);
    if (peer.local && name === 'root') user = { name: 'root', role: 'pool-admin' };
    else {
      try {
        this.throttle.begin(source, name!);
      } catch (e) {
        audit('', toXapiError(e).code);
        throw e;
      }
      try {
        user = await this.users.authenticate(name!, password!, source);
      } catch (e) {
        this.throttle.end(source, name!, 'dropped');
        const x = e instanceof LoginsBusy ? new XapiError('SESSION_AUTHENTICATION_FAILED', [name!, `too many logins at once ${e.fromSource ? `from ${source}` : 'on this host'}: try again`]) : toXapiError(e);
        audit('', x.code);
        throw x;
      }
      this.throttle.end(source, name!, user ? 'ok' : 'failed');
      if (!user) {
        audit('', 'SESSION_AUTHENTICATION_FAILED');
        throw new XapiError('SESSION_AUTHENTICATION_FAILED', [name!, 'Authentication failure']);
      }
    }
    const s = this.sessions.create(user.name, user.role, peer.source, originator ?? '');
    audit(s.uuid, 'ok');
    return s.ref;
  }

  /**
   * Run `act`, then wait until the host reports one of `types` for `domid` (or a domain it
   * restarted from it); VM_SHUTDOWN_TIMEOUT after `timeoutMs`.
   */
  async untilDomain(domid: number, types: readonly HostEvent['type'][], timeoutMs: number, act: () => Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let w!: DomainWaiter;
    const seen = new Promise<void>((resolve) => {
      w = { domid, types, done: resolve };
      this.#domainWaiters.add(w);
    });
    try {
      await act();
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new XapiError('VM_SHUTDOWN_TIMEOUT', [String(domid), String(timeoutMs / 1000)])), timeoutMs);
      });
      await Promise.race([seen, timedOut]);
    } finally {
      clearTimeout(timer);
      this.#domainWaiters.delete(w);
    }
  }

  #onHostEvent(e: HostEvent): void {
    if (!('domid' in e)) return;
    const from = e.type === 'restarted' ? e.from : e.domid;
    for (const w of this.#domainWaiters) if ((w.domid === e.domid || w.domid === from) && w.types.includes(e.type)) w.done();
  }
}

