// Pre-built domains (shells): a create that fits one claims it, and what the guest and users
// see is the same as a domain built for it; shells stay hidden; no shell serves two creates;
// a failed refill leaves nothing behind; a shell that dies while parked is replaced; a storm
// of creates succeeds or fails each one cleanly while `list` keeps answering.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { isXenError } from '../../../src/errors.js';
import { VcpuPool, type StartedVcpu } from '../../../src/hypervisor/vcpu.js';
import { ToolstackApi } from '../../../src/toolstack/api.js';
import { parseDomainConfig } from '../../../src/toolstack/domconfig.js';
import { Host } from '../../../src/toolstack/host.js';
import { HostLog } from '../../../src/toolstack/hostlog.js';
import { isShellName, ShellPool } from '../../../src/toolstack/shells.js';
import { FIXTURES } from '../../support/cli.js';
import { scratchStateDir } from '../../support/state-dir.js';

scratchStateDir('shells');

const T = { timeout: 60_000 };
const KERNEL = join(FIXTURES, 'whoami.ts');
const cfgText = (name: string, extra = '') => `name = "${name}"\nkernel = "${KERNEL}"\nmemory = 32\n${extra}`;
const config = (name: string, extra = '') => parseDomainConfig(cfgText(name, extra), KERNEL).config;
const shellsOf = (host: Host) => host.hv.domains().filter((d) => isShellName(d.name));

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function started(t: { after(fn: () => Promise<void>): void }, count: number, maxCreates?: number): Promise<Host> {
  const host = await Host.start({ shells: { count, memory: 32 }, ...(maxCreates !== undefined && { maxCreates }) });
  t.after(() => host.close());
  await until(`${count} shells are ready`, () => host.shells.ready === count);
  return host;
}

const consoleText = (host: Host, domid: number) => Buffer.from(host.consoled.log(domid)).toString();

test('a create claims a shell: the guest and xenstore see its name, uuid and command line; shells stay hidden', T, async (t) => {
  const host = await started(t, 2);
  assert.deepEqual(host.domains().map((d) => d.domid), [0], 'shells are not listed');
  const shellIds = shellsOf(host).map((d) => d.domid);
  const uuid = '0b6cbd4e-0e6e-4ba0-9d6b-3d2a1c1f7a11';
  const built = await host.create(config('claimed', `uuid = "${uuid}"\nextra = "a b=c"\n`));
  const marks = await built.vcpu.mainCalled;
  const id = built.domain.domid;
  assert.ok(shellIds.includes(id), 'the domain is one of the shells');
  assert.notEqual(marks?.handed, undefined, 'its kernel was handed to a parked runtime');
  assert.equal(built.domain.uuid, uuid);
  assert.equal(await host.xs.read(`/local/domain/${id}/name`), 'claimed');
  assert.equal(await host.xs.read(`/local/domain/${id}/vm`), `/vm/${uuid}`);
  assert.equal(await host.xs.read(`/vm/${uuid}/name`), 'claimed');
  assert.deepEqual(await host.xs.getPerms(`/vm/${uuid}`), [{ domid: 0, perm: 'n' }, { domid: id, perm: 'r' }]);
  await until('the guest has printed', () => consoleText(host, id).includes('whoami'));
  assert.match(consoleText(host, id), new RegExp(`whoami claimed ${uuid} \\[a b=c\\] xenstore-name=claimed`));
  assert.deepEqual(host.domains().map((d) => d.name), ['Domain-0', 'claimed']);
  // Refilled in the background.
  await until('the pool is full again', () => host.shells.ready === 2);
  await host.destroy(id);
  assert.equal(await host.xs.readOptional(`/vm/${uuid}/name`), undefined);
});

