// Shells with a vif connected while they wait (the host's vif shells, for summoned guests): a
// create whose vif names another MAC and bridge ends up with them (xenstore, the switch's port,
// the guest's own frames: the port's MAC check drops a frame from the shell's old MAC); a
// configuration the shell's vif cannot become is not given one; a shell torn down unused leaves
// no node, port, netback device or domain behind, and neither does one whose vif cannot be attached.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { SHELL_BRIDGE } from '../../../src/toolstack/builder.js';
import { parseDomainConfig } from '../../../src/toolstack/domconfig.js';
import { Host } from '../../../src/toolstack/host.js';
import { isShellName, ShellPool } from '../../../src/toolstack/shells.js';
import { dom0VifTraffic } from '../../../src/toolstack/vifs.js';
import { parseMac } from '../../../src/network/mac.js';
import { FIXTURES, ROOT } from '../../support/cli.js';
import { httpGet } from '../../support/http-get.js';
import { freePort } from '../../support/ports.js';
import { scratchStateDir } from '../../support/state-dir.js';

scratchStateDir('vif-shells');

const T = { timeout: 120_000 };
const WWW = join(ROOT, 'examples/www/www.ts');
const WHOAMI = join(FIXTURES, 'whoami.ts');
const MAINMARK = join(FIXTURES, 'mainmark.ts');
const SLOWLINK = join(FIXTURES, 'slowlink.ts');
const config = (name: string, kernel: string, extra: string) =>
  parseDomainConfig(`name = "${name}"\nkernel = "${kernel}"\nmemory = 64\nextra = "port=80"\n${extra}`, kernel).config;
const shellsOf = (host: Host) => host.hv.domains().filter((d) => isShellName(d.name));

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function started(t: { after(fn: () => Promise<void>): void }, vifs: number): Promise<Host> {
  const host = await Host.start({ shells: { count: 0, memory: 64, vifs } });
  t.after(() => host.close());
  await until(`${vifs} vif shells are ready`, () => host.vifShells.ready === vifs);
  return host;
}

/** A host with one vif shell, ready, and xenstored logging its requests from `from` in `lines`. */
async function loggingOneShell(t: { after(fn: () => Promise<void>): void }): Promise<{ host: Host; lines: string[]; shell: number; from: number }> {
  const lines: string[] = [];
  const host = await Host.start({ shells: { count: 0, memory: 64, vifs: 1 }, log: (l) => lines.push(l) });
  t.after(() => host.close());
  await until('the vif shell is ready', () => host.vifShells.ready === 1);
  const shell = shellsOf(host)[0]!.domid;
  await host.xs.control('log', 'on');
  return { host, lines, shell, from: lines.length };
}

