// A bound on a wait the runtime may give up on (a suspend's quiesce, a parked restore's vifs).

/** `p`, or nothing once `ms` have passed, whichever comes first (the timer cleared either way). */
export function within(p: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]).finally(() => clearTimeout(timer));
}
