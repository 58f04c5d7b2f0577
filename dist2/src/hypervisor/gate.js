// The hypercall gate: data-path hypercalls may take other domains' locks, so the authority
// kills a vCPU only between them. The vCPU marks CB_IN_HYPERCALL while inside one; the
// authority sets CB_KILL and waits for the mark to clear. Both sides use sequentially
// consistent atomics (Dekker-style): either the vCPU sees CB_KILL before it enters, or the
// authority sees it inside and is woken when it leaves. The wait is Atomics.waitAsync, so
// dom0's thread keeps serving every other domain meanwhile.
import { CB_IN_HYPERCALL, CB_KILL } from './layout.js';
/** What a killed vCPU does at the gate: its own thread blocks for good. */
let killed = (ctl) => {
    for (;;)
        Atomics.wait(ctl, CB_KILL, 1); // being destroyed: never run again
};
/**
 * A domain on a shared pCPU must not block the thread its pool mates run on: its realm (which
 * has its own copy of this module) throws instead, ending the turn, and is never run again.
 */
export function onKilledAtGate(fn) {
    killed = fn;
}
/** vCPU side: enter a hypercall; never returns once the domain is being killed. */
export function enterGate(ctl) {
    Atomics.store(ctl, CB_IN_HYPERCALL, 1);
    if (Atomics.load(ctl, CB_KILL) !== 0) {
        leaveGate(ctl);
        killed(ctl);
    }
}
/** vCPU side: leave it, and wake the authority if it waits to kill us (a notify costs nothing otherwise). */
export function leaveGate(ctl) {
    Atomics.store(ctl, CB_IN_HYPERCALL, 0);
    if (Atomics.load(ctl, CB_KILL) !== 0)
        Atomics.notify(ctl, CB_IN_HYPERCALL);
}
/**
 * Authority side: stop the vCPU from entering hypercalls and wait until it is outside one.
 * 'timed-out': it stayed inside for `killWaitMs` (hypercalls take microseconds, so it died
 * there, out of heap, and the caller breaks the locks it held).
 */
export async function closeGate(ctl, killWaitMs) {
    Atomics.store(ctl, CB_KILL, 1);
    if (Atomics.load(ctl, CB_IN_HYPERCALL) === 0)
        return 'outside';
    const deadline = performance.now() + killWaitMs;
    // Node does not count a pending waitAsync as keeping the process alive (nodejs/node#44729).
    const alive = setInterval(() => { }, 1 << 30);
    try {
        // Woken by leaveGate; looping covers a vCPU that, stopped at enterGate, marks and clears.
        while (Atomics.load(ctl, CB_IN_HYPERCALL) !== 0) {
            const left = deadline - performance.now();
            if (left <= 0)
                return 'timed-out';
            const w = Atomics.waitAsync(ctl, CB_IN_HYPERCALL, 1, left);
            if (w.async)
                await w.value;
        }
        return 'outside';
    }
    finally {
        clearInterval(alive);
    }
}
//# sourceMappingURL=gate.js.map