// Linux's TCP/IP stack against ours through a TAP device in a network namespace this test
// creates and removes: socat relays the TAP's frames to our stack as UDP datagrams on the
// namespace's loopback. Our ping of Linux, curl from Linux to us, our client fetching from python3's
// http.server. Needs root, ip, socat, curl and python3; skips with the reason otherwise.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { netnsUnavailable } from '../support/netns.js';

const missing = (): string | undefined => netnsUnavailable(['ip', 'socat', 'curl', 'python3']);

/**
 * Lines of a child's stdout; each call takes (and consumes) the next line matching `want`. It
 * fails once the child has exited without one, or after `ms` if given.
 */
function lines(p: ChildProcess): (want: RegExp, ms?: number) => Promise<string> {
  const unread: string[] = [];
  const all: string[] = [];
  let wake = () => {};
  let exited: string | undefined;
  createInterface({ input: p.stdout! }).on('line', (l) => {
    unread.push(l);
    all.push(l);
    wake();
  }).on('close', () => {
    exited = 'its output ended (it exited)';
    wake();
  });
  return (want, ms) => new Promise((resolve, reject) => {
    let t: NodeJS.Timeout | undefined;
    const settle = (f: () => void) => {
      clearTimeout(t);
      wake = () => {}; // a call that gave up consumes no later line
      f();
    };
    const look = () => {
      const i = unread.findIndex((l) => want.test(l));
      if (i >= 0) settle(() => resolve(unread.splice(i, 1)[0]!));
      else if (exited) settle(() => reject(new Error(`no line matching ${want}: ${exited}; saw ${JSON.stringify(all)}`)));
    };
    wake = look;
    if (ms !== undefined) t = setTimeout(() => settle(() => reject(new Error(`no line matching ${want} in ${ms} ms; saw ${JSON.stringify(all)}`))), ms);
    look();
  });
}

test('Linux talks TCP, ICMP and ARP with our stack through a TAP device', { timeout: 120_000 }, async (t) => {
  const why = missing();
  if (why) return t.skip(why);
  const ns = `xntcp${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'xntcp-'));
  const procs: ChildProcess[] = [];
  const inNs = (cmd: string, args: string[]) => execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { timeout: 60_000 });
  // Why a fetch stalled (UDP drops at the relay's sockets, TCP's retransmissions and timeouts), for its message.
  const linuxCounters = () => {
    try {
      return inNs('nstat', ['-asz']).toString().split('\n')
        .filter((l) => /^(Udp(RcvbufErrors|SndbufErrors|InErrors)|Tcp(RetransSegs|ExtTCPTimeouts|ExtTCPLossProbes|ExtTCPSackRecovery)) /.test(l))
        .map((l) => l.split(/\s+/).slice(0, 2).join('=')).join(' ');
    } catch (e) {
      return `unavailable (${(e as Error).message})`;
    }
  };
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    inNs('ip', ['link', 'set', 'lo', 'up']);
    const ours = 40000 + (process.pid % 10000);
    const socatPort = ours + 1;
    // Our end first: socat gives up if its first datagram finds nobody listening.
    const peerJs = fileURLToPath(new URL('../support/tcpip-tap-peer.js', import.meta.url));
    const peer = spawn('ip', ['netns', 'exec', ns, process.execPath, peerJs, String(ours), String(socatPort)], { stdio: ['pipe', 'pipe', 'inherit'] });
    procs.push(peer);
    const next = lines(peer);
    // Node's start and the stack's modules: seconds on a loaded machine (10 s once ran out at load
    // 10-30). No time of its own: the peer either says it is ready or exits (the test's timeout bounds it).
    await next(/^ready$/);
    const socat = spawn('ip', ['netns', 'exec', ns, 'socat', '-b', '65536',
      `TUN:10.99.0.1/24,tun-type=tap,iff-no-pi,iff-up,tun-name=xntap0`, `UDP:127.0.0.1:${ours},bind=127.0.0.1:${socatPort}`], { stdio: 'ignore' });
    procs.push(socat);
    // Wait for the TAP device to be up before the first ping.
    for (let i = 0; i < 50; i++) {
      try { inNs('ip', ['link', 'show', 'xntap0']); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
    }
    // Our ping of Linux (ARP both ways, ICMP echo answered by Linux).
    peer.stdin!.write('ping\n');
    assert.match(await next(/^p/, 10_000), /^pong/);
    const size = inNs('curl', ['-s', '-o', '/dev/null', '-w', '%{size_download}', '--max-time', '30', 'http://10.99.0.2:8080/']).toString();
    assert.equal(size, String(1 << 20));
    writeFileSync(join(dir, 'blob'), Buffer.alloc(3 << 20, 0x62));
    const http = spawn('ip', ['netns', 'exec', ns, 'python3', '-m', 'http.server', '8081', '--bind', '10.99.0.1', '--directory', dir], { stdio: 'ignore' });
    procs.push(http);
    // python3 starts slowly on a loaded machine: wait until Linux itself gets an answer.
    for (let i = 0; i < 120; i++) {
      try { inNs('curl', ['-s', '-o', '/dev/null', '--max-time', '2', 'http://10.99.0.1:8081/blob']); break; } catch { await new Promise((r) => setTimeout(r, 250)); }
    }
    let fetched = '';
    let last = '';
    // python3 takes seconds to start on a loaded machine: refusals until it listens.
    for (const end = Date.now() + 60_000; Date.now() < end && !fetched.startsWith('fetched');) {
      await new Promise((r) => setTimeout(r, 250));
      peer.stdin!.write('fetch 8081\n');
      fetched = await next(/^fetch/, 30_000).catch((e: Error) => e.message);
      last = fetched;
      if (fetched.includes('refused')) fetched = '';
    }
    const n = Number(/^fetched (\d+)/.exec(fetched)?.[1]);
    assert.ok(n > 3 << 20, `fetched: ${fetched} (last: ${last}); Linux's counters in the namespace: ${linuxCounters()}`);
  } finally {
    for (const p of procs) p.kill();
    try { execFileSync('ip', ['netns', 'del', ns]); } catch { /* already gone */ }
    rmSync(dir, { recursive: true, force: true });
  }
});
