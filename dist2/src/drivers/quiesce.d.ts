export declare class SuspendGate {
    #private;
    /** Set from quiesce() until release(): the datapath issues nothing new. */
    held: boolean;
    /** Hold; resolves once `inFlight` reaches 0 (the datapath reports it through settled()). */
    quiesce(inFlight: number): Promise<void>;
    /** After a suspend that was cancelled (the domain runs on in place). */
    release(): void;
    /** A response came in: a waiting quiesce resolves when nothing is left in flight. */
    settled(inFlight: number): void;
}
