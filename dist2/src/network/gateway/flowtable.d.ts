export declare class FlowTable<F> {
    #private;
    private readonly max;
    private readonly idleMs;
    private readonly onEnd;
    evicted: number;
    /** `onEnd` closes a flow that leaves the table (idle, evicted, ended, cleared). */
    constructor(max: number, idleMs: number, onEnd: (flow: F) => void);
    get size(): number;
    /** The flow at `key`, now the most recently used, its idle time restarted. */
    touch(key: string): F | undefined;
    /** Add a flow at a new key, evicting the least recently used one when the table is full. */
    add(key: string, flow: F): F;
    /** Traffic for `flow` at `key`: its idle time restarts (false if it is no longer there). */
    refresh(key: string, flow: F): boolean;
    /** End the flow at `key` (only if it is `flow`, when given). */
    end(key: string, flow?: F): void;
    clear(): void;
}
