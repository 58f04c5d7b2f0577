// Summoning through a host forward, as a user does it: `xenode network-forward CFG SPEC --summon`
// on a host daemon, then Debian's curl fetches a page from a guest that was not running (the
// connection boots it and is answered by it), again once it runs, and after it was destroyed
// (booted again); `network-forward --summon` lists the forward, `--remove` ends it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT, xenode } from '../support/cli.js';
import { startDaemonRig } from '../support/host-daemon.js';
import { freePort } from '../support/ports.js';

const CURL = '/usr/bin/curl';
const WWW = join(ROOT, 'examples/www/www.ts');
const run = promisify(execFile);

test('curl through a summoning forward boots the guest and gets its page; the forward stays when the guest goes', { timeout: 180_000 }, async (t) => {
  if (!existsSync(CURL)) return t.skip(`${CURL} is not installed (apt-get install curl)`);
  const rig = await startDaemonRig('summon-curl');
  t.after(() => rig.close());
  const cfg = rig.cfgFile('www', `name = "www"\nkernel = "${WWW}"\nmemory = 64\nvif = [ 'bridge=xenbr0,ip=10.0.2.70' ]\nextra = "port=80"\non_poweroff = "destroy"\n`);
  const port = await freePort();
  const cli = (args: string[]) => xenode(args, { state: rig.stateDir });
  const added = await cli(['network-forward', cfg, `tcp:${port}:80`, '--summon']);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stderr, new RegExp(`summoning tcp 127\\.0\\.0\\.1:${port} -> domain www port 80 \\(10\\.0\\.2\\.70, via xenbr0\\)`));
  assert.deepEqual(await rig.ts.call('list', {}).then((l) => l.map((d) => d.name)), ['Domain-0'], 'nothing runs yet');

  const fetch = async () => (await run(CURL, ['-sS', '--max-time', '60', `http://127.0.0.1:${port}/hello`])).stdout;
  assert.equal(await fetch(), 'Hello from a xenode unikernel\n');
  assert.deepEqual(await rig.ts.call('list', {}).then((l) => l.map((d) => d.name)), ['Domain-0', 'www']);
  assert.equal(await fetch(), 'Hello from a xenode unikernel\n');
  await rig.ts.call('destroy', { domain: 'www' });
  assert.equal(await fetch(), 'Hello from a xenode unikernel\n');

  const listed = await cli(['network-forward', '--summon']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^Host +Target +Guest +Bridge +Boots +Conns$/m);
  assert.match(listed.stdout, new RegExp(`^127\\.0\\.0\\.1:${port} +www +10\\.0\\.2\\.70:80 +xenbr0 +2 +3$`, 'm'));
  const removed = await cli(['network-forward', `tcp:${port}:80`, '--summon', '--remove']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual(await rig.ts.call('summonForwardList', {}), []);
  await assert.rejects(run(CURL, ['-sS', '--max-time', '5', `http://127.0.0.1:${port}/hello`]), /Failed to connect|Connection refused|curl: \(7\)/);
});
