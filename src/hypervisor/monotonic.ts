// Milliseconds on the host's monotonic clock: libuv's, which performance.now() reads too, from
// another origin. For a thread's own deadlines and durations, and for what a vCPU thread runs
// before main(): its first touch of `performance` loads Node's perf_hooks, about 0.75 ms of a
// cold create on this VM (docs/PERFORMANCE.md, issue 17, cold16). process.hrtime is set up with
// every thread, and reads faster than performance.now() on Node 20.
export function monotonicMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}

/**
 * Epoch ms, as BootMarks and RuntimeMarks have it: comparable across threads (a thread's
 * performance.timeOrigin is its own start, and now() counts from it). In a realm, `performance`
 * is the realm's (guest/realm/globals.ts). Its first use on a thread loads perf_hooks.
 */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * What turns monotonicMs() into this thread's wall clock as BootMarks have it (wallMs()): dom0
 * sends it with a boot, so that the vCPU thread's marks are on dom0's clock without perf_hooks.
 */
export function monotonicToWall(): number {
  return wallMs() - monotonicMs();
}
