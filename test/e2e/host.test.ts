// An in-process host: domain lifecycle through the toolstack, xenstore and the console daemon.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseDomainConfig } from '../../src/toolstack/domconfig.js';
import { Host } from '../../src/toolstack/host.js';
import { FIXTURES } from '../support/cli.js';
import { waitFor } from '../support/wait.js';
import { scratchStateDir } from '../support/state-dir.js';

scratchStateDir('host-e2e');

let host: Host;
before(async () => {
  host = await Host.start();
});
after(() => host.close());

function config(name: string, kernel: string, extra = ''): ReturnType<typeof parseDomainConfig>['config'] {
  return parseDomainConfig(`name = "${name}"\nkernel = "${kernel}"\nmemory = 32\n${extra}`, join(FIXTURES, `${name}.cfg`)).config;
}

function consoleText(domid: number): string {
  return Buffer.from(host.consoled.log(domid)).toString();
}

test('a running guest has its xenstore nodes, a state, and is gone after destroy', async () => {
  const { domain } = await host.create(config('tick-a', 'ticker.ts'));
  const id = domain.domid;
  assert.equal(await host.xs.read(`/local/domain/${id}/name`), 'tick-a');
  assert.equal(await host.xs.read(`/local/domain/${id}/vm`), `/vm/${domain.uuid}`);
  assert.deepEqual(await host.xs.getPerms(`/local/domain/${id}`), [{ domid: 0, perm: 'n' }, { domid: id, perm: 'r' }]);
  await host.xs.wait(`/local/domain/${id}/control/feature-poweroff`, (v) => v === '1');
  assert.match(domain.stateString, /^(r-|-b)----$/);
  await assert.rejects(host.create(config('tick-a', 'ticker.ts')), /already exists/);
  await host.destroy(id);
  assert.equal(host.hv.findDomain(id), undefined);
  assert.equal(await host.xs.readOptional(`/local/domain/${id}/name`), undefined);
  assert.equal(await host.xs.readOptional(`/vm/${domain.uuid}/name`), undefined);
  assert.match(consoleText(id), /^$|tick/);
});

test('pause stops a guest at its next scheduling point; unpause resumes it', async () => {
  const { domain } = await host.create(config('tick-b', 'ticker.ts'));
  const id = domain.domid;
  await host.xs.wait(`/local/domain/${id}/control/feature-poweroff`, (v) => v === '1');
  host.hv.pause(id);
  assert.match(domain.stateString, /^--p---$/);
  const before = consoleText(id);
  await new Promise((r) => setTimeout(r, 200));
  // The guest may finish the tick it was in; no more than that while paused.
  const during = consoleText(id);
  assert.ok(during.split('\n').length - before.split('\n').length <= 1, 'a paused guest kept running');
  host.hv.unpause(id);
  const ticks = (s: string) => (s.match(/tick/g) ?? []).length;
  while (ticks(consoleText(id)) <= ticks(during)) await once(host.consoled, 'output');
  await host.destroy(id);
});

test('xl shutdown: control/shutdown powers the guest off and on_poweroff destroys it', async () => {
  const { domain } = await host.create(config('tick-c', 'ticker.ts'));
  const id = domain.domid;
  await host.xs.wait(`/local/domain/${id}/control/feature-poweroff`, (v) => v === '1');
  const destroyed = once(host, 'destroyed');
  await host.requestShutdown(id, 'poweroff');
  const [gone] = await destroyed;
  assert.equal(gone, id);
  // The guest acknowledged the request by clearing the node before it went.
  assert.equal(host.hv.findDomain(id), undefined);
});

test('on_reboot=restart starts the guest again as a new domain', async () => {
  const restarted = once(host, 'restarted');
  const { domain } = await host.create(config('rebooter', 'reboot.ts', 'on_reboot = "restart"\n'));
  const [oldId, newId] = (await restarted) as [number, number];
  assert.equal(oldId, domain.domid);
  assert.notEqual(newId, oldId);
  assert.equal(host.hv.findDomain(oldId), undefined);
  assert.equal(host.hv.domain(newId).name, 'rebooter');
  // Stop the loop: the next reboot must find nothing to restart.
  await host.destroy(newId);
});

