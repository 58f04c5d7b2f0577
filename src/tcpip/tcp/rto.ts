// The retransmission timer's value (RFC 6298): SRTT and RTTVAR from samples, exponential
// backoff on timeout. The minimum is Linux's 200 ms rather than the RFC's 1 s (the RFC allows
// it: "MAY"), since our peers are mostly on the same host. A handshake whose SYN or SYN-ACK
// timed out starts its data with 3 s, unless an RTT was measured (§5.7).

export interface RtoOptions {
  minRtoMs: number;
  maxRtoMs: number;
  initialRtoMs: number;
}

export const RTO_DEFAULTS: RtoOptions = { minRtoMs: 200, maxRtoMs: 60_000, initialRtoMs: 1000 };

const CLOCK_GRANULARITY_MS = 1;
/** RFC 6298 §5.7's RTO after a handshake that timed out (RFC 2988's initial RTO). */
export const HANDSHAKE_TIMEOUT_RTO_MS = 3000;

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

  /** RFC 6298 §5.7: the SYN or SYN-ACK timed out and no RTT was measured: data starts with an RTO of 3 s. */
  handshakeTimedOut(): void {
    if (this.srtt !== 0) return;
    this.rto = this.#base = Math.min(this.opts.maxRtoMs, Math.max(this.opts.minRtoMs, HANDSHAKE_TIMEOUT_RTO_MS));
  }

  backoff(): void {
    this.rto = Math.min(this.opts.maxRtoMs, this.rto * 2);
  }
}
