// An idle guest for the create and density benchmarks: it boots, then waits for shutdown.
import type { OS } from 'xenode';
export default async function main(os: OS): Promise<void> {
  await os.lifecycle.awaitShutdownRequest();
  await os.shutdown('poweroff');
}