test("a shell runs its kernel compiled ahead from the host's code cache; a crash names the kernel's sources; a module kernel still runs", T, async (t) => {
  const host = await started(t, 2);
  const first = await host.create(config('first'));
  await first.vcpu.mainCalled;
  // The shell left was prepared with whoami's script when the first create took its shell.
  const second = await host.create(config('second'));
  assert.notEqual((await second.vcpu.mainCalled)?.handed, undefined);
  await until('the second guest has printed', () => consoleText(host, second.domain.domid).includes('whoami second'));
  // It kept the uuid it was built with: its /vm directory was made with the shell.
  const vm = `/vm/${second.domain.uuid}`;
  assert.equal(await host.xs.read(`/local/domain/${second.domain.domid}/vm`), vm);
  assert.deepEqual([await host.xs.read(`${vm}/uuid`), await host.xs.read(`${vm}/name`)], [second.domain.uuid, 'second']);
  assert.deepEqual(await host.xs.getPerms(vm), [{ domid: 0, perm: 'n' }, { domid: second.domain.domid, perm: 'r' }]);
  await until('the pool is full again', () => host.shells.ready === 2);
  // Preserved, so that its console stays to be read however late this test looks.
  const crashed = await host.create(parseDomainConfig(`name = "crasher"\nkernel = "${join(FIXTURES, 'crash.ts')}"\nmemory = 32\non_crash = "preserve"\n`, KERNEL).config);
  await until('the crash is on the console', () => consoleText(host, crashed.domain.domid).includes('guest crashed'));
  assert.match(consoleText(host, crashed.domain.domid), /boom from the guest\n\s+at .*crash\.ts:\d+/);
  const dir = mkdtempSync(join(tmpdir(), 'xenode-shells-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'meta.ts'), "import type { OS } from 'xenode';\nexport default async function main(os: OS): Promise<void> {\n" +
    "  console.log('meta', import.meta.url.endsWith('.mjs'));\n  await os.lifecycle.awaitShutdownRequest();\n}\n");
  const meta = await host.create(parseDomainConfig(`name = "meta"\nkernel = "${join(dir, 'meta.ts')}"\nmemory = 32\n`, KERNEL).config);
  assert.notEqual((await meta.vcpu.mainCalled)?.handed, undefined, 'from a shell too');
  await until('the module kernel has printed', () => consoleText(host, meta.domain.domid).includes('meta true'));
});

test("a claimed shell makes the runtime's code cache that holds a claim's path; one V8 refuses (garbage) is made anew, and shells start all the same", T, async (t) => {
  // A cache directory of this test's own: no other test process's threads write there.
  const cacheDir = mkdtempSync(join(tmpdir(), 'xenode-claim-cache-'));
  const was = process.env['XENODE_CODE_CACHE_DIR'];
  process.env['XENODE_CODE_CACHE_DIR'] = cacheDir;
  t.after(() => {
    if (was === undefined) delete process.env['XENODE_CODE_CACHE_DIR'];
    else process.env['XENODE_CODE_CACHE_DIR'] = was;
    rmSync(cacheDir, { recursive: true, force: true });
  });
  const claimCache = () => readdirSync(cacheDir).filter((f) => /^guest\.runtime-[0-9a-f]+-[0-9a-f]+\.claim\.cache$/.test(f));
  const claimOnce = async (host: Host, name: string) => {
    const built = await host.create(config(name));
    assert.notEqual((await built.vcpu.mainCalled)?.handed, undefined, `${name}: a shell was claimed`);
    await until(`${name} has printed`, () => consoleText(host, built.domain.domid).includes(`whoami ${name}`));
    await host.destroy(built.domain.domid);
  };
  let host = await started(t, 1);
  assert.deepEqual(claimCache(), [], 'no claim has run yet');
  // Written before the guest reports main(): there once the create has seen it.
  await claimOnce(host, 'first');
  assert.equal(claimCache().length, 1, `files: ${readdirSync(cacheDir).join(', ')}`);
  const file = join(cacheDir, claimCache()[0]!);
  await host.close();
  const bad = randomBytes(4096);
  writeFileSync(file, bad);
  // Every thread of a new host starts from the refused cache; a claim then writes a whole one.
  host = await started(t, 1);
  await claimOnce(host, 'second');
  assert.ok(existsSync(file) && !readFileSync(file).equals(bad), 'the refused cache was made anew by the claim');
});

test('a configuration no shell fits is built as before', T, async (t) => {
  const host = await started(t, 1);
  const shellIds = shellsOf(host).map((d) => d.domid);
  const built = await host.create(config('big', 'memory = 48\n'));
  const marks = await built.vcpu.mainCalled;
  assert.ok(!shellIds.includes(built.domain.domid));
  assert.equal(marks?.handed, undefined);
  assert.equal(host.shells.ready, 1);
});

test('concurrent creates never share a shell', T, async (t) => {
  const host = await started(t, 3);
  const shellIds = new Set(shellsOf(host).map((d) => d.domid));
  const built = await Promise.all(Array.from({ length: 6 }, (_, i) => host.create(config(`c${i}`))));
  await Promise.all(built.map((b) => b.vcpu.mainCalled));
  const ids = built.map((b) => b.domain.domid);
  assert.equal(new Set(ids).size, ids.length, 'every create has its own domain');
  assert.ok(ids.filter((id) => shellIds.has(id)).length <= shellIds.size);
  for (const b of built) {
    await until(`${b.domain.name} has printed`, () => consoleText(host, b.domain.domid).includes('whoami'));
    assert.match(consoleText(host, b.domain.domid), new RegExp(`whoami ${b.domain.name} `));
  }
});

test("a claimed shell's kernel runs while its disk's backend starts: the create returns it connected, its I/O is served; a refused image fails the create and leaves nothing", T, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xenode-shells-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const image = join(dir, 'disk.img');
  writeFileSync(image, Buffer.alloc(1 << 20));
  const host = await started(t, 2);
  const list = (path: string) => host.xs.directory(path).catch(() => [] as string[]);
  const diskio = (name: string, target: string) =>
    parseDomainConfig(`name = "${name}"\nkernel = "${join(FIXTURES, 'diskio.ts')}"\nmemory = 32\ndisk = [ 'vdev=xvda, target=${target}' ]\n`, KERNEL).config;
  const built = await host.create(diskio('disked', image));
  const id = built.domain.domid;
  assert.notEqual((await built.vcpu.mainCalled)?.handed, undefined, 'a shell was claimed');
  assert.equal(await host.xs.read(`/local/domain/0/backend/vbd/${id}/51712/hotplug-status`), 'connected', 'create returned once blkback took the disk');
  assert.equal(await host.xs.wait(`/local/domain/${id}/data/diskio`, (v) => v === 'done', { timeout: 30_000 }), 'done');
  await host.destroy(id);

  // blkback refuses a directory once the kernel may be running: the create fails, nothing stays.
  await until('the pool is full again', () => host.shells.ready === 2);
  const vmsBefore = (await list('/vm')).length;
  await assert.rejects(host.create(diskio('refused', dir)), (e: Error) => isXenError(e, 'ENODEV') && /disk image \S+ is a directory/.test(e.message));
  assert.deepEqual(host.domains().map((d) => d.name), ['Domain-0']);
  await until('the refill is done', () => host.shells.ready === 2);
  const shells = new Set(shellsOf(host).map((d) => String(d.domid)));
  const after = { domains: await list('/local/domain'), vms: await list('/vm'), backends: await list('/local/domain/0/backend/vbd') };
  // The claimed shell is gone and a new one took its place; nothing else changed.
  assert.deepEqual(after.domains.filter((d) => !shells.has(d)), ['0']);
  assert.equal(after.vms.length, vmsBefore);
  assert.deepEqual(after.backends, []);
  const again = await host.create(diskio('again', image));
  assert.equal(await host.xs.wait(`/local/domain/${again.domain.domid}/data/diskio`, (v) => v === 'done', { timeout: 30_000 }), 'done');
});

