// Work that many events ask for in one turn of the event loop, done once at its end: so a
// turn's requests are published together, with at most one notification.
/** A function that runs `fn` once, in a microtask, however often it is called before then. */
export function oncePerTurn(fn) {
    let queued = false;
    return () => {
        if (queued)
            return;
        queued = true;
        queueMicrotask(() => {
            queued = false;
            fn();
        });
    };
}
//# sourceMappingURL=turn.js.map