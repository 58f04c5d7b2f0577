// The guest keeps its TCP connections across a checkpoint, a save + restore and a live
// migration (issue 16): examples/echo, with an address from the DHCP server of host A's
// gateway, is reached from the host through a port forward of that gateway; one node:net
// connection stays open while the guest is checkpointed, saved and restored on A, then migrated
// to B, whose bridge a VXLAN link joins to A's. The same connection echoes after each step, and is never closed or reset: the guest's stack
// (sequence numbers, windows, unacknowledged and unread bytes, the listening port, the lease)
// travelled in its suspend record, and TCP's retransmissions covered the frames lost in the gap.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { DaemonRig } from '../support/host-daemon.js';
import { hostOf, hostPairForTests } from '../support/migration-hosts.js';

const ECHO = fileURLToPath(new URL('../../../examples/echo/echo.ts', import.meta.url));
const MAC = '00:16:3e:3c:01:07';
const BRIDGE = 'xenbr-tcpmig';
let a: DaemonRig, b: DaemonRig, token: string, target: string;
hostPairForTests('migrate-tcp', (p) => ({ a, b, token, target } = p));

/** A line-at-a-time view of one connection: send a line, wait (bounded) for its echo. */
function lines(sock: Socket): (line: string) => Promise<string> {
  let buf = '';
  sock.on('data', (d: Buffer) => (buf += d.toString()));
  return async (line) => {
    const before = buf.length;
    sock.write(`${line}\n`);
    for (const end = Date.now() + 30_000; Date.now() < end; await new Promise((r) => setTimeout(r, 10))) {
      const got = buf.slice(before);
      if (got.endsWith('\n')) return got.trimEnd();
      if (sock.destroyed) break;
    }
    return `no echo of ${line} (destroyed: ${sock.destroyed}): ${JSON.stringify(buf.slice(before))}`;
  };
}

test('a host client\'s TCP connection to the guest goes on across save + restore and a live migration to another host', { timeout: 180_000 }, async () => {
  const [va, vb] = await Promise.all([hostOf(a).switch.vtep({ address: '127.0.0.1', port: 0 }), hostOf(b).switch.vtep({ address: '127.0.0.1', port: 0 })]);
  await hostOf(a).switch.link(BRIDGE, vb.local, { local: va.local });
  await hostOf(b).switch.link(BRIDGE, va.local, { local: vb.local });
  const gw = hostOf(a).gateway(BRIDGE);
  const fwd = await gw.forward({ proto: 'tcp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 7 }, () => gw.leaseFor(MAC));
  const cfg = a.cfgFile('echo-tcpmig', `name = "echo-tcpmig"\nkernel = "${ECHO}"\nmemory = 32\nvif = [ 'mac=${MAC},bridge=${BRIDGE}' ]\n`);
  await a.ts.call('create', { file: cfg });

  // One connection, opened once the guest has its lease and listens.
  let sock: Socket | undefined;
  let ask: ((line: string) => Promise<string>) | undefined;
  for (let i = 0; i < 200 && !ask; i++) {
    const s = connect(fwd.boundPort, '127.0.0.1');
    s.on('error', () => {});
    const talk = lines(s);
    if ((await talk('hello')) === 'hello') {
      sock = s;
      ask = talk;
    } else {
      s.destroy();
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  assert.ok(sock && ask, 'the echo guest answers through the forward');
  const accepted = fwd.counters.accepted;
  let closed = '';
  sock.on('close', () => (closed = 'closed'));
  sock.on('error', (e) => (closed = e.message));

  // A checkpoint (save -c): the guest resumes in place, its stack takes frames again.
  await a.ts.call('save', { domain: 'echo-tcpmig', file: join(a.dir, 'echo-tcpmig-cp.save'), checkpoint: true });
  assert.equal(await ask('after the checkpoint'), 'after the checkpoint');

  const file = join(a.dir, 'echo-tcpmig.save');
  await a.ts.call('save', { domain: 'echo-tcpmig', file });
  sock.write('sent while the guest is saved\n'); // lost in the gap or held by the gateway: retransmitted
  await a.ts.call('restore', { file });
  assert.equal(await ask('after the restore'), 'sent while the guest is saved\nafter the restore');

  const r = await a.ts.call('migrate', { domain: 'echo-tcpmig', target, token });
  assert.equal(r.messages.at(-1), 'Migration successful.');
  assert.ok(hostOf(b).hv.domains().some((d) => d.name === 'echo-tcpmig'), 'it runs on B');
  assert.equal(await ask('after the migration'), 'after the migration');
  for (let i = 0; i < 20; i++) assert.equal(await ask(`line ${i}`), `line ${i}`);
  assert.equal(closed, '', 'the connection was never closed or reset');
  assert.equal(fwd.counters.accepted, accepted, 'no reconnection through the forward');
  sock.destroy();
  gw.unforward(fwd);
  await b.ts.call('destroy', { domain: 'echo-tcpmig' });
});
