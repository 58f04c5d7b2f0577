// Summoning through a host forward: nothing runs until the first connection, which boots the
// guest (from a Pool-0 shell here), is held until the guest's web server listens, and is
// answered by it; connections during the boot share it; once the guest is gone the next
// connection boots it again; a halted VM is started rather than a new domain made; a removed
// forward listens no more; a guest that fails after its domain was built (the gateway tries its
// port from then on) resets the connection and leaves nothing behind.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseForwardSpec } from '../../../src/network/gateway/forwardspec.js';
import { parseDomainConfig } from '../../../src/toolstack/domconfig.js';
import { Host } from '../../../src/toolstack/host.js';
import { FIXTURES, ROOT } from '../../support/cli.js';
import { httpGet } from '../../support/http-get.js';
import { freePort } from '../../support/ports.js';
import { scratchStateDir } from '../../support/state-dir.js';

scratchStateDir('summon-forwards');

const WWW = join(ROOT, 'examples/www/www.ts');
const config = (name: string, ip: string, extra = '') => parseDomainConfig(
  `name = "${name}"\nkernel = "${WWW}"\nmemory = 64\nvif = [ 'bridge=xenbr0,ip=${ip}' ]\nextra = "port=80"\non_poweroff = "destroy"\n${extra}`, WWW).config;

test('the first connection to a summoning forward boots the guest and is answered by it; later ones go straight through', { timeout: 120_000 }, async (t) => {
  const host = await Host.start({ shells: { count: 1, memory: 64 } });
  t.after(() => host.close());
  const port = await freePort();
  // The config's own forward of the same port gives way to the summoning one.
  const info = await host.summonedForwards.add(config('www', '10.0.2.50', `forward = [ 'tcp:${port}:80' ]\n`), parseForwardSpec(`tcp:${port}:80`));
  assert.deepEqual({ ...info }, {
    spec: `tcp:${port}:80`, hostAddress: '127.0.0.1', hostPort: port, guestPort: 80, bridge: 'xenbr0', guestAddress: '10.0.2.50',
    domain: 'www', vm: null, boots: 0, accepted: 0, refused: 0,
  });
  assert.equal(host.domains().some((d) => d.name === 'www'), false, 'nothing runs before the first connection');
  // Three at once: one boot answers them all.
  const first = await Promise.all([1, 2, 3].map(() => httpGet(port)));
  for (const r of first) {
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { address: string }).address, '10.0.2.50');
  }
  assert.equal(host.domains().filter((d) => d.name === 'www').length, 1, 'the connections booted the guest, once');
  assert.equal((await httpGet(port, '/nothing')).status, 404);
  assert.equal(host.summonedForwards.list()[0]!.boots, 1);
  assert.equal(host.summonedForwards.list()[0]!.accepted, 4);
  assert.deepEqual(host.forwards.list(), [], "the guest's own forward of the port was left out");

  // Gone: the next connection boots it again.
  await host.destroy(host.domains().find((d) => d.name === 'www')!.domid);
  assert.equal((await httpGet(port)).status, 200);
  assert.equal(host.summonedForwards.list()[0]!.boots, 2);

  await assert.rejects(host.summonedForwards.add(config('www2', '10.0.2.51'), parseForwardSpec(`tcp:${port}:80`)), /summons a guest already/);
  await assert.rejects(host.summonedForwards.add(config('www2', '10.0.2.51'), parseForwardSpec(`udp:${port}:80`)), /a summoning forward is TCP/);
  host.summonedForwards.remove(parseForwardSpec(`tcp:${port}:80`));
  await assert.rejects(httpGet(port), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');
  assert.throws(() => host.summonedForwards.remove(parseForwardSpec(`tcp:${port}:80`)), /no summoning forward/);
});

test('a summoning forward may name a halted VM: its connection starts that VM', { timeout: 120_000 }, async (t) => {
  const host = await Host.start();
  t.after(() => host.close());
  const { ref } = await host.vms.create(config('site', '10.0.2.60'), {});
  const port = await freePort();
  const { config: stored } = await host.storedConfig('site');
  await host.summonedForwards.add(stored, parseForwardSpec(`tcp:${port}:80`), 'site');
  assert.equal((await httpGet(port, '/')).status, 200);
  const d = host.domains().find((x) => x.name === 'site');
  assert.ok(d, 'the VM runs');
  assert.equal(host.vmOf(d.domid), ref, 'as the VM it was, not a new one');
  assert.deepEqual(host.summonedForwards.list().map((f) => [f.vm, f.boots]), [['site', 1]]);
});

test('a summoned guest that fails after its domain was built: the connection is reset, nothing is left, the next summon is served', { timeout: 120_000 }, async (t) => {
  const host = await Host.start({ shells: { count: 0, memory: 64, vifs: 1 } });
  t.after(() => host.close());
  const port = await freePort();
  const NOMAIN = join(FIXTURES, 'nomain.ts');
  const bad = parseDomainConfig(`name = "nomain"\nkernel = "${NOMAIN}"\nmemory = 64\nvif = [ 'bridge=xenbr0,ip=10.0.2.52' ]\n`, NOMAIN).config;
  await host.summonedForwards.add(bad, parseForwardSpec(`tcp:${port}:80`));
  await assert.rejects(httpGet(port), (e: NodeJS.ErrnoException) => e.code === 'ECONNRESET');
  assert.equal(host.summonedForwards.list()[0]!.refused, 1);
  const end = Date.now() + 30_000;
  while (host.hv.domains().some((d) => d.name === 'nomain') && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  assert.equal(host.hv.domains().some((d) => d.name === 'nomain'), false, 'the failed guest is gone');
  host.summonedForwards.remove(parseForwardSpec(`tcp:${port}:80`));
  // The host still summons: a good guest on the same port answers.
  await host.summonedForwards.add(config('www', '10.0.2.53'), parseForwardSpec(`tcp:${port}:80`));
  assert.equal((await httpGet(port)).status, 200);
});