test('a domain destroyed while its reboot takes it down is not started again', async () => {
  // The race made certain: a destroy asked for just after the restart's own began (a guest that
  // reboots at once, destroyed by its owner meanwhile, came back under a new id).
  const destroy = host.destroy.bind(host);
  const create = host.create.bind(host);
  const restarts: string[] = [];
  host.destroy = (domid: number, keepVm?: boolean) => {
    const gone = destroy(domid, keepVm);
    if (keepVm) void destroy(domid);
    return gone;
  };
  host.create = (c, opts) => {
    if (opts?.vm === undefined) return create(c, opts);
    restarts.push(c.name); // refused, so that a restart cannot loop
    return Promise.reject(new Error('no restart expected'));
  };
  try {
    const destroyed = once(host, 'destroyed');
    const { domain } = await host.create(config('rebooter2', 'reboot.ts', 'on_reboot = "restart"\n'));
    const [gone] = await destroyed;
    assert.equal(gone, domain.domid);
    // The restart goes on (or not) in the promise callbacks that follow the destroy's end.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(restarts, []);
    assert.equal(host.hv.domains().some((d) => d.name === 'rebooter2'), false);
  } finally {
    host.destroy = destroy;
    host.create = create;
  }
});

test('a domain destroyed after its reboot took it down, while the new one is built, is not left running', async () => {
  // The window made certain: the old domain's destroy asked for from inside the restart's create
  // (it got ESRCH and the guest came back under a new id).
  const create = host.create.bind(host);
  const uuid = '6f1c1d0e-2b7a-4c55-9f3e-0d5a7c1e9b42';
  let oldId = -1;
  let joined: Promise<void> | undefined;
  let rebuilt = -1;
  host.create = async (c, opts) => {
    if (opts?.vm === undefined) return create(c, opts);
    if (joined) throw new Error('a second restart: the first was not called off'); // no restart loop
    joined = host.destroy(oldId);
    joined.catch(() => {}); // awaited below
    const built = await create(c, opts);
    rebuilt = built.domain.domid;
    return built;
  };
  const restarted: number[] = [];
  const onRestarted = (_old: number, n: number) => void restarted.push(n);
  host.on('restarted', onRestarted);
  try {
    const destroyed = once(host, 'destroyed');
    const { domain } = await host.create(config('rebooter3', 'reboot.ts', `on_reboot = "restart"\nuuid = "${uuid}"\n`));
    oldId = domain.domid;
    const [gone] = await destroyed;
    assert.equal(gone, oldId);
    await waitFor(() => joined !== undefined, 60_000);
    assert.ok(joined, 'the restart built the domain again');
    await joined; // resolves once the new domain is gone, not ESRCH
    assert.notEqual(rebuilt, -1);
    assert.deepEqual(restarted, []);
    assert.equal(host.hv.findDomain(rebuilt), undefined);
    assert.equal(host.hv.domains().some((d) => d.name === 'rebooter3'), false);
    const vm = await host.db.read((tx) => {
      const ref = tx.VM.where('uuid', uuid)[0];
      return ref === undefined ? undefined : tx.VM.get(ref);
    });
    assert.ok(vm === undefined || (vm.power_state === 'Halted' && vm.domid === -1), `the VM record is ${vm?.power_state}`);
  } finally {
    host.create = create;
    host.off('restarted', onRestarted);
  }
});

test('on_crash=preserve keeps the crashed domain, shown as sc, until destroyed', async () => {
  const shut = once(host, 'shutdown');
  const { domain } = await host.create(config('crasher', 'crash.ts', 'on_crash = "preserve"\n'));
  const [id, , reason, action] = await shut;
  assert.equal(id, domain.domid);
  assert.equal(reason, 'crash');
  assert.equal(action, 'preserve');
  assert.equal(domain.stateString, '---sc-');
  assert.match(consoleText(id), /guest crashed: Error: boom from the guest/);
  await host.destroy(id);
});

test('a guest that corrupts its console ring loses its console, and nothing else', async () => {
  const broken = once(host.consoled, 'broken');
  const { domain } = await host.create(config('scribble', 'scribble.ts'));
  const [domid, reason] = await broken;
  assert.equal(domid, domain.domid);
  assert.match(String(reason), /corrupt/);
  assert.match(consoleText(domain.domid), /^$/); // detached: its log went with it
  // Another guest still boots and prints.
  const { domain: other } = await host.create(config('tick-d', 'ticker.ts'));
  while (!consoleText(other.domid).includes('tick 1')) await once(host.consoled, 'output');
  assert.ok(host.hv.findDomain(domain.domid), 'the scribbler itself keeps running');
  await host.destroy(other.domid);
  await host.destroy(domain.domid);
});
