// `xenode bridge-tap` against Linux: a host (test/support/tap-host.ts) runs inside a network
// namespace this test creates and removes; its bridge gets a TAP device through socat, and
// Linux's own stack in the namespace reaches the www guest on that bridge without NAT (curl, and
// ping where iputils-ping is installed); a client guest (examples/wget) pings Linux and fetches
// a file from python3's http.server in the namespace; the device goes when the host stops. Needs
// root, ip, socat, curl and python3; skips with the reason otherwise.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hasCommand, netnsUnavailable } from '../support/netns.js';

const missing = (): string | undefined => netnsUnavailable(['ip', 'socat', 'curl', 'python3']);

test('bridge-tap: Linux in a namespace and guests on the bridge reach each other through a TAP device (curl, wget, ping both ways), which goes with the host', { timeout: 180_000 }, async (t) => {
  const why = missing();
  if (why) return t.skip(why);
  const ns = `xntap${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'xntap-'));
  let host: ChildProcess | undefined;
  let http: ChildProcess | undefined;
  const inNs = (cmd: string, args: string[]) => execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { timeout: 60_000 }).toString();
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    inNs('ip', ['link', 'set', 'lo', 'up']);
    const script = fileURLToPath(new URL('../support/tap-host.js', import.meta.url));
    const www = fileURLToPath(new URL('../../../examples/www/www.ts', import.meta.url));
    const wget = fileURLToPath(new URL('../../../examples/wget/wget.ts', import.meta.url));
    host = spawn('ip', ['netns', 'exec', ns, process.execPath, script, join(dir, 'state'), www, wget], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: string[] = [];
    createInterface({ input: host.stdout! }).on('line', (l) => lines.push(l));
    const waitLine = async (want: string, ms: number): Promise<string> => {
      for (const end = Date.now() + ms; Date.now() < end;) {
        const line = lines.find((l) => l === want || l.startsWith(`${want} `));
        if (line !== undefined) return line;
        if (host!.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.fail(`no '${want}' from the host; it said ${JSON.stringify(lines)}`);
    };
    const ready = await waitLine('ready', 90_000);
    const about = JSON.parse(ready.slice('ready '.length)) as { tap: { port: string; address: string }; ports: string[] };
    assert.equal(about.tap.address, '10.98.0.1/24');
    assert.ok(about.ports.includes('tap.xntap9'), `ports ${about.ports}`);
    assert.match(inNs('ip', ['-o', 'addr', 'show', 'xntap9']), /10\.98\.0\.1\/24/);
    // Until the guest has booted and listens: its ARP answer, its ICMP echo, then HTTP.
    let status = '';
    for (const end = Date.now() + 60_000; Date.now() < end && !status;) {
      try {
        status = inNs('curl', ['-s', '--max-time', '3', 'http://10.98.0.2/api/status']);
      } catch {
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const s = JSON.parse(status) as { server: string; address: string };
    assert.equal(s.server, 'xenode-www');
    assert.equal(s.address, '10.98.0.2');
    if (hasCommand('ping')) assert.match(inNs('ping', ['-c', '2', '-W', '5', '10.98.0.2']), /2 received/);
    else t.diagnostic('no ping here (iputils-ping): ICMP echo not checked');
    // The neighbour Linux learned is the guest's own MAC: no NAT, no proxy in between.
    assert.match(inNs('ip', ['neigh', 'show', '10.98.0.2']), /lladdr 00:16:3e:/);
    // The other way: a guest pings Linux and fetches 1 MiB from python3's http.server in the namespace.
    const site = join(dir, 'site');
    mkdirSync(site);
    writeFileSync(join(site, 'blob'), Buffer.alloc(1 << 20, 0x78));
    http = spawn('ip', ['netns', 'exec', ns, 'python3', '-m', 'http.server', '8000', '--bind', '10.98.0.1', '--directory', site], { stdio: 'ignore' });
    // python3 starts slowly on a loaded machine: until Linux itself gets an answer.
    for (let i = 0; i < 240; i++) {
      try { inNs('curl', ['-s', '-o', '/dev/null', '--max-time', '2', 'http://10.98.0.1:8000/blob']); break; } catch { await new Promise((r) => setTimeout(r, 250)); }
    }
    host.stdin!.write('client ping=10.98.0.1 count=3 url=http://10.98.0.1:8000/blob\n');
    const out = JSON.parse((await waitLine('client', 90_000)).slice('client '.length)) as string;
    assert.match(out, /^ping 10\.98\.0\.1: seq 3 time [0-9.]+ ms$/m, out);
    assert.doesNotMatch(out, /ETIMEDOUT/, out);
    assert.match(out, /^fetched http:\/\/10\.98\.0\.1:8000\/blob: 200, 1048576 bytes$/m, out);
    assert.match(inNs('ip', ['neigh', 'show', '10.98.0.3']), /lladdr 00:16:3e:/);
    host.stdin!.end();
    await waitLine('closed', 60_000);
    assert.throws(() => inNs('ip', ['link', 'show', 'xntap9']), 'the TAP device went with the host');
  } finally {
    http?.kill();
    host?.kill();
    try { execFileSync('ip', ['netns', 'del', ns]); } catch { /* already gone */ }
    rmSync(dir, { recursive: true, force: true });
  }
});
