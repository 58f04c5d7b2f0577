// XAPI's event stream for event.from and event.inject: every change of a record served is one
// numbered event (class, operation add/mod/del, ref, the record as it is now). A token is the
// number of the last event a client has; a client whose token is older than what is kept gets
// EVENTS_LOST and starts again from the records, as XAPI's clients expect.
import { XapiError } from './errors.js';
import type { XValue } from './types.js';

export type EventOperation = 'add' | 'mod' | 'del';

export interface XapiEvent {
  readonly id: number;
  /** The class in lowercase, as XAPI names it in events. */
  readonly class: string;
  readonly operation: EventOperation;
  readonly ref: string;
  readonly snapshot?: XValue;
  readonly timestamp: string;
}

export interface EventLimits {
  /** Events kept for clients that are behind. */
  readonly keep: number;
  /** event.from calls waiting at once; more are answered at once, with what there is. */
  readonly maxWaiters: number;
  /** Of those, one user's at once: one user's long polls leave the others room to wait. */
  readonly perOwner: number;
  /** The longest an event.from waits. */
  readonly maxWaitMs: number;
}

export const EVENT_LIMITS: EventLimits = { keep: 10_000, maxWaiters: 1024, perOwner: 128, maxWaitMs: 60_000 };

interface Waiter {
  readonly matches: (e: XapiEvent) => boolean;
  wake(): void;
}

/** Whose wait it is, and what ends it early. */
export interface WaitBy {
  /** The user waiting, against perOwner. */
  readonly owner: string;
  /** Aborted when the caller is gone (its connection closed): the wait ends and frees its place. */
  readonly closed?: AbortSignal | undefined;
}

/** XAPI writes a token as two 20-digit numbers; the first is ours. */
export function formatToken(id: number): string {
  return `${String(id).padStart(20, '0')},${'0'.repeat(20)}`;
}

export function parseToken(token: string): number {
  const m = /^([0-9]{1,20})(?:,[0-9]{1,20})?$/.exec(token);
  const id = m ? Number(m[1]) : NaN;
  if (!Number.isSafeInteger(id)) throw new XapiError('EVENT_FROM_TOKEN_PARSE_FAILURE', [token]);
  return id;
}

/** Which events a list of event.from classes asks for: "*", a class, or "class/ref". */
export function classFilter(classes: readonly string[]): (e: { class: string; ref: string }) => boolean {
  const all = classes.includes('*');
  const names = new Set(classes.filter((c) => !c.includes('/')).map((c) => c.toLowerCase()));
  const objects = new Set(classes.filter((c) => c.includes('/')).map((c) => {
    const i = c.indexOf('/');
    return `${c.slice(0, i).toLowerCase()}/${c.slice(i + 1)}`;
  }));
  return (e) => all || names.has(e.class) || objects.has(`${e.class}/${e.ref}`);
}

export class EventLog {
  readonly #events: XapiEvent[] = [];
  readonly #waiters = new Set<Waiter>();
  /** Waiters per owner. */
  readonly #owners = new Map<string, number>();
  #last = 0;

  constructor(readonly limits: EventLimits = EVENT_LIMITS) {}

  get last(): number {
    return this.#last;
  }

  /** Calls waiting for events now. */
  get waiting(): number {
    return this.#waiters.size;
  }

  record(cls: string, operation: EventOperation, ref: string, snapshot?: XValue): XapiEvent {
    const e: XapiEvent = { id: ++this.#last, class: cls.toLowerCase(), operation, ref, ...(snapshot !== undefined && { snapshot }), timestamp: `${(Date.now() / 1000).toFixed(6)}` };
    this.#events.push(e);
    if (this.#events.length > this.limits.keep) this.#events.splice(0, this.#events.length - this.limits.keep);
    for (const w of this.#waiters) if (w.matches(e)) w.wake();
    return e;
  }

  /** Events after `since` that `matches` takes; EVENTS_LOST if some of them are no longer kept. */
  since(since: number, matches: (e: XapiEvent) => boolean): XapiEvent[] {
    const first = this.#events[0]?.id ?? this.#last + 1;
    // Older than what is kept, or newer than anything here (a token of the host before it restarted).
    if (since < first - 1 || since > this.#last) throw new XapiError('EVENTS_LOST');
    // Ids are consecutive: the first one after `since` is at a known index.
    return this.#events.slice(Math.max(0, since + 1 - first)).filter(matches);
  }

  /**
   * The events after `since`, waiting up to `timeoutMs` for one when there are none yet, and
   * the last event looked at (the next token). A caller past maxWaiters, or whose owner is past
   * perOwner, or already gone, gets what there is at once.
   */
  async wait(since: number, matches: (e: XapiEvent) => boolean, timeoutMs: number, by: WaitBy): Promise<{ events: XapiEvent[]; last: number }> {
    const now = this.since(since, matches);
    const owned = this.#owners.get(by.owner) ?? 0;
    if (now.length || timeoutMs <= 0 || by.closed?.aborted || this.#waiters.size >= this.limits.maxWaiters || owned >= this.limits.perOwner) {
      return { events: now, last: Math.max(since, this.#last) };
    }
    await new Promise<void>((resolve) => {
      const w: Waiter = {
        matches,
        wake: () => {
          if (!this.#waiters.delete(w)) return;
          clearTimeout(timer);
          by.closed?.removeEventListener('abort', w.wake);
          const n = (this.#owners.get(by.owner) ?? 1) - 1;
          if (n > 0) this.#owners.set(by.owner, n);
          else this.#owners.delete(by.owner);
          resolve();
        },
      };
      const timer = setTimeout(w.wake, Math.min(timeoutMs, this.limits.maxWaitMs));
      by.closed?.addEventListener('abort', w.wake, { once: true });
      this.#waiters.add(w);
      this.#owners.set(by.owner, owned + 1);
    });
    return { events: this.since(since, matches), last: Math.max(since, this.#last) };
  }

  /** Wake every waiter (the service is stopping). */
  close(): void {
    for (const w of [...this.#waiters]) w.wake();
  }
}
