// Time as the stack sees it: a millisecond clock and cancellable one-shot timers, injected so
// that tests run on a virtual clock and a guest can drive the stack from its own timer source.
/** The host's clock: performance.now() and setTimeout. */
export const realClock = {
    now: () => performance.now(),
    setTimer(ms, fn) {
        const t = setTimeout(fn, ms);
        return { cancel: () => clearTimeout(t) };
    },
};
/** A timer slot that holds at most one pending timer: arming it again replaces the old one. */
export class TimerSlot {
    clock;
    #timer;
    constructor(clock) {
        this.clock = clock;
    }
    get armed() {
        return this.#timer !== undefined;
    }
    arm(ms, fn) {
        this.#timer?.cancel();
        const t = this.clock.setTimer(ms, () => {
            if (this.#timer === t)
                this.#timer = undefined;
            fn();
        });
        this.#timer = t;
    }
    /** Arm only when not already armed (a deadline that must not be pushed back). */
    ensure(ms, fn) {
        if (!this.#timer)
            this.arm(ms, fn);
    }
    cancel() {
        this.#timer?.cancel();
        this.#timer = undefined;
    }
}
/**
 * A Clock over a guest's `os.time` (src/guest/time.ts), whose timers are sleeps: cancelling a
 * timer aborts its sleep, so the stack's many cancelled timers (TCP re-arms often) leave nothing behind.
 */
export function clockFromTime(time) {
    return {
        now: () => Number(time.monotonic() / 1000n) / 1000,
        setTimer(ms, fn) {
            const ac = new AbortController();
            // Checked again on waking: a Time may end a sleep without heeding its signal.
            time.sleep(Math.max(0, ms), { signal: ac.signal }).then(() => {
                if (!ac.signal.aborted)
                    fn();
            }, () => undefined);
            return { cancel: () => ac.abort() };
        },
    };
}
//# sourceMappingURL=clock.js.map