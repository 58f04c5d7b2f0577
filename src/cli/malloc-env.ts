// The host daemon's allocator setting, which `xenode host start` spawns it with, and which the
// benchmarks that measure a host's memory run under too (bench/support/harness.ts).
/**
 * The daemon's allocator setting. glibc raises its mmap threshold (up to 32 MiB) each time a
 * large block it had mmapped is freed; from then on blocks of that size come from the main
 * heap, where the allocations that each guest's create and destroy leave behind fragment it:
 * a host that had run 1,000 guests held 750 MB more than after 10 (docs/PERFORMANCE.md,
 * "Memory after churn"). Guests' memory buffers then come from that heap too, and are zeroed
 * there, page by page: an idle memory=16 guest in a shared pool held 9 MiB of RSS instead of
 * 0.7 (issue 18). A fixed threshold keeps large blocks in mmap, untouched until used and
 * returned when freed.
 * A value the user set wins; it is read when the process starts, so only a spawn can set it.
 */
export const DAEMON_MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: '131072' } as const;

/** Whether this process started with the daemon's allocator setting (or the user's own values). */
export const mallocTuned = (): boolean => Object.keys(DAEMON_MALLOC_ENV).every((k) => process.env[k] !== undefined);
