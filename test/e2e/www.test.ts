// The www unikernel end to end: `xenode run` boots it, it takes its address by DHCP from dom0's
// gateway, and Debian's curl fetches its pages through the host port forward (keep-alive
// included); on a host daemon, `network-forward` adds, lists and removes forwards, and a
// domain's forwards go with it (with the guest in Pool-0 and again in a shared cpupool).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT, xenode } from '../support/cli.js';
import { PLACEMENTS, startDaemonRig } from '../support/host-daemon.js';
import { freePort } from '../support/ports.js';

const CURL = '/usr/bin/curl';
const WWW = join(ROOT, 'examples/www/www.ts');
const run = promisify(execFile);
const stateDir = mkdtempSync(join(tmpdir(), 'xenode-www-'));
after(() => rmSync(stateDir, { recursive: true, force: true }));


function wwwCfg(port: number, placement = ''): string {
  return `name = "www"\nkernel = "${WWW}"\nmemory = 64\n${placement}vif = [ 'bridge=xenbr0' ]\n` +
    `forward = [ 'tcp:${port}:80' ]\nextra = "port=80 url=http://127.0.0.1:${port}/"\non_poweroff = "destroy"\n`;
}

test('xenode run examples/www: curl gets its pages through the host forward, with keep-alive', { timeout: 120_000 }, async (t) => {
  if (!existsSync(CURL)) return t.skip(`${CURL} is not installed (apt-get install curl)`);
  const port = await freePort();
  const cfg = join(stateDir, 'www.cfg');
  writeFileSync(cfg, wwwCfg(port));
  let fetched: Promise<{ page: string; status: string; verbose: string }> | undefined;
  const r = await xenode(['run', cfg], {
    state: stateDir,
    onStdout: (text, child) => {
      if (fetched || !text.includes(`serving http://127.0.0.1:${port}/`)) return;
      const url = `http://127.0.0.1:${port}`;
      fetched = (async () => {
        const page = (await run(CURL, ['-sS', '--max-time', '20', `${url}/`])).stdout;
        // Two URLs in one curl: the second request reuses the connection.
        const both = await run(CURL, ['-sSv', '--max-time', '20', `${url}/api/status`, `${url}/hello`]);
        return { page, status: both.stdout, verbose: both.stderr };
      })().finally(() => child.kill('SIGINT'));
    },
  });
  assert.ok(fetched, `the guest never said it serves: ${r.stdout}\n${r.stderr}`);
  const { page, status, verbose } = await fetched;
  assert.match(page, /<h1>Hello from a xenode unikernel<\/h1>/);
  const json = JSON.parse(status.split('\n')[0]!) as { server: string; address: string; requests: number };
  assert.equal(json.server, 'xenode-www');
  assert.equal(json.address, '10.0.2.15');
  assert.match(status, /Hello from a xenode unikernel\n$/);
  assert.match(verbose, /Re-using existing connection/);
  assert.equal(r.code, 0, r.stderr);
});

for (const at of PLACEMENTS) {
  test(`network-forward adds, lists and removes forwards at run time; they go with the domain (guest in ${at.label})`, { timeout: 180_000 }, async (t) => {
    if (!existsSync(CURL)) return t.skip(`${CURL} is not installed (apt-get install curl)`);
    const rig = await startDaemonRig('www', { poolSize: 1, placement: at });
    t.after(() => rig.close());
    const first = await freePort();
    const { domid } = await rig.ts.call('create', { file: rig.cfgFile('www', wwwCfg(first, at.cfg)) });
    const second = await freePort();
    const cli = (args: string[]) => xenode(args, { state: rig.stateDir });
    const added = await cli(['network-forward', 'www', `tcp:${second}:80`]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stderr, new RegExp(`forwarding tcp 127\\.0\\.0\\.1:${second} -> domain ${domid} port 80`));
    const listed = await cli(['network-forward']);
    assert.match(listed.stdout, /^Domid +Proto +Host +Guest +Bridge$/m);
    assert.match(listed.stdout, new RegExp(`^${domid} +tcp +127\\.0\\.0\\.1:${first} +.*:80 +xenbr0$`, 'm'));
    assert.match(listed.stdout, new RegExp(`^${domid} +tcp +127\\.0\\.0\\.1:${second} +`, 'm'));
    // The guest answers through the added forward once it has its lease.
    let page = '';
    for (let i = 0; i < 100 && !page.includes('Hello'); i++) {
      page = await run(CURL, ['-sS', '--max-time', '5', `http://127.0.0.1:${second}/hello`]).then((x) => x.stdout, () => '');
      if (!page.includes('Hello')) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(page, 'Hello from a xenode unikernel\n');
    const dup = await cli(['network-forward', 'www', `tcp:${second}:8080`]);
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, /EEXIST/);
    const removed = await cli(['network-forward', 'www', `tcp:${second}:80`, '--remove']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual((await rig.ts.call('networkForwardList', { domain: 'www' })).map((f) => f.hostPort), [first]);
    await rig.ts.call('destroy', { domain: 'www' });
    assert.deepEqual(await rig.ts.call('networkForwardList', {}), []);
    // Nothing listens on the domain's old port any more.
    await assert.rejects(new Promise((resolve, reject) => {
      const s = connect(first, '127.0.0.1', () => resolve(s.destroy()));
      s.on('error', reject);
    }), /ECONNREFUSED/);
  });
}
