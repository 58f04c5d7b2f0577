/** Xen's credit accounting period. */
export declare const CREDIT_PERIOD_MS = 30;
export declare class CreditScheduler<K> {
    #private;
    set(key: K, weight?: number, cap?: number): void;
    delete(key: K): void;
    /**
     * Of the runnable domains, those to run in this pass, in order: the UNDER ones, or the OVER
     * ones if none is UNDER; never a capped one. Round robin within a class.
     */
    pick(runnable: readonly K[], now: number): K[];
    /** Milliseconds until capped domains may run again. */
    untilNextPeriod(now: number): number;
    charge(key: K, ms: number): void;
    /** The domain's weight and cap (xl sched-credit's columns). */
    params(key: K): {
        weight: number;
        cap: number;
    } | undefined;
}
