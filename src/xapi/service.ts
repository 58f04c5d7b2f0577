// XenAPI over the command layer: a call's name and parameters in (from either transport), its
// value or its XapiError out. Here, in this order and for every call, as XAPI's dispatcher does:
// the call is known, its parameter count is right, its session is live, the session's role may
// make it, its parameters have the right types. Then it runs (Async.*: as a task).
import type { HostEvent, Subscription, Toolstack } from '../toolstack/contract.js';
import { XAPI_ROLES, type XapiRole } from '../toolstack/contract.js';
import { CALLS, type Call, type CallHost } from './calls.js';
import { methodUnknown, parameterCountMismatch, toXapiError, XapiError } from './errors.js';
import { EventLog, type EventLimits } from './events.js';
import { Model, type PoolIdentity, type XRecord } from './model.js';
import { LoginThrottle, SessionTable, type LoginLimits, type SessionLimits, type SessionStore } from './sessions.js';
import { TaskTable } from './tasks.js';
import { checkParam, type XValue } from './types.js';
import type { User } from './users.js';

/** Who is calling: a TCP peer's address, or the local Unix socket (whose root needs no password). */
export interface Peer {
  readonly source: string;
  readonly local: boolean;
}

export interface Authenticator {
  /** The user if the password is theirs. */
  authenticate(name: string, password: string): Promise<User | undefined>;
  /** Set by the service: a user was replaced (new role or password), so their sessions end. */
  onReplaced: (name: string) => void;
}

export interface XapiServiceOptions {
  readonly sessions?: Partial<SessionLimits>;
  /** Where sessions outlive the process (the host database); in memory only when absent. */
  readonly sessionStore?: SessionStore;
  /** The pool's and host's refs (the host database's); new ones when absent. */
  readonly identity?: PoolIdentity;
  readonly logins?: Partial<LoginLimits>;
  readonly events?: Partial<EventLimits>;
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

export class XapiService implements CallHost {
  readonly model: Model;
  readonly sessions: SessionTable;
  readonly throttle: LoginThrottle;
  readonly events: EventLog;
  readonly tasks: TaskTable;
  readonly #domainWaiters = new Set<DomainWaiter>();
  #sub: Subscription | undefined;
  /** VM events in the order their domains changed. */
  #vmEvents: Promise<void> = Promise.resolve();

  constructor(readonly ts: Toolstack, private readonly users: Authenticator, opts: XapiServiceOptions = {}) {
    this.model = new Model(ts, opts.identity);
    this.sessions = new SessionTable({ idleMs: 24 * 3600_000, maxSessions: 1000, ...opts.sessions }, Date.now, opts.sessionStore);
    this.throttle = new LoginThrottle({ failures: 5, windowMs: 60_000, maxSources: 4096, ...opts.logins });
    this.events = new EventLog({ keep: 10_000, maxWaiters: 1024, maxWaitMs: 60_000, ...opts.events });
    this.tasks = new TaskTable(this.events, this.model.hostRef);
    users.onReplaced = (name) => this.sessions.revokeUser(name);
  }

  /** Take up the stored sessions, and follow the host's events, so that event.from sees VMs change. */
  async start(): Promise<this> {
    await this.sessions.restore();
    this.#sub = await this.ts.events((e) => this.#onHostEvent(e));
    return this;
  }

  close(): void {
    this.#sub?.close();
    this.events.close();
    for (const w of [...this.#domainWaiters]) w.done();
  }

  /** Every call served, Async.* forms included (system.listMethods). */
  listMethods(): string[] {
    const names = [LOGIN, LIST_METHODS, ...Object.keys(CALLS)];
    return [...names, ...Object.entries(CALLS).filter(([, c]) => c.async).map(([n]) => `Async.${n}`)];
  }

  async call(method: string, params: readonly unknown[], peer: Peer): Promise<XValue> {
    try {
      if (method === LOGIN) return await this.#login(params, peer);
      if (method === LIST_METHODS) return this.listMethods();
      const isAsync = method.startsWith('Async.');
      const name = isAsync ? method.slice(6) : method;
      const call: Call | undefined = Object.hasOwn(CALLS, name) ? CALLS[name] : undefined;
      if (!call || (isAsync && !call.async)) throw methodUnknown(method);
      if (params.length !== call.params.length + 1) throw parameterCountMismatch(method, call.params.length + 1, params.length);
      const session = this.sessions.use(params[0]);
      if (!roleAllows(session.role, call.role)) {
        throw new XapiError('RBAC_PERMISSION_DENIED', [name.toLowerCase(), `the role ${session.role} may not call ${name}: it needs ${call.role}`]);
      }
      const args = call.params.map((p, i) => checkParam(p.type, params[i + 1], p.name));
      const ctx = { svc: this, session };
      if (isAsync) return this.tasks.start(method, session.ref, async () => call.run(ctx, args));
      return (await call.run(ctx, args)) ?? '';
    } catch (e) {
      throw toXapiError(e);
    }
  }

  async #login(params: readonly unknown[], peer: Peer): Promise<string> {
    // (user, password), and optionally the API version and an originator, as XAPI takes.
    if (params.length < 2 || params.length > 4) throw parameterCountMismatch(LOGIN, 2, params.length);
    const [name, password, , originator] = params.map((v, i) => checkParam('string', v, ['uname', 'pwd', 'version', 'originator'][i]!) as string);
    let user: User | undefined;
    if (peer.local && name === 'root') user = { name: 'root', role: 'pool-admin' };
    else {
      this.throttle.check(peer.source, name!);
      user = await this.users.authenticate(name!, password!);
      if (!user) {
        this.throttle.failed(peer.source);
        throw new XapiError('SESSION_AUTHENTICATION_FAILED', [name!, 'Authentication failure']);
      }
      this.throttle.succeeded(peer.source);
    }
    return this.sessions.create(user.name, user.role, peer.source, originator ?? '').ref;
  }

  async hostRecord(): Promise<XRecord> {
    const [info, vms] = await Promise.all([this.ts.call('info', {}), this.model.vms()]);
    return this.model.hostRecord(info, vms);
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
    const domid = e.domid;
    this.#vmEvents = this.#vmEvents.then(async () => {
      if (e.type === 'destroyed') {
        const ref = this.model.forgetDomain(domid);
        if (ref) this.events.record('VM', 'del', ref);
        return;
      }
      const [d] = await this.ts.call('list', { domains: [domid], long: true }).catch(() => []);
      if (!d) return;
      const added = !this.model.knownVm(d.uuid);
      const rec = this.model.vmRecord(d);
      this.events.record('VM', added ? 'add' : 'mod', this.model.vmRef(d), rec);
    });
  }
}

