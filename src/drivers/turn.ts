// Work that many events ask for in one turn of the event loop, done once at its end: so a
// turn's requests are published together, with at most one notification. And work that took
// its share of a turn, put off to a later one.

/** `fn`, once when `queue` runs it, however often the returned function is called before then. */
function coalesced(fn: () => void, queue: (run: () => void) => void): () => void {
  let queued = false;
  // Made once: a turn's first call queues it without allocating.
  const run = (): void => {
    queued = false;
    fn();
  };
  return () => {
    if (queued) return;
    queued = true;
    queue(run);
  };
}

/** A function that runs `fn` once, in a microtask, however often it is called before then. */
export function oncePerTurn(fn: () => void): () => void {
  return coalesced(fn, queueMicrotask);
}

/**
 * A function that runs `fn` once in a later turn of the event loop (setImmediate), however often
 * it is called before then: a backend's service() that used its budget goes on after the timers,
 * I/O and other backends that were waiting. (A microtask would not let them in.)
 */
export function inLaterTurn(fn: () => void): () => void {
  return coalesced(fn, setImmediate);
}
