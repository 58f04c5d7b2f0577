// Always runnable, never sleeping: it computes for 2 ms, yields with setImmediate, and again.
import type { OS } from 'xenode';
export default async function main(os: OS): Promise<void> {
  void os;
  for (;;) {
    const end = performance.now() + 2;
    while (performance.now() < end);
    await new Promise((r) => setImmediate(r));
  }
}
