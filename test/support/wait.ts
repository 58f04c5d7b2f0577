// Waiting in tests: bounded by wall-clock time, not by a count of turns (a loaded machine runs
// fewer turns in the same time).

/** Poll `done` every `everyMs` until it holds or `ms` pass; returns whether it held. */
export async function waitFor(done: () => boolean, ms = 5000, everyMs = 10): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (done()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return done();
}
