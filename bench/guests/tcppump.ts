// tcppump: the guests of `npm run bench -- tcp-guests`, over their own TCP/IP stacks (os.tcpip(),
// DHCP from the bridge's gateway). `role=sink` serves bench/support/tcp-pump.ts's sink on
// `port=`; `role=source` waits for dom0 to write data/tcppump/go, pumps `mib=` MiB to
// `target=ADDRESS:PORT` `runs=` times, a connection each, and writes the results as JSON to
// data/tcppump/result.
//
// extra= words: role=sink port=5001 | role=source target=10.0.2.15:5001 mib=128 runs=4
import type { OS } from 'xenode';
import { pumpBytes, sinkConnection, type PumpResult } from '../support/tcp-pump.js';

export default async function main(os: OS): Promise<void> {
  const word = (key: string) => os.cmdline.split(/\s+/).find((w) => w.startsWith(`${key}=`))?.slice(key.length + 1);
  const stack = await os.tcpip();
  // What the vif negotiated: the stack leaves checksums blank and sends GSO super-frames when it may.
  await os.xenstore.write('data/tcppump/offloads', JSON.stringify(stack.net.offloads));
  if (word('role') === 'sink') {
    stack.tcp.listen(Number(word('port') ?? 5001), sinkConnection);
    await os.xenstore.write('data/tcppump/ready', stack.address?.address ?? '');
  } else {
    const [address, port] = (word('target') ?? '').split(':');
    if (!address || !port) throw new Error(`target= must be ADDRESS:PORT, not ${word('target')}`);
    const bytes = Number(word('mib') ?? 128) * (1 << 20);
    await os.xenstore.write('data/tcppump/ready', stack.address?.address ?? '');
    await os.xenstore.wait('data/tcppump/go', (v) => v === '1');
    const results: PumpResult[] = [];
    for (let i = Number(word('runs') ?? 1); i > 0; i--) {
      const s = await stack.tcp.connect(address, Number(port));
      results.push(await pumpBytes(s, bytes, () => Number(os.time.monotonic()) / 1e6));
    }
    await os.xenstore.write('data/tcppump/result', JSON.stringify(results));
  }
  await os.lifecycle.awaitShutdownRequest();
  await os.shutdown('poweroff');
}
