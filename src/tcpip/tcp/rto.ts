// The retransmission timer's value (RFC 6298): SRTT and RTTVAR from samples, exponential
// backoff on timeout. The minimum is Linux's 200 ms rather than the RFC's 1 s (the RFC allows
// it: "MAY"), since our peers are mostly on the same host.

export interface RtoOptions {
  minRtoMs: number;
  maxRtoMs: number;
  initialRtoMs: number;
}

export const RTO_DEFAULTS: RtoOptions = { minRtoMs: 200, maxRtoMs: 60_000, initialRtoMs: 1000 };

const CLOCK_GRANULARITY_MS = 1;

export class Rto {
  srtt = 0;
  rttvar = 0;
  rto: number;
  #base: number;

  constructor(private readonly opts: RtoOptions) {
    this.rto = this.#base = opts.initialRtoMs;
  }

  sample(r: number): void {
    r = Math.max(0, r);
    if (this.srtt === 0) {
      this.srtt = Math.max(r, 0.001);
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.#base = Math.min(this.opts.maxRtoMs, Math.max(this.opts.minRtoMs, this.srtt + Math.max(CLOCK_GRANULARITY_MS, 4 * this.rttvar)));
    this.rto = this.#base;
  }

  /** Carried on from a suspended connection. */
  restore(srtt: number, rttvar: number, rto: number): void {
    this.srtt = srtt;
    this.rttvar = rttvar;
    this.rto = Math.min(this.opts.maxRtoMs, Math.max(this.opts.minRtoMs, rto));
  }

  backoff(): void {
    this.rto = Math.min(this.opts.maxRtoMs, this.rto * 2);
  }
}
