// VMs as host database records, one source of truth: after every command the database's VM
// records say what `xenode list` says; domains from xl configs are transient; an imported VM
// persists while halted, boots from its stored configuration, and survives a kill -9 of its host, mid-suspend too.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import Database from 'better-sqlite3';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RemoteToolstack } from '../../src/toolstack/client.js';
import type { VmInfo } from '../../src/toolstack/contract.js';
import { FIXTURES, ROOT, XENODE, xenode } from '../support/cli.js';
import { startDaemonRig, type DaemonRig } from '../support/host-daemon.js';

const T = { timeout: 120_000 };

let rig: DaemonRig;
before(async () => {
  rig = await startDaemonRig('vm-records');
});
after(() => rig.close());

function cfg(name: string, kernel = 'ticker.ts', extra = ''): string {
  return rig.cfgFile(name, `name = "${name}"\nkernel = "${join(FIXTURES, kernel)}"\nmemory = 32\n${extra}`);
}

/** XAPI's power state of an xl list State column. */
function power(state: string): string {
  if (state[3] === 's') return 'Halted';
  return state[2] === 'p' ? 'Paused' : 'Running';
}

/** The database's VMs that have a domain are exactly the domains `list` shows, in name, uuid and state. */
async function agree(): Promise<VmInfo[]> {
  const [domains, vms] = await Promise.all([rig.ts.call('list', {}), rig.ts.call('vmList', {})]);
  const live = domains.filter((d) => d.state[5] !== 'd');
  const row = (domid: number, name: string, uuid: string, state: string) => `${domid} ${name} ${uuid} ${state}`;
  assert.deepEqual(
    vms.filter((v) => v.domid >= 0).map((v) => row(v.domid, v.name, v.uuid, v.powerState)).sort(),
    live.map((d) => row(d.domid, d.name, d.uuid, power(d.state))).sort(),
  );
  return vms;
}

test('after each command the VM records equal what list shows; a transient VM goes with its domain', T, async () => {
  await agree();
  const { domid } = await rig.ts.call('create', { file: cfg('rec-a', 'ticker.ts', 'disk = [ "vdev=xvda, target=rec-a.img" ]\nvif = [ "bridge=xenbr0" ]\n') });
  let vms = await agree();
  const a = vms.find((v) => v.name === 'rec-a')!;
  assert.equal(a.transient, true);
  assert.equal(a.memoryMiB, 32);
  const devices = await rig.daemon.local.host.db.read((tx) => {
    const ref = tx.VM.getByUuid(a.uuid);
    return { vbds: tx.VBD.where('VM', ref).map((r) => tx.VBD.get(r)), vifs: tx.VIF.where('VM', ref).length, consoles: tx.console.where('VM', ref).length };
  });
  assert.deepEqual(devices.vbds.map((v) => [v.device, v.currently_attached]), [['xvda', true]]);
  assert.equal(devices.vifs, 1);
  assert.equal(devices.consoles, 1);
  await rig.ts.call('pause', { domain: domid });
  assert.equal((await agree()).find((v) => v.domid === domid)!.powerState, 'Paused');
  await rig.ts.call('unpause', { domain: domid });
  await agree();
  await rig.ts.call('rename', { domain: domid, name: 'rec-b' });
  assert.ok((await agree()).some((v) => v.name === 'rec-b'));
  await rig.ts.call('networkAttach', { domain: domid, spec: 'bridge=xenbr0' });
  await agree();
  const reboot = await rig.ts.call('hardReboot', { domain: domid });
  vms = await agree();
  assert.equal(vms.find((v) => v.name === 'rec-b')!.uuid, a.uuid, 'a reboot keeps the VM');
  assert.equal(vms.find((v) => v.name === 'rec-b')!.domid, reboot.domid);
  await rig.ts.call('destroy', { domain: reboot.domid });
  vms = await agree();
  assert.equal(vms.some((v) => v.uuid === a.uuid), false);
  const left = await rig.daemon.local.host.db.read((tx) => [tx.VBD.getAll().length, tx.VIF.getAll().length, tx.console.getAll().length]);
  assert.deepEqual(left, [0, 0, 0], 'its VBD, VIF and console records went with it');
});

