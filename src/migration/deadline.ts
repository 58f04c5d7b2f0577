// A deadline on a peer's bytes, judged by what dom0 had the chance to read. A timer runs before
// the loop polls for I/O: after dom0's thread was blocked past the deadline (a restore's suspend
// record near its bound, a guest's build), a plain timer fires first and cuts a peer whose bytes
// had been waiting in the socket all along. Here the expiry waits for the poll that follows the
// timer (setImmediate runs after it): what came meanwhile is read first, and only a peer that
// had not sent it by then is cut. A trickling one is cut as before: the time is the wall clock's.

/** Calls `expire` `ms` from now, once the loop has read what came meanwhile, unless the returned cancel comes first. */
export function readDeadline(ms: number, expire: () => void): () => void {
  let polled: NodeJS.Immediate | undefined;
  const timer = setTimeout(() => (polled = setImmediate(expire)), ms);
  return () => {
    clearTimeout(timer);
    if (polled) clearImmediate(polled);
  };
}
