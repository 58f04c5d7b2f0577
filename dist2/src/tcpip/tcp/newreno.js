// Congestion control: NewReno (RFC 5681 slow start and congestion avoidance, fast retransmit
// and fast recovery with RFC 6582's partial-ACK handling), counted in bytes with RFC 3465's
// appropriate byte counting, and RFC 6928's initial window of 10 segments. Slow start grows by
// all the bytes an ACK covers (RFC 3465's limit L is lifted: with GSO one ACK stands for a
// super-frame of tens of segments, and L = 2 SMSS would make slow start crawl).
import { seqGe, seqGt } from './seq.js';
export class NewReno {
    mss;
    cwnd;
    ssthresh = 0x7fffffff;
    dupAcks = 0;
    inRecovery = false;
    /** The highest sequence sent when recovery began (RFC 6582's "recover"). */
    recover;
    #bytesAcked = 0;
    constructor(mss, iss) {
        this.mss = mss;
        this.cwnd = 10 * mss;
        this.recover = iss;
    }
    setMss(mss) {
        this.mss = mss;
    }
    /** New data acknowledged up to `ack` (`acked` bytes); says whether recovery ended or a hole remains. */
    onAck(ack, acked, flightBefore) {
        this.dupAcks = 0;
        if (this.inRecovery) {
            if (seqGe(ack, this.recover)) {
                this.inRecovery = false;
                this.cwnd = Math.min(this.ssthresh, Math.max(flightBefore - acked, this.mss) + this.mss);
                return 'full';
            }
            this.cwnd = Math.max(this.mss, this.cwnd - acked + (acked >= this.mss ? this.mss : 0));
            return 'partial';
        }
        if (this.cwnd < this.ssthresh) {
            this.cwnd += acked;
            return 'normal';
        }
        // Congestion avoidance by byte counting: one SMSS per cwnd of bytes acknowledged.
        this.#bytesAcked += acked;
        if (this.#bytesAcked >= this.cwnd) {
            this.#bytesAcked -= this.cwnd;
            this.cwnd += this.mss;
        }
        return 'normal';
    }
    /**
     * A duplicate ACK; true when fast retransmit should fire: at the third, or sooner when SACK
     * says `lost` (RFC 6675's DupThresh segments SACKed above the hole: one ACK of a GSO
     * super-frame stands for many segments).
     */
    onDupAck(ack, flight, sndMax, lost = false) {
        this.dupAcks++;
        if (this.inRecovery) {
            this.cwnd += this.mss;
            return false;
        }
        if ((this.dupAcks !== 3 && !lost) || !seqGt(ack, this.recover))
            return false;
        this.ssthresh = Math.max(Math.floor(flight / 2), 2 * this.mss);
        this.recover = sndMax;
        this.cwnd = this.ssthresh + 3 * this.mss;
        this.inRecovery = true;
        return true;
    }
    onTimeout(flight, sndMax) {
        this.ssthresh = Math.max(Math.floor(flight / 2), 2 * this.mss);
        this.cwnd = this.mss;
        this.inRecovery = false;
        this.dupAcks = 0;
        this.recover = sndMax;
    }
}
//# sourceMappingURL=newreno.js.map