test('a refill whose vCPU fails to start leaves no domain and no xenstore nodes behind', T, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xenode-shells-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'broken.mjs'), "throw new Error('broken runtime');\n");
  const host = await Host.start();
  t.after(() => host.close());
  const list = (path: string) => host.xs.directory(path).catch(() => []);
  const before = { domains: await list('/local/domain'), vms: await list('/vm') };
  const broken = new VcpuPool({ size: 0, image: pathToFileURL(join(dir, 'broken.mjs')) });
  const lines: string[] = [];
  const shells = new ShellPool(() => ({ hv: host.hv, xs: host.xs, xenstored: host.xenstored, consoled: host.consoled, pool: broken }), { count: 2, memory: 32 }, (l) => lines.push(l));
  shells.fill();
  await until('the refill gave up', () => lines.length >= 3);
  await shells.close();
  assert.equal(shells.ready, 0);
  await until('every half-built shell is reaped', () => host.hv.domains().length === 1);
  assert.deepEqual({ domains: await list('/local/domain'), vms: await list('/vm') }, before);
});

test('a shell whose vCPU dies while it waits is torn down and replaced, never handed out', T, async (t) => {
  const host = await started(t, 1);
  const [victim] = shellsOf(host);
  await (victim!.vcpu as StartedVcpu).worker.terminate();
  await until('the dead shell is gone', () => host.hv.findDomain(victim!.domid) === undefined);
  await until('a new shell is ready', () => host.shells.ready === 1);
  const built = await host.create(config('after'));
  await built.vcpu.mainCalled;
  assert.notEqual(built.domain.domid, victim!.domid);
});

