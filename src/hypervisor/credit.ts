// The credit scheduler of a shared pCPU, as xl sched-credit describes it: every accounting
// period each domain earns credit in proportion to its weight; a domain that has credit left
// (UNDER) runs before one that has spent it (OVER), and a cap (a percentage of one pCPU, 0 for
// none) parks a domain for the rest of the period once it has used that much. Time is charged
// by the turn, as measured, so a domain that keeps itself busy falls behind those that yield.
import { CREDIT_DEFAULT_WEIGHT } from './sched.js';

/** Xen's credit accounting period (and its default timeslice, sched_credit_tslice_ms). */
export const CREDIT_PERIOD_MS = 30;
/**
 * Xen's lower bound on a vCPU's credit (csched_acct: -credits_per_tslice). Without it one long
 * turn (a collection, or the pCPU thread preempted by a loaded host, all charged to the domain in
 * its turn) left a debt that 32 pool mates' shares of ~0.9 ms a period took seconds to repay,
 * while it ran only when none of them was runnable: waits of 4.7 s for a turn were measured.
 */
export const CREDIT_MIN_MS = -CREDIT_PERIOD_MS;

interface Account {
  weight: number;
  cap: number;
  credit: number;
  used: number;
}

export class CreditScheduler<K> {
  #accounts = new Map<K, Account>();
  #periodStart = -Infinity;
  #rotate = 0;

  set(key: K, weight = CREDIT_DEFAULT_WEIGHT, cap = 0): void {
    const a = this.#accounts.get(key);
    if (a) {
      a.weight = weight;
      a.cap = cap;
    } else {
      this.#accounts.set(key, { weight, cap, credit: 0, used: 0 });
    }
  }

  delete(key: K): void {
    this.#accounts.delete(key);
  }

  /** Start a new period if the last one is over: refill credit by weight, lift caps. */
  #account(now: number): void {
    if (now - this.#periodStart < CREDIT_PERIOD_MS) return;
    this.#periodStart = now;
    let total = 0;
    for (const a of this.#accounts.values()) total += a.weight;
    for (const a of this.#accounts.values()) {
      const share = (CREDIT_PERIOD_MS * a.weight) / total;
      a.credit = Math.min(share, Math.max(CREDIT_MIN_MS, a.credit + share));
      a.used = 0;
    }
  }

  #capped(a: Account): boolean {
    return a.cap > 0 && a.used >= (CREDIT_PERIOD_MS * a.cap) / 100;
  }

  /**
   * Of the runnable domains, those to run in this pass, in order: the UNDER ones, or the OVER
   * ones if none is UNDER; never a capped one. Round robin within a class.
   */
  pick(runnable: readonly K[], now: number): K[] {
    this.#account(now);
    const under: K[] = [];
    const over: K[] = [];
    const n = runnable.length;
    const start = n ? this.#rotate++ % n : 0;
    for (let i = 0; i < n; i++) {
      const k = runnable[(start + i) % n]!;
      const a = this.#accounts.get(k);
      if (!a) continue;
      if (this.#capped(a)) continue;
      (a.credit > 0 ? under : over).push(k);
    }
    return under.length ? under : over;
  }

  /** Milliseconds until capped domains may run again. */
  untilNextPeriod(now: number): number {
    return Math.max(0, this.#periodStart + CREDIT_PERIOD_MS - now);
  }

  charge(key: K, ms: number): void {
    const a = this.#accounts.get(key);
    if (!a) return;
    a.credit -= ms;
    a.used += ms;
  }

  /** The domain's weight and cap (xl sched-credit's columns). */
  params(key: K): { weight: number; cap: number } | undefined {
    const a = this.#accounts.get(key);
    return a && { weight: a.weight, cap: a.cap };
  }
}
