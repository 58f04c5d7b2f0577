// The migration benchmark's client on a third domain: sends a numbered UDP datagram to
// `target=`:7 every `interval=` ms (1) and times the answers. A run starts when dom0 writes
// data/probe/run = N: the prober writes data/probe/ready = N once answers come, and when dom0
// writes data/probe/stop = N it writes data/probe/result = 'N {"sent", "answered",
// "max_gap_ms", "gaps"}', max_gap_ms being the longest time without an answer during the run and
// gaps every time without an answer longer than 10 ms as [began (epoch ms), ms] (the first 100),
// to place them among the hosts' marks.
import type { OS } from 'xenode';

export default async function main(os: OS): Promise<void> {
  const target = /target=([0-9.]+)/.exec(os.cmdline)?.[1];
  if (!target) throw new Error('target= is missing');
  const interval = Number(/interval=(\d+)/.exec(os.cmdline)?.[1] ?? 1);
  const stack = await os.tcpip();
  let run = '';
  let sent = 0;
  let answered = 0;
  let last = 0;
  let maxGap = 0;
  let gaps: [number, number][] = [];
  const sock = stack.udp.bind(40007, () => {
    if (!run) return;
    const now = performance.now();
    if (answered++ === 0) void os.xenstore.write('data/probe/ready', run);
    else {
      maxGap = Math.max(maxGap, now - last);
      if (now - last > 10 && gaps.length < 100) gaps.push([performance.timeOrigin + last, now - last]);
    }
    last = now;
  });
  const msg = new Uint8Array(8);
  const view = new DataView(msg.buffer);
  for (;;) {
    const next = await os.xenstore.wait('data/probe/run', (v) => v !== undefined && v !== '' && v !== run, { timeout: 3_600_000 });
    run = next!;
    sent = answered = last = maxGap = 0;
    gaps = [];
    let stopped = false;
    void os.xenstore.wait('data/probe/stop', (v) => v === run, { timeout: 3_600_000 }).then(() => (stopped = true));
    while (!stopped) {
      view.setUint32(0, sent++);
      sock.send(msg, target, 7);
      await os.time.sleep(interval);
    }
    await os.xenstore.write('data/probe/result', `${run} ${JSON.stringify({ sent, answered, max_gap_ms: maxGap, gaps })}`);
  }
}