test('an imported VM persists halted, starts from its stored configuration, and is halted again when destroyed', T, async () => {
  const v = await rig.ts.call('vmImport', { file: cfg('keeper'), description: 'kept' });
  assert.deepEqual([v.powerState, v.domid, v.transient, v.description], ['Halted', -1, false, 'kept']);
  await agree();
  const set = await rig.ts.call('vmSet', { vm: 'keeper', memory: 48, otherConfigKey: 'owner', otherConfigValue: 'alice' });
  assert.deepEqual([set.memoryMiB, set.otherConfig], [48, { owner: 'alice' }]);
  const started = await rig.ts.call('vmStart', { vm: v.uuid });
  await agree();
  const [d] = await rig.ts.call('list', { domains: [started.domid] });
  assert.equal(d!.uuid, v.uuid, "the domain has the VM's uuid");
  assert.equal(d!.memoryKiB, 48 * 1024, 'it booted with the stored memory');
  await assert.rejects(rig.ts.call('vmSet', { vm: v.uuid, memory: 64 }), /halted/);
  await assert.rejects(rig.ts.call('vmUninstall', { vm: v.uuid }), /shut it down first/);
  await rig.ts.call('destroy', { domain: started.domid });
  const after = (await agree()).find((x) => x.uuid === v.uuid)!;
  assert.deepEqual([after.powerState, after.domid], ['Halted', -1]);
  await rig.ts.call('vmUninstall', { vm: 'keeper' });
  assert.equal((await rig.ts.call('vmList', {})).some((x) => x.uuid === v.uuid), false);
  await assert.rejects(rig.ts.call('vmStart', { vm: v.uuid }), /no VM/);
});

/** `xenode host` in the foreground on `stateDir`; resolves once it serves. */
function startHost(stateDir: string): Promise<ChildProcessWithoutNullStreams> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [XENODE, 'host', '--state-dir', stateDir, '--pool', '0'], { cwd: ROOT });
    let err = '';
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.includes('control socket')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`the host exited with ${code}: ${err}`)));
  });
}

test('vm-import survives a kill -9 of the host; the restarted host halts it and forgets transient VMs', T, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'xenode-vm-kill-'));
  const state = join(dir, 'state');
  const file = (name: string) => {
    const f = join(dir, `${name}.cfg`);
    writeFileSync(f, `name = "${name}"\nkernel = "${join(FIXTURES, 'ticker.ts')}"\nmemory = 32\n`);
    return f;
  };
  let host = await startHost(state);
  try {
    const imported = await xenode(['vm-import', file('durable')], { state });
    assert.equal(imported.code, 0, imported.stderr);
    const uuid = imported.stdout.trim();
    assert.equal((await xenode(['vm-start', 'durable'], { state })).code, 0);
    assert.equal((await xenode(['create', file('fleeting')], { state })).code, 0);
    const dom0Uuid = async () => (JSON.parse((await xenode(['list', '--json', '0'], { state })).stdout) as { uuid: string }[])[0]!.uuid;
    const dom0 = await dom0Uuid();
    host.kill('SIGKILL');
    await new Promise((resolve) => host.once('exit', resolve));
    host = await startHost(state);
    const r = await xenode(['vm-list', '--json'], { state });
    assert.equal(r.code, 0, r.stderr);
    const vms = JSON.parse(r.stdout) as VmInfo[];
    // dom0 keeps the uuid its record has, across the restart.
    assert.equal(await dom0Uuid(), dom0);
    assert.equal(vms.find((v) => v.domid === 0)!.uuid, dom0);
    assert.deepEqual(vms.filter((v) => v.domid !== 0).map((v) => [v.uuid, v.name, v.powerState, v.domid]), [[uuid, 'durable', 'Halted', -1]]);
    const list = await xenode(['list'], { state });
    assert.doesNotMatch(list.stdout, /durable|fleeting/);
    // It boots again from what the database kept.
    assert.equal((await xenode(['vm-start', uuid], { state })).code, 0);
    assert.match((await xenode(['list'], { state })).stdout, /\ndurable /);
  } finally {
    if (host.exitCode === null) host.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Files under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f));
}

