// Summoning against Debian's dig: the first `dig` of a summoned name boots its guest and gets an
// authoritative answer with the guest's address; a name the host does not summon is REFUSED.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parseDomainConfig } from '../../src/toolstack/domconfig.js';
import { Host } from '../../src/toolstack/host.js';
import { FIXTURES } from '../support/cli.js';
import { scratchStateDir } from '../support/state-dir.js';

scratchStateDir('summon-dig');

const DIG = '/usr/bin/dig';
const run = promisify(execFile);
const KERNEL = join(FIXTURES, 'whoami.ts');

test("dig's first query of a summoned name boots the guest and is answered with its address", { timeout: 90_000 }, async (t) => {
  if (!existsSync(DIG)) return t.skip(`${DIG} is not installed (apt-get install bind9-dnsutils)`);
  const host = await Host.start({ shells: { count: 1, memory: 32 } });
  t.after(() => host.close());
  host.summoner.add('app.jitsu.test', parseDomainConfig(`name = "app"\nkernel = "${KERNEL}"\nmemory = 32\nvif = [ 'bridge=xenbr0,ip=10.0.0.42' ]\n`, KERNEL).config);
  const { port } = await host.summoner.listen();
  const dig = async (name: string) => (await run(DIG, ['@127.0.0.1', '-p', String(port), '+time=30', '+tries=1', name, 'A'])).stdout;
  assert.equal(host.domains().some((d) => d.name === 'app'), false);
  const out = await dig('app.jitsu.test');
  assert.match(out, /status: NOERROR/);
  assert.match(out, /flags: qr aa/);
  assert.match(out, /^app\.jitsu\.test\.\s+1\s+IN\s+A\s+10\.0\.0\.42$/m);
  assert.ok(host.domains().some((d) => d.name === 'app'), 'the query booted the guest');
  assert.match(await dig('nope.jitsu.test'), /status: REFUSED/);
});
