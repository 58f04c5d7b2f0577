// The dns example end to end on a host daemon: an authoritative server unikernel on xenbr0
// (its address from its vif's ip=) answers a second guest's stub resolver across dom0's bridge,
// with both guests in Pool-0 and again in a shared cpupool.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RemoteToolstack } from '../../src/toolstack/client.js';
import { type DaemonRig, PLACEMENTS, startDaemonRig } from '../support/host-daemon.js';

const DIR = fileURLToPath(new URL('../../../examples/dns/', import.meta.url));
/** A bound, not a speed check: a guest boots in well under a second alone, much slower on a loaded machine. */
const T = { timeout: 180_000 };
/** The example's own zone, from its dns.cfg. */
const EXTRA = /^extra = "(.*)"$/m.exec(readFileSync(`${DIR}dns.cfg`, 'utf8'))![1]!;

for (const at of PLACEMENTS) describe(`guests in ${at.label}`, () => {
  let rig: DaemonRig;
  let ts: RemoteToolstack;
  before(async () => {
    rig = await startDaemonRig('dns', { poolSize: 2, placement: at });
    ts = rig.ts;
  });
  after(() => rig.close());

  async function consoleText(domain: string): Promise<string> {
    return Buffer.from((await ts.call('consoleLog', { domain })).data, 'base64').toString();
  }

  async function until(what: string, f: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 1500; i++) {
      if (await f()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`gave up waiting for ${what}`);
  }

  test('a resolver guest asks the dns example guest across the bridge: A, a CNAME to it, and a name that does not exist', T, async () => {
    const server = rig.cfgFile('dns', `name = "dns"\nkernel = "${DIR}dns.ts"\nmemory = 32\n${at.cfg}vif = [ 'bridge=xenbr0,ip=10.0.0.53' ]\n` +
      `extra = "${EXTRA}"\non_crash = "preserve"\n`);
    const client = rig.cfgFile('resolve', `name = "resolve"\nkernel = "${DIR}resolve.ts"\nmemory = 32\n${at.cfg}vif = [ 'bridge=xenbr0,ip=10.0.0.54' ]\n` +
      'extra = "server=10.0.0.53 names=www.example.test,ftp.example.test,mail.example.test,nope.example.test"\non_poweroff = "preserve"\non_crash = "preserve"\n');
    try {
      await ts.call('create', { file: server });
      await until('the server to listen', async () => /serving example\.test \(\d+ names\) on 10\.0\.0\.53:53/.test(await consoleText('dns')));
      await ts.call('create', { file: client });
      await until('the resolver to finish', async () => /nope\.example\.test/.test(await consoleText('resolve')));
      const out = await consoleText('resolve');
      assert.match(out, /www\.example\.test -> 10\.0\.2\.15\n/);
      assert.match(out, /ftp\.example\.test -> 10\.0\.2\.15\n/);
      assert.match(out, /mail\.example\.test -> 10\.0\.2\.16\n/);
      assert.match(out, /nope\.example\.test: .*does not exist/);
    } finally {
      for (const n of ['resolve', 'dns']) await ts.call('destroy', { domain: n }).catch(() => {});
    }
  });
});
