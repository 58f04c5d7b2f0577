// A bound on a wait the runtime may give up on (a suspend's quiesce, a parked restore's vifs).

/**
 * `p`, or nothing once `ms` have passed, whichever comes first (the timer cleared either way).
 * `unref`: the timer does not keep the process alive, for a wait in the background that a
 * closing host need not sit out (a shell pool's refill hold).
 */
export function within(p: Promise<unknown>, ms: number, opts?: { readonly unref?: boolean }): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise((r) => {
    timer = setTimeout(r, ms);
    if (opts?.unref) timer.unref();
  })]).finally(() => clearTimeout(timer));
}