test('a kill -9 of the host mid-suspend never leaves the VM Suspended on a partial image: it restarts Halted, the image gone', T, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'xenode-suspend-kill-'));
  const state = join(dir, 'state');
  let host = await startHost(state);
  try {
    let midSave = false;
    // The kill must land between the VM taking its suspend VDI and the image being complete:
    // a trial that sees the image complete first checks the other side (Suspended, resumable).
    for (let trial = 0; trial < 4 && !midSave; trial++) {
      const name = `sleeper${trial}`;
      const ts = await RemoteToolstack.connect(state);
      await ts.call('vmImport', { file: join(dir, `${name}.cfg`), text: `name = "${name}"\nkernel = "${join(FIXTURES, 'ticker.ts')}"\nmemory = 128\n` });
      await ts.call('vmStart', { vm: name });
      const db = new Database(join(state, 'host.db'), { readonly: true, fileMustExist: true });
      const body = (cls: string, where: string, v: string) =>
        (db.prepare(`SELECT body FROM "obj_${cls}" WHERE ${where} = ?`).get(v) as { body: string } | undefined)?.body;
      const suspending = ts.call('vmSuspend', { vm: name }).catch(() => undefined);
      let image: { ref: string; uuid: string } | undefined;
      for (const end = Date.now() + 30_000; Date.now() < end;) {
        const vdi = (JSON.parse(body('VM', 'name_label', name)!) as { suspend_VDI?: string }).suspend_VDI ?? 'OpaqueRef:NULL';
        if (vdi !== 'OpaqueRef:NULL') {
          const rec = JSON.parse(body('VDI', 'ref', vdi)!) as { uuid: string };
          host.kill('SIGKILL');
          image = { ref: vdi, uuid: rec.uuid };
          break;
        }
        await new Promise((r) => setImmediate(r));
      }
      assert.ok(image, 'the VM took a suspend VDI');
      await new Promise((resolve) => host.exitCode !== null || host.signalCode !== null ? resolve(undefined) : host.once('exit', resolve));
      // Which side the kill landed on is what the database held when the host died: the host
      // may have marked the image complete between the read above and the signal.
      midSave = (JSON.parse(body('VDI', 'ref', image.ref)!) as { type: string }).type !== 'suspend';
      db.close();
      await suspending;
      ts.close();
      host = await startHost(state);
      const again = await RemoteToolstack.connect(state);
      const vm = (await again.call('vmList', {})).find((v) => v.name === name)!;
      if (midSave) {
        assert.deepEqual([vm.powerState, vm.domid], ['Halted', -1], 'a partial image does not make the VM Suspended');
        const left = new Database(join(state, 'host.db'), { readonly: true });
        assert.equal((left.prepare('SELECT count(*) AS n FROM "obj_VDI" WHERE ref = ?').get(image.ref) as { n: number }).n, 0, 'the partial image\'s VDI is gone');
        left.close();
        assert.deepEqual(filesUnder(state).filter((f) => f.includes(image.uuid)), [], 'the partial image\'s file is gone');
        // It boots again, from its configuration.
        await again.call('vmStart', { vm: name });
      } else {
        assert.equal(vm.powerState, 'Suspended');
        await again.call('vmResume', { vm: name });
      }
      assert.equal((await again.call('vmList', {})).find((v) => v.name === name)!.powerState, 'Running');
      again.close();
    }
    assert.ok(midSave, 'one of the kills landed mid-save');
  } finally {
    if (host.exitCode === null) host.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
