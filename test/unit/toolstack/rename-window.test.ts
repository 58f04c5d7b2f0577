// Host.beginRename's window, as a migration uses it (migrate.ts renames the sender's copy to
// `<name>--migratedaway`, incoming.ts the target's to its name): the checks and the new name come
// at once, the records (the config, the VM record, xenstore) after. What the window promises
// when another operation on the same name or domain comes inside it: the names are as the
// hypervisor has them, and the records end as the last rename left the name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { isXenError } from '../../../src/errors.js';
import type { Domain } from '../../../src/hypervisor/hypervisor.js';
import { parseDomainConfig } from '../../../src/toolstack/domconfig.js';
import type { Host } from '../../../src/toolstack/host.js';
import type { XsTransaction, XsTransactionOptions } from '../../../src/xenstore/client/client.js';
import { FIXTURES } from '../../support/cli.js';
import { hostForTests } from '../../support/local-host.js';

const WHOAMI = join(FIXTURES, 'whoami.ts');
let host!: Host;
hostForTests('rename-window', (h) => (host = h));

const config = (name: string) => parseDomainConfig(`name = "${name}"\nkernel = "${WHOAMI}"\nmemory = 16\n`, WHOAMI).config;

async function guest(name: string): Promise<Domain> {
  return (await host.create(config(name))).domain;
}

/** The name each record holds: the hypervisor's, the config's, and xenstore's two. */
async function names(d: Domain): Promise<string[]> {
  return [d.name, host.config(d.domid)!.name, await host.xs.read(`/local/domain/${d.domid}/name`), await host.xs.read(`/vm/${d.uuid}/name`)];
}

test("a rename inside the window: the records end with the last rename's name", { timeout: 60_000 }, async () => {
  const d = await guest('win-rename');
  const away = host.beginRename(d.domid, 'win-rename--migratedaway');
  const again = host.rename(d.domid, 'win-renamed');
  await Promise.all([away, again]);
  assert.deepEqual(await names(d), Array(4).fill('win-renamed'));
  await host.destroy(d.domid);
});

test('a create inside the window: of the name renamed away, it is built (the name is free); of the new name, refused at once', { timeout: 60_000 }, async () => {
  const d = await guest('win-create');
  const away = host.beginRename(d.domid, 'win-create--migratedaway');
  await assert.rejects(host.create(config('win-create--migratedaway')), (e: Error) => isXenError(e, 'EEXIST'));
  const taken = await guest('win-create');
  await away;
  assert.deepEqual(await names(d), Array(4).fill('win-create--migratedaway'));
  // The sender's rename back (a failed migration) is refused: its guest resumes under the name away.
  assert.throws(() => void host.beginRename(d.domid, 'win-create'), (e: Error) => isXenError(e, 'EEXIST'));
  assert.deepEqual(await names(taken), Array(4).fill('win-create'));
  await Promise.all([host.destroy(d.domid), host.destroy(taken.domid)]);
});

test('a rename into a name being created is refused at once, and the create goes on', { timeout: 60_000 }, async () => {
  const d = await guest('win-racing');
  const create = host.create(config('win-racing--migratedaway'));
  assert.throws(() => void host.beginRename(d.domid, 'win-racing--migratedaway'), (e: Error) => isXenError(e, 'EEXIST'));
  const built = (await create).domain;
  assert.deepEqual(await names(d), Array(4).fill('win-racing'));
  await Promise.all([host.destroy(d.domid), host.destroy(built.domid)]);
});

test("a destroy inside the window: the domain's xenstore paths are not written back after its teardown", { timeout: 60_000 }, async () => {
  const d = await guest('win-destroy');
  const away = host.beginRename(d.domid, 'win-destroy--migratedaway').catch(() => {});
  await host.destroy(d.domid);
  await away;
  assert.equal(await host.xs.exists(`/local/domain/${d.domid}`), false);
  assert.equal(await host.xs.exists(`/vm/${d.uuid}`), false);
});

/** A persistent VM's domain: its VM record outlives a destroy, so a rename's record can be written after it. */
async function persistent(name: string): Promise<Domain> {
  const c = config(name);
  const { ref, uuid } = await host.vms.create(c);
  return (await host.create({ ...c, uuid }, { vm: ref })).domain;
}

test("a destroy inside the window of a persistent VM, the rename's VM record written after the teardown: the paths are not written back", { timeout: 60_000 }, async () => {
  const d = await persistent('win-destroy-vm');
  const configured = host.vms.configured;
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  host.vms.configured = async (...args) => {
    host.vms.configured = configured;
    await held;
    return configured.apply(host.vms, args);
  };
  const away = assert.rejects(host.beginRename(d.domid, 'win-destroy-vm--migratedaway'), (e: Error) => isXenError(e, 'ESRCH'));
  await host.destroy(d.domid);
  release();
  await away;
  assert.equal(await host.xs.exists(`/local/domain/${d.domid}`), false);
  assert.equal(await host.xs.exists(`/vm/${d.uuid}`), false);
});

test("a destroy that begins as the rename's xenstore transaction does: the paths are not written back", { timeout: 60_000 }, async () => {
  const d = await persistent('win-destroy-late');
  const transaction = host.xs.transaction;
  host.xs.transaction = async <T>(fn: (tx: XsTransaction) => Promise<T>, opts?: XsTransactionOptions): Promise<T> => {
    host.xs.transaction = transaction;
    await host.destroy(d.domid);
    return transaction.call(host.xs, fn, opts) as Promise<T>;
  };
  await assert.rejects(host.beginRename(d.domid, 'win-destroy-late--migratedaway'), (e: Error) => isXenError(e, 'ESRCH'));
  assert.equal(await host.xs.exists(`/local/domain/${d.domid}`), false);
  assert.equal(await host.xs.exists(`/vm/${d.uuid}`), false);
});
