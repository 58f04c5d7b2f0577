// Summoning (Jitsu): a summoned name's first DNS query boots its guest (from a shell parked in a
// shared cpupool here) and is answered with the address of its first vif once main() runs; later
// queries answer at once; queries that come during the boot share it; other names are REFUSED.
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseDomainConfig } from '../../../src/toolstack/domconfig.js';
import { Host } from '../../../src/toolstack/host.js';
import { SummonedGuest, Summoner, summonAddress, type SummonHost } from '../../../src/toolstack/summon.js';
import { FIXTURES } from '../../support/cli.js';
import { scratchStateDir } from '../../support/state-dir.js';

scratchStateDir('summon');

const KERNEL = join(FIXTURES, 'whoami.ts');
/**
 * A resolver that waits about 30 s for a boot. c-ares (Node's resolver) waits at most 5 s per try
 * whatever `timeout` says, and longer on each retry: three tries, not one long one (one try of
 * "20 s" timed out a cold first boot at 5 s). A retried query shares the boot and is answered too.
 */
const patientResolver = () => new Resolver({ timeout: 5_000, tries: 3 });
const config = (name: string, extra: string) => parseDomainConfig(`name = "${name}"\nkernel = "${KERNEL}"\nmemory = 32\n${extra}`, KERNEL).config;

test('the first query of a summoned name boots its guest and answers with its address; others are refused', { timeout: 60_000 }, async (t) => {
  const host = await Host.start();
  t.after(() => host.close());
  await host.createCpupool('jitsu', 1, 'credit', { shells: { count: 2, memory: 32 } });
  const summoned = host.summoner.add('www.example.test.', config('www', "pool = \"jitsu\"\nvif = [ 'bridge=xenbr0,ip=10.0.0.80/24' ]\n"));
  assert.deepEqual(summoned, { name: 'www.example.test', address: '10.0.0.80', domain: 'www', boots: 0 });
  assert.throws(() => host.summoner.add('www.example.test', config('www2', "vif = [ 'ip=10.0.0.81' ]\n")), /summoned already/);
  const { address, port } = await host.summoner.listen();
  const resolver = patientResolver();
  resolver.setServers([`${address}:${port}`]);
  assert.equal(host.domains().some((d) => d.name === 'www'), false, 'nothing runs before the first query');
  // Three at once: one boot answers them all.
  const first = await Promise.all([1, 2, 3].map(() => resolver.resolve4('www.example.test')));
  assert.deepEqual(first, [['10.0.0.80'], ['10.0.0.80'], ['10.0.0.80']]);
  assert.equal(host.domains().filter((d) => d.name === 'www').length, 1, 'the query booted the guest, once');
  assert.equal(host.poolOf(host.domains().find((d) => d.name === 'www')!.domid), 'jitsu');
  assert.deepEqual(await resolver.resolve4('WWW.example.test'), ['10.0.0.80']);
  assert.equal(host.summoner.list()[0]!.boots, 1);
  await assert.rejects(resolver.resolve4('other.example.test'), (e: NodeJS.ErrnoException) => e.code === 'EREFUSED');
  host.summoner.remove('www.example.test');
  await assert.rejects(resolver.resolve4('www.example.test'), (e: NodeJS.ErrnoException) => e.code === 'EREFUSED');
});

test('a summoned guest needs an IPv4 address on its first vif', () => {
  assert.throws(() => summonAddress(config('a', '')), /needs an IPv4 address on its first vif/);
  assert.throws(() => summonAddress(config('a', "vif = [ 'ip=fd00::1' ]\n")), /needs an IPv4 address/);
  assert.equal(summonAddress(config('a', "vif = [ 'ip=fd00::1 10.1.2.3/16' ]\n")), '10.1.2.3');
});

test("a summoned guest's boot learns when it has answered: its shell is replaced after that, not during its boot", async (t) => {
  const boots: { served: Promise<void>; settled: boolean }[] = [];
  let running = false;
  const host: SummonHost = {
    running: () => running,
    boot: async (_config, _vm, served) => {
      const b = { served, settled: false };
      void served.then(() => (b.settled = true));
      boots.push(b);
      running = true;
    },
    log: () => {},
  };
  // A forward's guest: served when the forward says so (its held connection joined or given up).
  const guest = new SummonedGuest(host, config('fwd', "vif = [ 'ip=10.0.0.81' ]\n"));
  assert.equal(await guest.summon(), true);
  await new Promise<void>((r) => setImmediate(r));
  assert.equal(boots[0]!.settled, false, 'not answered yet');
  guest.served();
  await boots[0]!.served;
  running = false;
  await guest.summon();
  assert.equal(boots.length, 2);
  assert.notEqual(boots[1]!.served, boots[0]!.served, 'each boot has its own');

  // The DNS server's: served once the answer is sent, before the client has it.
  running = false;
  const dns = new Summoner(host);
  t.after(() => dns.close());
  dns.add('w.example.test', config('w', "vif = [ 'ip=10.0.0.82' ]\n"));
  const { address, port } = await dns.listen();
  const resolver = patientResolver();
  resolver.setServers([`${address}:${port}`]);
  assert.deepEqual(await resolver.resolve4('w.example.test'), ['10.0.0.82']);
  assert.equal(boots.length, 3);
  assert.equal(boots[2]!.settled, true);
});
