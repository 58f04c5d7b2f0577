// The migration benchmark's client on a third domain: an HTTP/1.1 client on one keep-alive
// connection to `target=`:80 (bench/guests/dirty.ts with `http`), sending GET / every
// `interval=` ms (1), pipelined, and timing the answers. Its TCP retransmits every
// `rto=` ms (2) without backing off (for up to 10 s): it is a measuring instrument, so that the time without an
// answer is the server's downtime and not the client's backoff. A run starts when dom0 writes
// data/probe/run = N: the prober writes data/probe/ready = N once answers come, and when dom0
// writes data/probe/stop = N (after data/probe/window = 'FROM TO', epoch ms) it writes
// data/probe/result = 'N {"sent", "answered", "reconnects", "max_gap_ms", "gaps", "waits", "before"}',
// max_gap_ms being the longest time without an answer during the run, gaps the times without
// an answer longer than 10 ms as [began (epoch ms), ms], and waits the requests that waited
// longer than 10 ms for their answers as [written (epoch ms), ms], of each those that overlap
// the window (the longest 40: the result is one xenstore value), to place them among the hosts'
// marks; before the longest wait answered before the window began ([written, ms], [0, 0] if
// none: for the migration bench, the pre-copy's, which starts at the run's first answer). A gap begins when an answer is read, so an answer the source sent before it froze but
// read late splits the time without an answer in two; the wait of the first request it did not
// answer spans all of it.
import type { OS } from 'xenode';

/** Requests sent and not yet answered, at most. */
const MAX_OUTSTANDING = 256;
/** Times kept of requests written: more than can be outstanding. */
const WRITTEN_RING = 512;
/** Gaps and waits longer than this are kept (the last KEPT of each), and at most REPORTED of each reported. */
const KEEP_OVER_MS = 10;
const KEPT = 10_000;
const REPORTED = 40;

/** [at (epoch ms), ms], rounded. */
function keep(list: [number, number][], at: number, ms: number): void {
  if (ms <= KEEP_OVER_MS) return;
  if (list.length === KEPT) list.shift();
  list.push([Math.round((performance.timeOrigin + at) * 10) / 10, Math.round(ms * 100) / 100]);
}

/** The longest of `list` that ended before `from` ([0, 0] if none). */
function longestBefore(list: [number, number][], from: number): [number, number] {
  return list.filter(([at, ms]) => at + ms < from).reduce((a, b) => (b[1] > a[1] ? b : a), [0, 0]);
}

/** The longest of `list` that overlap [from, to], in the order they began. */
function within(list: [number, number][], from: number, to: number): [number, number][] {
  const hits = list.filter(([at, ms]) => at <= to && at + ms >= from);
  return hits.sort((x, y) => y[1] - x[1]).slice(0, REPORTED).sort((x, y) => x[0] - y[0]);
}

export default async function main(os: OS): Promise<void> {
  const target = /target=([0-9.]+)/.exec(os.cmdline)?.[1];
  if (!target) throw new Error('target= is missing');
  const interval = Number(/interval=(\d+)/.exec(os.cmdline)?.[1] ?? 1);
  const rto = Number(/rto=(\d+)/.exec(os.cmdline)?.[1] ?? 2);
  // Retries enough for 10 s at that pace before the connection gives up.
  const stack = await os.tcpip({ tcp: { rto: { minRtoMs: rto, maxRtoMs: rto, initialRtoMs: rto }, dataRetries: Math.ceil(10_000 / rto), synRetries: 50 } });
  const request = new TextEncoder().encode(`GET / HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  let run = '';
  for (;;) {
    const next = await os.xenstore.wait('data/probe/run', (v) => v !== undefined && v !== '' && v !== run, { timeout: 3_600_000 });
    run = next!;
    let sent = 0;
    let answered = 0;
    let reconnects = 0;
    /** Whether a connection was made this run: only one made after it is a reconnect (a first connect's retries are not). */
    let connected = false;
    let last = 0;
    let maxGap = 0;
    const gaps: [number, number][] = [];
    const waits: [number, number][] = [];
    /** When each request was written (performance.now), by its number modulo the ring. */
    const written = new Float64Array(WRITTEN_RING);
    let stopped = false;
    void os.xenstore.wait('data/probe/stop', (v) => v === run, { timeout: 3_600_000 }).then(() => (stopped = true));
    while (!stopped) {
      // One connection for the run; a new one only if it breaks (counted: the guest should keep it).
      const conn = await stack.tcp.connect(target, 80, { noDelay: true }).catch(() => undefined);
      if (!conn) {
        await os.time.sleep(10);
        continue;
      }
      if (connected) reconnects++;
      connected = true;
      let got = '';
      // Answers come in order: this connection's k-th answers its k-th request (earlier
      // connections' unanswered requests are gone with them).
      let nextAnswered = sent;
      conn.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        // Each answer is 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n'.
        let at: number;
        while ((at = got.indexOf('ok\n')) >= 0) {
          got = got.slice(at + 3);
          const now = performance.now();
          const writtenAt = written[nextAnswered++ % WRITTEN_RING]!;
          keep(waits, writtenAt, now - writtenAt);
          if (answered++ === 0) void os.xenstore.write('data/probe/ready', run);
          else {
            maxGap = Math.max(maxGap, now - last);
            keep(gaps, last, now - last);
          }
          last = now;
        }
      });
      conn.on('error', () => {});
      // Pipelined: a request every `interval` ms whether or not the last was answered (at most
      // MAX_OUTSTANDING unanswered), so that the answers' gaps time the server, not the round trip.
      while (!stopped && !conn.destroyed) {
        if (sent - nextAnswered < MAX_OUTSTANDING) {
          written[sent % WRITTEN_RING] = performance.now();
          conn.write(request);
          sent++;
        }
        await os.time.sleep(interval);
      }
      conn.destroy();
    }
    const [from, to] = ((await os.xenstore.readOptional('data/probe/window')) ?? '').split(' ').map(Number);
    const [f, t] = Number.isFinite(from) && Number.isFinite(to) ? [from!, to!] : [-Infinity, Infinity];
    await os.xenstore.write('data/probe/result', `${run} ${JSON.stringify({ sent, answered, reconnects, max_gap_ms: maxGap, gaps: within(gaps, f, t), waits: within(waits, f, t), before: longestBefore(waits, f) })}`);
  }
}
