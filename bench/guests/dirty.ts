// A guest for the migration benchmark: fills `mb=` MiB of I/O memory, then (with `rate=N`)
// rewrites N random pages every 10 ms, so a migration's pre-copy has frames to chase. It hands
// over where its pages are, and checks them when resumed. With `http`, it also serves HTTP/1.1
// on port 80 on its vif's ip= (every request gets a 3-byte answer; keep-alive connections, which
// its TCP/IP stack carries across a migration, so a client times the downtime on one
// connection) and, when resumed, writes data/dirty-times = 'MAIN SERVING': when main(os) was
// called and when it listened again (epoch ms).
import type { OS } from 'xenode';

const epoch = () => performance.timeOrigin + performance.now();

export default async function main(os: OS): Promise<void> {
  const mainAt = epoch();
  const state = os.resumed as { offset: number; bytes: number } | undefined;
  const args = (k: string, d: number) => Number(new RegExp(`${k}=(\\d+)`).exec(os.cmdline)?.[1] ?? d);
  const pages = state ? os.io.reclaim(state.offset, state.bytes) : os.io.alloc(args('mb', 8) * 2 ** 20);
  const w = new Uint32Array(pages.buffer, pages.byteOffset, pages.byteLength >> 2);
  if (!state) for (let i = 0; i < w.length; i++) w[i] = (i * 2654435761) >>> 0;
  os.lifecycle.onSuspend(() => ({ offset: pages.byteOffset, bytes: pages.byteLength }));
  if (os.cmdline.split(/\s+/).includes('http')) {
    const stack = await os.tcpip();
    const answer = new TextEncoder().encode('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n');
    stack.tcp.listen(80, (conn) => {
      conn.setNoDelay(true);
      conn.on('error', () => {});
      // Requests are small and the client sends one at a time: one answer per blank line seen.
      let tail = '';
      conn.on('data', (d: Buffer) => {
        const parts = (tail + d.toString('latin1')).split('\r\n\r\n');
        tail = parts.pop()!;
        for (let i = 0; i < parts.length; i++) conn.write(answer);
      });
    });
    if (state) await os.xenstore.write('data/dirty-times', `${mainAt} ${epoch()}`);
  }
  await os.xenstore.write('data/dirty', state ? 'resumed' : 'filled');
  const rate = args('rate', 0);
  const n = pages.byteLength >> 12;
  let seed = 1;
  for (;;) {
    for (let i = 0; i < rate; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      w[((seed % n) << 10) + (i & 1023)] = seed;
    }
    await os.time.sleep(10);
  }
}