test("a vif shell created with another MAC and bridge has them: xenstore, the switch's port, the guest's frames", T, async (t) => {
  const host = await started(t, 2);
  const [a, b] = shellsOf(host).map((d) => d.domid);
  // Waiting, each vif is connected on the shells' own bridge.
  for (const id of [a!, b!]) {
    assert.equal(host.switch.findPort(`vif${id}.0`)?.bridge.name, SHELL_BRIDGE);
    assert.equal(await host.xs.read(`/local/domain/0/backend/vif/${id}/0/state`), '4');
  }
  const mac = '00:16:3e:0a:0b:0c';
  const port = await freePort();
  const www = await host.create(config('www', WWW,
    `vif = [ 'mac=${mac},bridge=xenbr0,ip=10.0.2.70,rate=10Mb/s' ]\nforward = [ 'tcp:${port}:80' ]\n`));
  const id = www.domain.domid;
  assert.ok(id === a || id === b, 'the create claimed a vif shell');
  assert.notEqual((await www.vcpu.mainCalled)?.handed, undefined);
  const fe = `/local/domain/${id}/device/vif/0`;
  const be = `/local/domain/0/backend/vif/${id}/0`;
  assert.deepEqual(await Promise.all([`${fe}/mac`, `${be}/mac`, `${be}/bridge`, `${be}/ip`, `${be}/rate`].map((p) => host.xs.read(p))),
    [mac, mac, 'xenbr0', '10.0.2.70', '62500,50000']);
  const p = host.switch.findPort(`vif${id}.0`);
  assert.equal(p?.bridge.name, 'xenbr0');
  assert.equal(p?.mode.mac, parseMac(mac), "the port checks the configuration's MAC");
  // Answered through the gateway on xenbr0: the guest sends from the MAC its create wrote (a
  // frame from the shell's MAC would be dropped by the port's check).
  const r = await httpGet(port);
  assert.equal(r.status, 200);
  assert.equal((JSON.parse(r.body) as { address: string }).address, '10.0.2.70');

  // The other shell, on a bridge of its own, with a MAC generated for it.
  const other = await host.create(config('elsewhere', WHOAMI, "vif = [ 'bridge=br7' ]\n"));
  const oid = other.domain.domid;
  assert.ok(oid === a || oid === b);
  const omac = await host.xs.read(`/local/domain/0/backend/vif/${oid}/0/mac`);
  assert.equal(await host.xs.read(`/local/domain/${oid}/device/vif/0/mac`), omac);
  assert.equal(host.switch.findPort(`vif${oid}.0`)?.bridge.name, 'br7');
  assert.equal(host.switch.findPort(`vif${oid}.0`)?.mode.mac, parseMac(omac));
  // What is on the shells' bridge now is shells' (a refill may have built one meanwhile).
  const parked = new Set(shellsOf(host).map((d) => `vif${d.domid}.0`));
  const left = [...host.switch.findBridge(SHELL_BRIDGE)?.ports ?? []].map((p) => p.device.name).filter((n) => !parked.has(n));
  assert.deepEqual(left, [], 'no claimed vif is left on the shells\' bridge');
});

test("a claimed vif shell reads its address in the flight of its MAC: its netfront names the backend, no read of the frontend's backend node", T, async (t) => {
  const { host, lines, shell, from } = await loggingOneShell(t);
  const port = await freePort();
  const www = await host.create(config('www', WWW, `vif = [ 'bridge=xenbr0,ip=10.0.2.71' ]\nforward = [ 'tcp:${port}:80' ]\n`));
  assert.equal(www.domain.domid, shell);
  assert.equal((JSON.parse((await httpGet(port)).body) as { address: string }).address, '10.0.2.71', 'configured from the ip= its claim wrote');
  await host.xs.control('log', 'off');
  const reads = lines.slice(from).filter((l) => l.startsWith(`IN d${shell}#`) && l.includes(' READ '));
  const be = `/local/domain/0/backend/vif/${shell}/0`;
  assert.ok(reads.some((l) => l.includes(`(${be}/ip `)), `the guest read its ip= from ${be}:\n${reads.join('\n')}`);
  assert.deepEqual(reads.filter((l) => l.includes('device/vif/0/backend ')), [], "no read of the frontend's backend node after the claim");

  // Sent at the claim, before the kernel's main() runs: a kernel that marks its main()'s start.
  await until('a vif shell is ready again', () => host.vifShells.ready === 1);
  const next = shellsOf(host)[0]!.domid;
  await host.xs.control('log', 'on');
  const at = lines.length;
  const marked = await host.create(config('marked', MAINMARK, "vif = [ 'bridge=xenbr0,ip=10.0.2.72' ]\n"));
  assert.equal(marked.domain.domid, next);
  await until('main() has marked its start', async () => (await host.xs.readOptional(`/local/domain/${next}/data/main`)) === '1');
  await host.xs.control('log', 'off');
  const mine = lines.slice(at).filter((l) => l.startsWith(`IN d${next}#`));
  const first = (what: string) => mine.findIndex((l) => l.includes(what));
  const main = first(`(/local/domain/${next}/data/main `);
  for (const node of [`/local/domain/${next}/device/vif/0/mac`, `/local/domain/0/backend/vif/${next}/0/ip`]) {
    assert.ok(first(`(${node} `) >= 0 && first(`(${node} `) < main, `${node} was read before main() began:\n${mine.join('\n')}`);
  }
});

