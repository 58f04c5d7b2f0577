// Sleeps 10 ms at a time and measures how late each wake-up is: what its pool mates cost it.
// Writes data/tick/result (JSON: median and p99 lateness in ms) after `ticks=` wake-ups.
import type { OS } from 'xenode';
export default async function main(os: OS): Promise<void> {
  const ticks = Number(/ticks=([0-9]+)/.exec(os.cmdline)?.[1] ?? 200);
  const late: number[] = [];
  for (let i = 0; i < ticks; i++) {
    const t0 = performance.now();
    await os.time.sleep(10);
    late.push(performance.now() - t0 - 10);
  }
  late.sort((a, b) => a - b);
  const at = (p: number) => late[Math.min(late.length - 1, Math.ceil((p / 100) * late.length) - 1)]!;
  await os.xenstore.write('data/tick/result', JSON.stringify({ median_ms: at(50), p99_ms: at(99), max_ms: late[late.length - 1] }));
  await os.lifecycle.awaitShutdownRequest();
  await os.shutdown('poweroff');
}
