// An idle guest: it boots, then waits until it is asked to shut down.
import type { OS } from 'xenode';

export default async function main(os: OS): Promise<void> {
  await os.lifecycle.awaitShutdownRequest();
  await os.shutdown('poweroff');
}