test("a claimed vif shell's MAC and address reads reach xenstored while its kernel is evaluated, not after main() began", T, async (t) => {
  const { host, lines, shell, from } = await loggingOneShell(t);
  // Its kernel's top level sleeps 3 s before main() exists: requests its claim sent before
  // that reach xenstored meanwhile; ones whose notification waited for main() come with it.
  const built = await host.create(config('slow', SLOWLINK, "vif = [ 'bridge=xenbr0,ip=10.0.2.73' ]\n"));
  assert.equal(built.domain.domid, shell);
  let mainHeard = false;
  void built.vcpu.mainCalled.then(() => (mainHeard = true));
  const at = (node: string) => lines.findIndex((l, i) => i >= from && l.startsWith(`IN d${shell}#`) && l.includes(`(${node} `));
  const nodes = [`/local/domain/${shell}/device/vif/0/mac`, `/local/domain/0/backend/vif/${shell}/0/ip`];
  await until('the MAC and ip reads reach xenstored', () => nodes.every((n) => at(n) >= 0));
  assert.equal(mainHeard, false, `the reads came with main(), not during the kernel's evaluation:\n${lines.slice(from).join('\n')}`);
  await until('main() has marked its start', async () => (await host.xs.readOptional(`/local/domain/${shell}/data/main`)) === '1');
  await host.xs.control('log', 'off');
});

test('a configuration a vif shell cannot become is not given one', T, async (t) => {
  const host = await started(t, 1);
  const shell = shellsOf(host)[0]!.domid;
  const none = await host.create(config('novif', WHOAMI, ''));
  const two = await host.create(config('twovifs', WHOAMI, "vif = [ 'bridge=xenbr0', 'bridge=xenbr0' ]\n"));
  const named = await host.create(config('named', WHOAMI, "vif = [ 'bridge=xenbr0,vifname=web0' ]\n"));
  for (const b of [none, two, named]) {
    assert.notEqual(b.domain.domid, shell);
    await b.vcpu.mainCalled;
  }
  assert.equal(await host.xs.read(`/local/domain/0/backend/vif/${named.domain.domid}/0/vifname`), 'web0');
  assert.equal(host.vifShells.ready, 1);
});

test('a vif shell torn down unused leaves no xenstore node, switch port, netback device or domain', T, async (t) => {
  const host = await started(t, 2);
  const ids = shellsOf(host).map((d) => d.domid);
  assert.equal(ids.length, 2);
  assert.deepEqual([...(await dom0VifTraffic(host.hv)).keys()].sort(), [...ids].sort(), 'netback serves both');
  await host.vifShells.close();
  for (const id of ids) {
    assert.equal(host.hv.findDomain(id), undefined, `d${id} is gone`);
    assert.equal(host.switch.findPort(`vif${id}.0`), undefined, `vif${id}.0 is unplugged`);
    assert.equal(await host.xs.exists(`/local/domain/0/backend/vif/${id}`), false);
    assert.equal(await host.xs.exists(`/local/domain/${id}`), false);
  }
  assert.deepEqual([...(await dom0VifTraffic(host.hv)).keys()], [], 'netback serves no vif');
  assert.deepEqual(host.switch.findBridge(SHELL_BRIDGE)?.ports.size ?? 0, 0);
});

test('a vif shell whose vif cannot be attached (no netback) is torn down whole: no domain, node or port left', T, async (t) => {
  const host = await Host.start();
  t.after(() => host.close());
  const list = (path: string) => host.xs.directory(path).catch(() => []);
  const before = { domains: await list('/local/domain'), vms: await list('/vm'), backends: await list('/local/domain/0/backend') };
  const lines: string[] = [];
  // The host's build context without its netback: attaching the vif fails with ENODEV.
  const shells = new ShellPool(() => ({ hv: host.hv, xs: host.xs, xenstored: host.xenstored, consoled: host.consoled, pool: host.pool, loop: host.loop }),
    { count: 1, memory: 32, vif: true }, (l) => lines.push(l));
  shells.fill();
  await until('the refill gave up', () => lines.length >= 3);
  await shells.close();
  assert.match(lines[0]!, /ENODEV/);
  assert.equal(shells.ready, 0);
  await until('every half-built shell is torn down', () => host.hv.domains().length === 1);
  assert.deepEqual({ domains: await list('/local/domain'), vms: await list('/vm'), backends: await list('/local/domain/0/backend') }, before);
  assert.equal(host.switch.findBridge(SHELL_BRIDGE)?.ports.size ?? 0, 0);
});
