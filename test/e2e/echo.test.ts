// The echo example (examples/echo, RFC 862) end to end through its host port forwards, as its
// echo.cfg sets them up (with free host ports): node:net sends 1 MiB on each of 8 connections
// at once and half-closes, and gets every byte back followed by the guest's FIN; a client
// that reads nothing for a while still gets all of its echo afterwards; a UDP datagram comes
// back to its sender; Debian's socat, where installed, talks to it too.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startLocalHost } from '../../src/toolstack/local.js';
import { ROOT } from '../support/cli.js';
import { echoed } from '../support/echo.js';
import { freePort } from '../support/ports.js';

const SOCAT = '/usr/bin/socat';
const run = promisify(execFile);

test('examples/echo: TCP and UDP echo through the host forwards of its echo.cfg, with half-close and backpressure', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xenode-echo-'));
  const local = await startLocalHost({ stateDir: join(dir, 'state'), poolSize: 1 });
  t.after(async () => {
    await local.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const [tcpPort, udpPort] = [await freePort(), await freePort()];
  const cfg = readFileSync(join(ROOT, 'examples/echo/echo.cfg'), 'utf8')
    .replace('kernel = "echo.ts"', `kernel = "${join(ROOT, 'examples/echo/echo.ts')}"`)
    .replace(`forward = [ 'tcp:7007:7', 'udp:7007:7' ]`, `forward = [ 'tcp:${tcpPort}:7', 'udp:${udpPort}:7' ]`);
  assert.match(cfg, new RegExp(`tcp:${tcpPort}:7`), 'echo.cfg has the forwards this test rewrites');
  await local.api.call('create', { file: join(dir, 'echo.cfg'), text: cfg });
  // Until the guest has its lease and listens: a small echo through the forward.
  let first: Buffer = Buffer.alloc(0);
  for (let i = 0; i < 300 && first.toString() !== 'hello\n'; i++) {
    first = await echoed(tcpPort, Buffer.from('hello\n')).catch(() => Buffer.alloc(0));
    if (first.toString() !== 'hello\n') await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(first.toString(), 'hello\n');

  const blobs = Array.from({ length: 8 }, () => randomBytes(1 << 20));
  const back = await Promise.all(blobs.map((b) => echoed(tcpPort, b)));
  back.forEach((b, i) => assert.ok(b.equals(blobs[i]!), `connection ${i}: ${b.length} bytes back, not the 1 MiB sent`));

  // A client that reads nothing for a second: the echo waits for it, then all 4 MiB arrive.
  const big = randomBytes(4 << 20);
  assert.ok((await echoed(tcpPort, big, 1000)).equals(big));

  const udp = createSocket('udp4');
  t.after(() => udp.close());
  const answer = new Promise<Buffer>((resolve) => udp.once('message', (m) => resolve(m)));
  udp.send('ping over udp', udpPort, '127.0.0.1');
  assert.equal((await answer).toString(), 'ping over udp');

  if (!existsSync(SOCAT)) return t.diagnostic(`${SOCAT} is not installed (apt-get install socat): socat not checked`);
  const viaSocat = await run('sh', ['-c', `printf 'line one\\nline two\\n' | ${SOCAT} -t 5 - TCP:127.0.0.1:${tcpPort}`], { timeout: 30_000 });
  assert.equal(viaSocat.stdout, 'line one\nline two\n');
});