test('a storm of 200 creates from 10 clients: each succeeds or fails with EAGAIN/ENOMEM, list answers throughout', T, async (t) => {
  const host = await started(t, 2, 4);
  const api = new ToolstackApi(host, { log: new HostLog() });
  const outcomes: (number | string)[] = [];
  let listed = 0;
  let storming = true;
  const lister = (async () => {
    while (storming) {
      const rows = await api.call('list', {});
      assert.ok(rows.every((r) => !isShellName(r.name)));
      listed++;
      await new Promise((r) => setImmediate(r));
    }
  })();
  await Promise.all(Array.from({ length: 10 }, (_, c) => Promise.all(Array.from({ length: 20 }, async (_, i) => {
    try {
      const r = await api.call('create', { file: join(FIXTURES, 'storm.cfg'), text: cfgText(`storm-${c}-${i}`) });
      outcomes.push(r.domid);
    } catch (e) {
      assert.ok(isXenError(e, 'EAGAIN') || isXenError(e, 'ENOMEM'), `a create failed with ${String(e)}`);
      outcomes.push(e.errno);
    }
  }))));
  storming = false;
  await lister;
  assert.equal(outcomes.length, 200);
  const ids = outcomes.filter((o): o is number => typeof o === 'number');
  assert.ok(ids.length >= 4, `${ids.length} creates succeeded`);
  assert.equal(new Set(ids).size, ids.length, 'no domain was handed to two creates');
  assert.ok(listed > 0);
  const rows = await api.call('list', {});
  assert.deepEqual(rows.map((r) => r.domid).sort((a, b) => a - b), [0, ...ids].sort((a, b) => a - b));
});

test("a create with pool= claims a realm parked in that cpupool: the guest sees its name (in xenstore too, from main()) and command line; shells stay out of list and cpupool-list", T, async (t) => {
  const host = await Host.start();
  t.after(() => host.close());
  const pool = await host.createCpupool('dense', 1, 'credit', { shells: { count: 2, memory: 32 } });
  await until('2 shells are parked in the pool', () => shellsOf(host).length === 2 && pool.domains === 2);
  const api = new ToolstackApi(host, { log: new HostLog() });
  const shellIds = shellsOf(host).map((d) => d.domid);
  assert.deepEqual((await api.call('cpupoolList', {})).map((p) => [p.name, p.domains]), [['Pool-0', 1], ['dense', 0]]);
  const built = await host.create(config('parked', 'pool = "dense"\nextra = "x y"\n'));
  const marks = await built.vcpu.mainCalled;
  const id = built.domain.domid;
  assert.ok(shellIds.includes(id), 'the domain is one of the parked shells');
  assert.notEqual(marks?.handed, undefined, 'its kernel was handed to a parked realm');
  assert.equal(host.poolOf(id), 'dense');
  assert.equal(await host.xs.read(`/local/domain/${id}/name`), 'parked');
  await until('the guest has printed', () => consoleText(host, id).includes('whoami'));
  assert.match(consoleText(host, id), new RegExp(`whoami parked ${built.domain.uuid} \\[x y\\] xenstore-name=parked`), 'named in xenstore before its own first request');
  // Pool-0's shells (none here) do not serve it, nor its shells a Pool-0 create.
  const plain = await host.create(config('plain'));
  await plain.vcpu.mainCalled;
  assert.equal(host.poolOf(plain.domain.domid), 'Pool-0');
  assert.ok(!shellIds.includes(plain.domain.domid));
  assert.deepEqual((await api.call('cpupoolList', {})).map((p) => [p.name, p.domains]), [['Pool-0', 2], ['dense', 1]]);
  await assert.rejects(host.destroyCpupool('dense'), /still has 1 domain/);
  await host.destroy(id);
  await until('the pool is full again', () => shellsOf(host).length === 2);
  await host.destroyCpupool('dense');
  assert.deepEqual(shellsOf(host), [], 'its parked shells went with it');
  assert.deepEqual(host.hv.domains().map((d) => d.name), ['Domain-0', 'plain']);
});

