/** The calling thread's kernel id (Linux), or undefined. */
export declare function currentThreadId(): number | undefined;
/** Reads one thread's state; the file stays open, so a read is one pread (a few µs, not an open and a close). */
export declare class ThreadState {
    #private;
    private constructor();
    /** A reader for a thread of this process, or undefined where /proc does not tell. */
    static open(tid: number): ThreadState | undefined;
    /** Whether the thread is on a CPU or waiting for one; undefined once it is gone or closed. */
    runnable(): boolean | undefined;
    /** CPU time the thread has used (utime + stime, in ms), or undefined once it is gone. */
    cpuMs(): number | undefined;
    close(): void;
}
