// Work that many events ask for in one turn of the event loop, done once at its end: so a
// turn's requests are published together, with at most one notification.

/** A function that runs `fn` once, in a microtask, however often it is called before then. */
export function oncePerTurn(fn: () => void): () => void {
  let queued = false;
  // Made once: a turn's first call queues it without allocating.
  const run = (): void => {
    queued = false;
    fn();
  };
  return () => {
    if (queued) return;
    queued = true;
    queueMicrotask(run);
  };
}
