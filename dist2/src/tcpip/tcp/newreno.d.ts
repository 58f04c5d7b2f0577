export type AckOutcome = 'normal' | 'partial' | 'full';
export declare class NewReno {
    #private;
    private mss;
    cwnd: number;
    ssthresh: number;
    dupAcks: number;
    inRecovery: boolean;
    /** The highest sequence sent when recovery began (RFC 6582's "recover"). */
    recover: number;
    constructor(mss: number, iss: number);
    setMss(mss: number): void;
    /** New data acknowledged up to `ack` (`acked` bytes); says whether recovery ended or a hole remains. */
    onAck(ack: number, acked: number, flightBefore: number): AckOutcome;
    /**
     * A duplicate ACK; true when fast retransmit should fire: at the third, or sooner when SACK
     * says `lost` (RFC 6675's DupThresh segments SACKed above the hole: one ACK of a GSO
     * super-frame stands for many segments).
     */
    onDupAck(ack: number, flight: number, sndMax: number, lost?: boolean): boolean;
    onTimeout(flight: number, sndMax: number): void;
}