test("a create from a cpupool's parked realm whose disk is refused leaves neither its /local/domain nor its /vm directory: the names written late are not written after its teardown", T, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xenode-shells-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const host = await Host.start();
  t.after(() => host.close());
  const pool = await host.createCpupool('dense', 1, 'credit', { shells: { count: 2, memory: 32 } });
  await until('2 shells are parked in the pool', () => shellsOf(host).length === 2 && pool.domains === 2);
  const parked = shellsOf(host);
  const cfg = parseDomainConfig(`name = "refused"\nkernel = "${join(FIXTURES, 'diskio.ts')}"\nmemory = 32\npool = "dense"\ndisk = [ 'vdev=xvda, target=${dir}' ]\n`, KERNEL).config;
  await assert.rejects(host.create(cfg), (e: Error) => isXenError(e, 'ENODEV'));
  const claimed = parked.find((d) => host.hv.findDomain(d.domid) !== d);
  assert.ok(claimed, 'a parked realm was claimed and destroyed');
  // Its names are written once its main() is reported or 5 ms after its kernel: well before a new realm is parked.
  await until('the pool is full again', () => shellsOf(host).length === 2 && pool.domains === 2);
  const gone = (path: string) => host.xs.directory(path).then((children) => children, (e: Error) => isXenError(e, 'ENOENT'));
  assert.equal(await gone(`/local/domain/${claimed.domid}`), true);
  assert.equal(await gone(`/vm/${claimed.uuid}`), true);
  await host.destroyCpupool('dense');
});

test('a storm of 100 creates into a cpupool with parked shells: each succeeds or fails cleanly, no shell serves two', T, async (t) => {
  const host = await Host.start({ maxCreates: 8 });
  t.after(() => host.close());
  await host.createCpupool('dense', 1, 'credit', { shells: { count: 4, memory: 32 } });
  await until('4 shells are parked', () => shellsOf(host).length === 4);
  const api = new ToolstackApi(host, { log: new HostLog() });
  const outcomes: (number | string)[] = [];
  await Promise.all(Array.from({ length: 10 }, (_, c) => Promise.all(Array.from({ length: 10 }, async (_, i) => {
    try {
      outcomes.push((await api.call('create', { file: join(FIXTURES, 'storm.cfg'), text: cfgText(`ps-${c}-${i}`, 'pool = "dense"\n') })).domid);
    } catch (e) {
      assert.ok(isXenError(e, 'EAGAIN') || isXenError(e, 'ENOMEM'), `a create failed with ${String(e)}`);
      outcomes.push(e.errno);
    }
  }))));
  const ids = outcomes.filter((o): o is number => typeof o === 'number');
  assert.equal(outcomes.length, 100);
  assert.ok(ids.length >= 8, `${ids.length} creates succeeded`);
  assert.equal(new Set(ids).size, ids.length, 'no domain was handed to two creates');
  assert.ok(ids.every((id) => host.poolOf(id) === 'dense'));
  assert.deepEqual((await api.call('cpupoolList', {})).find((p) => p.name === 'dense')?.domains, ids.length);
});
