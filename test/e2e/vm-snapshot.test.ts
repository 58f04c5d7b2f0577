// vm-snapshot, vm-clone, vm-copy, vm-revert and vdi-copy as a user types them (xe's parameter
// spellings), through the host daemon: uuids on stdout, a snapshot marked in vm-list, errors on
// stderr with the exit code 1; and device-stats of a running clone's disk.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FIXTURES, xenode } from '../support/cli.js';
import { startDaemonRig, type DaemonRig } from '../support/host-daemon.js';

let rig: DaemonRig;
before(async () => {
  rig = await startDaemonRig('vm-snapshot');
});
after(() => rig.close());

test('the VM snapshot subcommands, with xe\'s parameters', { timeout: 60_000 }, async () => {
  const run = (...args: string[]) => xenode(args, { state: rig.stateDir });
  const ok = async (...args: string[]) => {
    const r = await run(...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  await ok('vdi-create', 'name=cli-root', 'size=1M', 'format=vhd');
  const cfg = rig.cfgFile('cli-vm', `name = "cli-vm"\nkernel = "${FIXTURES}/ticker.ts"\nmemory = 32\ndisk = [ 'vdev=xvda, access=rw, target=vdi:cli-root' ]\n`);
  const vm = await ok('vm-import', cfg);
  const snap = await ok('vm-snapshot', 'vm=cli-vm', 'new-name-label=cli-before');
  assert.match(snap, /^[0-9a-f-]{36}$/);
  assert.match(await ok('vm-list'), new RegExp(`uuid \\( RO\\)\\s+: ${snap}\\n\\s+name-label \\( RW\\): cli-before\\n[^]*?is-a-snapshot \\( RO\\): true`));
  const clone = JSON.parse(await ok('vm-clone', snap, 'new-name-label=cli-clone', '--json')) as { name: string; isSnapshot: boolean };
  assert.deepEqual([clone.name, clone.isSnapshot], ['cli-clone', false]);
  assert.match(await ok('vm-copy', `uuid=${vm}`, 'new-name-label=cli-copy', 'sr=default'), /^[0-9a-f-]{36}$/);
  assert.match(await ok('vdi-copy', 'cli-root', 'name=cli-root-copy'), /^[0-9a-f-]{36}$/);
  const reverted = await run('vm-revert', `snapshot-uuid=${snap}`);
  assert.equal(reverted.code, 0, reverted.stderr);
  assert.match(reverted.stdout + reverted.stderr, /Reverted VM .* \(cli-vm\); it is halted/);
  // A running clone's disk in device-stats (xentop -x's counters, per device).
  await ok('vm-start', 'cli-clone');
  const stats = JSON.parse(await ok('device-stats', '--json')) as { name: string; vbds: { vdev: string; readBytes: number }[] }[];
  assert.deepEqual(stats.find((d) => d.name === 'cli-clone')?.vbds.map((b) => b.vdev), ['xvda']);
  assert.match(await ok('device-stats'), /^Name +ID Device +Read\/RX bytes +Write\/TX bytes\ncli-clone +\d+ vbd xvda +\d+ +\d+$/m);
  await ok('destroy', 'cli-clone');
  const refused = await run('vm-start', snap);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /is a snapshot, which does not start/);
  const missing = await run('vm-clone', 'vm=cli-vm');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /name is required \(vm-clone vm=VM new-name-label=NAME\)/);
});
