export declare class HostLock {
    readonly path: string;
    private constructor();
    /** Take the lock for this process; EEXIST (saying what to do) if a live host holds it. */
    static acquire(path: string, stateDir: string): HostLock;
    /** Give the lock up (synchronous, so that exit handlers can do it). */
    release(): void;
}
