// Xen Orchestra's XenAPI client (the npm package xen-api, unchanged) against a xenode host: it
// connects over HTTPS (login, pool records, system.listMethods, event.inject, get_all_records,
// the event.from loop), reads records, and runs VM.clean_shutdown through callAsync (an
// Async.* task it watches through events).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { xenode } from '../support/cli.js';
import { startXapiRig, xenApiClient, type XenApiClient } from '../support/xapi.js';

interface XapiObject {
  readonly $type: string;
  readonly $ref: string;
  readonly [field: string]: unknown;
}

interface ObjectsClient extends XenApiClient {
  readonly objects: { readonly all: Record<string, XapiObject> };
  readonly objectsFetched: Promise<void>;
  readonly pool: XapiObject;
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('the xen-api client connects, follows events and shuts a VM down with callAsync', async () => {
  const rig = await startXapiRig('xapi-client');
  const xapi = await xenApiClient<ObjectsClient>(rig.url, 'alice', 'wonderland');
  try {
    // As a user adds one: `xenode user-add`, the password on standard input.
    const add = await xenode(['user-add', 'alice', '--role', 'vm-admin'], { state: rig.stateDir, input: 'wonderland\n' });
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stderr, 'Added user alice (vm-admin)\n');
    const bad = await xenode(['user-add', 'eve', '--role', 'root', '--password', 'x'], { state: rig.stateDir });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /role must be one of pool-admin, /);
    await xapi.connect();
    await xapi.objectsFetched;
    const all = () => Object.values(xapi.objects.all);
    assert.equal(xapi.pool.$type, 'pool');
    // The pool is the host database's, ref and all.
    assert.deepEqual(await rig.daemon.local.host.db.read((tx) => tx.pool.getAll()), [xapi.pool.$ref]);
    assert.ok(all().some((o) => o.$type === 'host' && o.$ref === xapi.pool['master']), 'the pool master is among the objects');
    assert.ok(all().some((o) => o.$type === 'VM' && o['is_control_domain'] === true), 'dom0 is a VM');

    // A VM created by the CLI's operation shows up through event.from.
    const domid = await rig.ticker('interop');
    await until('the new VM', () => all().some((o) => o.$type === 'VM' && o['name_label'] === 'interop'));
    const vm = all().find((o) => o.$type === 'VM' && o['name_label'] === 'interop')!;
    assert.equal(vm['power_state'], 'Running');
    assert.equal(vm['domid'], domid);
    assert.equal(await xapi.call('VM.get_power_state', vm.$ref), 'Running');

    await xapi.callAsync('VM.clean_shutdown', vm.$ref);
    await until('the VM to go', () => !all().some((o) => o.$ref === vm.$ref));
    await assert.rejects(xapi.call('VM.get_record', vm.$ref), (e: Error & { code?: string }) => e.code === 'HANDLE_INVALID');
  } finally {
    await xapi.disconnect();
    await rig.close();
  }
});
