// rate=: xen-netback's credit scheduler for guest transmit (tx_credit_exceeded, tx_add_credit).
// Every `usecs` the vif gets `bytes` of credit; a packet larger than what is left waits for the
// next window. Credit does not pile up beyond one window (or one large packet, up to 128 KiB),
// so an idle vif cannot burst. No rate is no limit. The rate may change while the vif runs
// (xen_net_rate_changed): the new one applies at once, and credit left over from a larger
// window is cut down to the new one.
import type { NetRate } from '../protocol.js';

const MAX_BURST_CAP = 131072;

export class Credit {
  #rate: NetRate | null;
  #remaining: number;
  #windowStart: number;
  readonly #now: () => number;

  constructor(rate: NetRate | null, now: () => number = () => performance.now()) {
    this.#rate = rate;
    this.#now = now;
    this.#remaining = rate ? rate.bytes : Infinity;
    this.#windowStart = now();
  }

  get rate(): NetRate | null {
    return this.#rate;
  }

  /** xen_net_rate_changed: `waiting` says a packet is held for credit (it is looked at again now). */
  set(rate: NetRate | null, waiting: boolean): void {
    this.#rate = rate;
    if (!rate) this.#remaining = Infinity;
    else if (!waiting && this.#remaining > rate.bytes) this.#remaining = rate.bytes;
  }

  /** Take `size` bytes of credit: 0 if given, else the ms until the next window opens. */
  take(size: number): number {
    const rate = this.#rate;
    if (!rate) return 0;
    const now = this.#now();
    const windowMs = rate.usecs / 1000;
    const next = this.#windowStart + windowMs;
    if (now >= next) {
      this.#windowStart = now;
      const maxBurst = Math.max(rate.bytes, Math.min(size, MAX_BURST_CAP));
      this.#remaining = Math.min(this.#remaining + rate.bytes, maxBurst);
    }
    if (size > this.#remaining) return Math.max(1, this.#windowStart + windowMs - now);
    this.#remaining -= size;
    return 0;
  }
}
