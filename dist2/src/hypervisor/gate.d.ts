/**
 * A domain on a shared pCPU must not block the thread its pool mates run on: its realm (which
 * has its own copy of this module) throws instead, ending the turn, and is never run again.
 */
export declare function onKilledAtGate(fn: (ctl: Int32Array) => never): void;
/** vCPU side: enter a hypercall; never returns once the domain is being killed. */
export declare function enterGate(ctl: Int32Array): void;
/** vCPU side: leave it, and wake the authority if it waits to kill us (a notify costs nothing otherwise). */
export declare function leaveGate(ctl: Int32Array): void;
/**
 * Authority side: stop the vCPU from entering hypercalls and wait until it is outside one.
 * 'timed-out': it stayed inside for `killWaitMs` (hypercalls take microseconds, so it died
 * there, out of heap, and the caller breaks the locks it held).
 */
export declare function closeGate(ctl: Int32Array, killWaitMs: number): Promise<'outside' | 'timed-out'>;
