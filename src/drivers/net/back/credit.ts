// rate=: xen-netback's credit scheduler for guest transmit (tx_credit_exceeded, tx_add_credit).
// Every `usecs` the vif gets `bytes` of credit; a packet larger than what is left waits for the
// next window. Credit does not pile up beyond one window (or one large packet, up to 128 KiB),
// so an idle vif cannot burst.
import type { NetRate } from '../protocol.js';

const MAX_BURST_CAP = 131072;

export class Credit {
  readonly rate: NetRate;
  #remaining: number;
  #windowStart: number;
  readonly #now: () => number;

  constructor(rate: NetRate, now: () => number = () => performance.now()) {
    this.rate = rate;
    this.#now = now;
    this.#remaining = rate.bytes;
    this.#windowStart = now();
  }

  /** Take `size` bytes of credit: 0 if given, else the ms until the next window opens. */
  take(size: number): number {
    const now = this.#now();
    const windowMs = this.rate.usecs / 1000;
    const next = this.#windowStart + windowMs;
    if (now >= next) {
      this.#windowStart = now;
      const maxBurst = Math.max(this.rate.bytes, Math.min(size, MAX_BURST_CAP));
      this.#remaining = Math.min(this.#remaining + this.rate.bytes, maxBurst);
    }
    if (size > this.#remaining) return Math.max(1, this.#windowStart + windowMs - now);
    this.#remaining -= size;
    return 0;
  }
}
