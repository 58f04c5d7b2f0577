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

test('the VM snapshot subcommands, with xe\'s parameters', { timeout: 120_000 }, async () => {
  const run = (...args: string[]) => xenode(args, { state: rig.stateDir });
  const ok = async (...args: string[]) => {
    const r = await run(...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  // The setup through the command API; what is tested through the command.
  await rig.ts.call('vdiCreate', { sr: 'default', name: 'cli-root', size: '1M', format: 'vhd' });
  const cfg = rig.cfgFile('cli-vm', `name = "cli-vm"\nkernel = "${FIXTURES}/ticker.ts"\nmemory = 32\ndisk = [ 'vdev=xvda, access=rw, target=vdi:cli-root' ]\n`);
  const vm = (await rig.ts.call('vmImport', { file: cfg })).uuid;
  const snap = await ok('vm-snapshot', 'vm=cli-vm', 'new-name-label=cli-before');
  assert.match(snap, /^[0-9a-f-]{36}$/);
  assert.match(await ok('vm-list'), new RegExp(`uuid \\( RO\\)\\s+: ${snap}\\n\\s+name-label \\( RW\\): cli-before\\n[^]*?is-a-snapshot \\( RO\\): true`));
  const clone = JSON.parse(await ok('vm-clone', snap, 'new-name-label=cli-clone', '--json')) as { name: string; isSnapshot: boolean };
  assert.deepEqual([clone.name, clone.isSnapshot], ['cli-clone', false]);
  assert.match(await ok('vm-copy', `uuid=${vm}`, 'new-name-label=cli-copy', 'sr=default'), /^[0-9a-f-]{36}$/);
  assert.match(await ok('vdi-copy', 'cli-root', 'name=cli-root-copy'), /^[0-9a-f-]{36}$/);
  // A running clone's disk in device-stats (xentop -x's counters, per device).
  const { domid } = await rig.ts.call('vmStart', { vm: 'cli-clone' });
  assert.match(await ok('device-stats'), new RegExp(`^Name +ID Device +Read/RX bytes +Write/TX bytes\\ncli-clone +${domid} vbd xvda +\\d+ +\\d+$`, 'm'));
  await rig.ts.call('destroy', { domain: domid });
  const reverted = await run('vm-revert', `snapshot-uuid=${snap}`);
  assert.equal(reverted.code, 0, reverted.stderr);
  assert.match(reverted.stderr, /Reverted VM .* \(cli-vm\); it is halted/);
  const refused = await run('vm-start', snap);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /is a snapshot, which does not start/);
  const missing = await run('vm-clone', 'vm=cli-vm');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /name is required \(vm-clone vm=VM new-name-label=NAME\)/);
});
