// Never yields once main() runs: what the watchdog is for.
import type { OS } from 'xenode';
export default async function main(os: OS): Promise<void> {
  await os.xenstore.write('data/spin/started', '1');
  for (;;);
}
