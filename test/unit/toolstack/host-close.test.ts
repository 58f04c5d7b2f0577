// Host.close with a create under way: the create ends first, so what its last steps make (the
// VM record, the host ports of its forwards) is made before every domain is destroyed, and goes
// with its domain; nothing stays open after close. Before, the close destroyed the domain under
// the create, which then failed (ESRCH) and left its vCPU thread's message ports open: the
// process never exited.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseDomainConfig } from '../../../src/toolstack/domconfig.js';
import { Host } from '../../../src/toolstack/host.js';
import { FIXTURES } from '../../support/cli.js';
import { freePort } from '../../support/ports.js';

const WHOAMI = join(FIXTURES, 'whoami.ts');

/** Whether this process can listen on 127.0.0.1:`port` now. */
async function free(port: number): Promise<boolean> {
  const s = createServer();
  const ok = await new Promise<boolean>((resolve) => s.once('error', () => resolve(false)).listen(port, '127.0.0.1', () => resolve(true)));
  if (ok) await new Promise((r) => s.close(r));
  return ok;
}

test('a create under way when the host closes leaves no forward listening and no message port open', { timeout: 120_000 }, async () => {
  const host = await Host.start({ poolSize: 0 });
  const port = await freePort();
  const { config } = parseDomainConfig(`name = "late"\nkernel = "${WHOAMI}"\nmemory = 32\nvif = [ 'bridge=xenbr0' ]\nforward = [ 'tcp:${port}:80' ]\n`, WHOAMI);
  const create = host.create(config);
  create.catch(() => {});
  // The domain is built: the create's VM record and forward are still to come.
  const until = Date.now() + 60_000;
  while (!host.hv.domains().some((d) => d.name === 'late') && Date.now() < until) await new Promise((r) => setTimeout(r, 1));
  assert.ok(host.hv.domains().some((d) => d.name === 'late'), 'the domain was built');
  await host.close();
  await create.then(() => {}, () => {});
  assert.deepEqual(host.forwards.list(), [], 'no forward left');
  const left = process.getActiveResourcesInfo().filter((r) => /MessagePort|Worker|TCPServerWrap|UDPWrap/.test(r));
  assert.deepEqual(left, [], 'nothing of the host keeps the process alive');
  assert.equal(await free(port), true, `host port ${port} is free`);
});

// A create that does not end (here held by its `built` hook; in life a vCPU thread that never
// reports ready, or a parked build's long wait) holds the close no longer than its bound: the
// close then destroys every domain, and the create, let go later, fails and leaves nothing.
// Before, the close waited for it with no limit: this test timed out.
test('a create that never ends does not hold the host close', { timeout: 60_000 }, async () => {
  const host = await Host.start({ poolSize: 0 });
  const { config } = parseDomainConfig(`name = "stuck"\nkernel = "${WHOAMI}"\nmemory = 32\n`, WHOAMI);
  let letGo!: () => void;
  const held = new Promise<void>((resolve) => (letGo = resolve));
  let reached!: () => void;
  const atHook = new Promise<void>((resolve) => (reached = resolve));
  const create = host.create(config, { built: () => (reached(), held) });
  create.catch(() => {});
  await atHook;
  await host.close();
  assert.equal(host.hv.domains().some((d) => d.name === 'stuck' && !d.dying), false, 'the close destroyed the stuck create\'s domain');
  letGo();
  await assert.rejects(create, /the host closed/);
  const left = process.getActiveResourcesInfo().filter((r) => /MessagePort|Worker|TCPServerWrap|UDPWrap/.test(r));
  assert.deepEqual(left, [], 'nothing of the host keeps the process alive');
});
