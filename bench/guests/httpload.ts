// httpload: a load-generator guest for `npm run bench -- www-guests`: over its own TCP/IP stack
// (os.tcpip(), DHCP from the bridge's gateway) it runs bench/support/http-load.ts against
// target=ADDRESS:PORT each time dom0 writes a round's number to data/httpload/go, and writes
// that round's result as JSON ({ round, ...LoadResult }) to data/httpload/result.
//
// extra= words: target=10.0.2.15:80  connections=30  path=/hello  ramp=1  runtime=10
import type { OS } from 'xenode';
import { httpLoad } from '../support/http-load.js';

export default async function main(os: OS): Promise<void> {
  const word = (key: string) => os.cmdline.split(/\s+/).find((w) => w.startsWith(`${key}=`))?.slice(key.length + 1);
  const [address, port] = (word('target') ?? '').split(':');
  if (!address || !port) throw new Error(`target= must be ADDRESS:PORT, not ${word('target')}`);
  const stack = await os.tcpip();
  await os.xenstore.write('data/httpload/ready', stack.address?.address ?? '');
  const load = {
    connections: Number(word('connections') ?? 30), path: word('path') ?? '/hello', host: address,
    rampMs: Number(word('ramp') ?? 1) * 1000, runtimeMs: Number(word('runtime') ?? 10) * 1000,
  };
  let done = 0;
  // Rounds until dom0 asks the domain to shut down (it destroys it).
  for (;;) {
    const round = Number(await os.xenstore.wait('data/httpload/go', (v) => v !== undefined && Number(v) > done));
    const result = await httpLoad(async () => {
      const s = await stack.tcp.connect(address, Number(port));
      s.setNoDelay(true);
      return s;
    }, load, (ms) => os.time.sleep(ms), () => os.time.monotonicMs());
    await os.xenstore.write('data/httpload/result', JSON.stringify({ round, ...result }));
    done = round;
  }
}
