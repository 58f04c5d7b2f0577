// A cold create (no pooled thread) starts its vCPU thread as soon as the domain's memory is
// granted, so that the runtime loads while dom0 builds the domain (toolstack/builder.ts). A
// build that fails after that point must end the thread: a thread left waiting for a boot
// message would hold its memory and keep the host's process alive. Its kernel comes with the
// boot as a script where it can be one (compiled from V8's code cache), else as its module.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { GNTTAB_RESERVED_CONSOLE } from '../../../src/hypervisor/layout.js';
import { isXenError } from '../../../src/errors.js';
import { ToolstackApi } from '../../../src/toolstack/api.js';
import { GUEST_IMAGE } from '../../../src/guest/image.js';
import { GUEST_NICE } from '../../../src/hypervisor/sched.js';
import { VcpuPool, type VcpuThread } from '../../../src/hypervisor/vcpu.js';
import { memorySplit } from '../../../src/toolstack/builder.js';
import { cachedKernelScript } from '../../../src/toolstack/kernel.js';
import { parseDomainConfig } from '../../../src/toolstack/domconfig.js';
import { Host } from '../../../src/toolstack/host.js';
import { HostLog } from '../../../src/toolstack/hostlog.js';
import { FIXTURES } from '../../support/cli.js';
import { waitFor } from '../../support/gateway.js';
import { scratchStateDir } from '../../support/state-dir.js';

scratchStateDir('cold-create');

const KERNEL = join(FIXTURES, 'whoami.ts');
const threads = () => readdirSync('/proc/self/task').length;

/** A host with no pooled threads (every create cold), its API, and a scratch directory, all gone after the test. */
async function coldHost(t: { after(fn: () => Promise<void>): void }): Promise<{ dir: string; host: Host; api: ToolstackApi }> {
  const dir = await mkdtemp(join(tmpdir(), 'xenode-cold-'));
  const host = await Host.start({ poolSize: 0 });
  t.after(async () => {
    await host.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, host, api: new ToolstackApi(host, { log: new HostLog() }) };
}

test('a cold create whose disk is refused ends the vCPU thread it started; the next create is served', { timeout: 120_000 }, async (t) => {
  const { dir, host, api } = await coldHost(t);
  // A directory as the disk's target: blkback refuses it after the domain is built.
  const refused = (name: string) => api.call('create', {
    file: KERNEL, text: `name = "${name}"\nkernel = "${KERNEL}"\nmemory = 32\ndisk = [ 'vdev=xvda, target=${dir}' ]\n`,
  });
  // The first one also starts what a host starts once (libuv's pool, the scrubber).
  await assert.rejects(refused('r0'), (e) => isXenError(e, 'ENODEV'));
  assert.ok(await waitFor(() => host.domains().every((d) => d.domid === 0), 30_000), 'the refused domain is gone');
  const before = threads();
  for (let i = 1; i <= 4; i++) await assert.rejects(refused(`r${i}`), (e) => isXenError(e, 'ENODEV'));
  assert.deepEqual(host.domains().map((d) => d.domid), [0]);
  // Four threads left running would never end: wait for the count to come back (30 s: a bound,
  // not a timing), give or take two a host may start on its own meanwhile (its scrubber's).
  assert.ok(await waitFor(() => threads() <= before + 2, 30_000), `threads: ${threads()} against ${before} before`);
  const { domid } = await api.call('create', { file: KERNEL, text: `name = "ok"\nkernel = "${KERNEL}"\nmemory = 32\n` });
  assert.ok(domid > 0);
  await host.destroy(domid);
});

test("creates that createDomain refuses end none of the pool's idle threads, for a kernel linked before as a script", { timeout: 120_000 }, async (t) => {
  const host = await Host.start({ poolSize: 1 });
  t.after(() => host.close());
  // A kernel file of its own: the scripts are cached per process, and a host of an earlier test
  // that closed takes its script out when its eager cache's child ends, which may be after this
  // test's first create (seen in a full run): the next creates would then link it again.
  const dir = await mkdtemp(join(tmpdir(), 'xenode-cold-take-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const kernel = join(dir, 'whoami.ts');
  await writeFile(kernel, readFileSync(KERNEL));
  const config = parseDomainConfig(`name = "first"\nkernel = "${kernel}"\nmemory = 32\n`, kernel).config;
  // The first create links the kernel as a script: the next ones would take their thread at once.
  const first = await host.create(config);
  await host.destroy(first.domain.domid);
  assert.ok(cachedKernelScript(kernel), 'the kernel is a script, unchanged since its link');
  const heap = { heapMb: memorySplit(config.memory).heapMb };
  host.pool.warm(heap);
  const taken: VcpuThread[] = [];
  const take = host.pool.take.bind(host.pool);
  host.pool.take = (opts) => {
    const thread = take(opts);
    taken.push(thread);
    return thread;
  };
  // max_grant_frames out of range: createDomain's EINVAL, before any of the domain exists.
  for (let i = 0; i < 3; i++) {
    await assert.rejects(host.create({ ...config, name: `bad${i}`, maxGrantFrames: 5000 }), (e) => isXenError(e, 'EINVAL'));
  }
  assert.deepEqual(taken.map((th) => th.warm), [], 'no thread was taken for a domain that was never made');
  assert.ok(host.pool.hasIdle(heap), 'the idle thread is still there');
});

test("a domain destroyed while its cold create's vCPU thread boots (the boot posted, its ready not yet heard) ends the thread", { timeout: 120_000 }, async (t) => {
  const { host } = await coldHost(t);
  const config = parseDomainConfig(`name = "doomed"\nkernel = "${KERNEL}"\nmemory = 32\n`, KERNEL).config;
  let thread: VcpuThread | undefined;
  let unmap: (() => void) | undefined;
  t.after(() => thread?.worker.terminate());
  const take = host.pool.take.bind(host.pool);
  // The thread's ready reaches startVcpu only once the domain is destroyed: xl destroy, or a
  // host's close past its wait, between the boot's post and the thread's ready.
  host.pool.take = (opts) => {
    const th = take(opts);
    let posted!: () => void;
    const booted = new Promise<void>((resolve) => (posted = resolve));
    const post = th.worker.postMessage.bind(th.worker);
    th.worker.postMessage = (m: { type?: string }, transfer?: Parameters<typeof post>[1]) => {
      post(m, transfer);
      if (m?.type === 'boot') posted();
    };
    const ready = Promise.all([th.ready, booted]).then(async ([tid]) => {
      const { domid } = host.hv.domains().find((d) => d.name === config.name)!;
      // A backend that maps one of its pages still: the destroyed domain stays in the table,
      // dying (unmapped, it is gone, and the vCPU's attach fails on that instead).
      const mapped = host.hv.dom0Hypercalls.grantMap(domid, GNTTAB_RESERVED_CONSOLE, true);
      unmap = () => host.hv.dom0Hypercalls.grantUnmap(mapped.handle);
      await host.destroy(domid);
      return tid;
    });
    thread = { ...th, ready };
    return thread;
  };
  await assert.rejects(host.create(config), (e) => isXenError(e, 'ESRCH'));
  assert.ok(thread, 'the create took a thread');
  // threadId is -1 once the thread has stopped (30 s: a bound, not a timing).
  assert.ok(await waitFor(() => thread!.worker.threadId === -1, 30_000), 'the thread ended');
  assert.deepEqual(host.domains().filter((d) => !d.dying).map((d) => d.domid), [0]);
  assert.ok(unmap, 'the domain was destroyed in the window');
  unmap();
  assert.deepEqual(host.domains().map((d) => d.domid), [0], 'reaped once unmapped');
});

test('a cold create runs its kernel as a script where it can, as its module where not (import.meta), and reports a top-level crash with its error', { timeout: 120_000 }, async (t) => {
  const { dir, host, api } = await coldHost(t);
  const kernels = {
    // A script's body has CommonJS's `module`; an ES module has none.
    script: "export default async function main(os) { await os.xenstore.write('data/kind', typeof module === 'object' ? 'script' : 'module'); }\n",
    module: "export default async function main(os) { await os.xenstore.write('data/kind', import.meta.url.endsWith('.mjs') ? 'module' : 'script'); }\n",
  };
  for (const [kind, code] of Object.entries(kernels)) {
    const file = join(dir, `${kind}.js`);
    await writeFile(file, code);
    const { domid } = await api.call('create', { file, text: `name = "${kind}"\nkernel = "${file}"\nmemory = 32\n` });
    assert.equal(await host.xs.wait(`/local/domain/${domid}/data/kind`, (v) => v !== undefined && v !== '', { timeout: 30_000 }), kind);
    await host.destroy(domid);
  }
  // A crash at the top level: create's error quotes the console's last lines, the error's own among them.
  const early = join(dir, 'early.js');
  await writeFile(early, "function f() { throw new Error('dead on arrival'); }\nf();\nexport default async function main() {}\n");
  await assert.rejects(api.call('create', { file: early, text: `name = "early"\nkernel = "${early}"\nmemory = 32\n` }),
    (e) => isXenError(e, 'ENOEXEC') && /guest crashed: Error: dead on arrival \|\s+at f \(\/\S+early\.js:1:\d+\)/.test(e.message));
});

/** A code cache directory of the test's own (no other test process's threads write there), and the start caches in it. */
async function ownCacheDir(t: { after(fn: () => Promise<void>): void }): Promise<{ cacheDir: string; made(): string[] }> {
  const cacheDir = await mkdtemp(join(tmpdir(), 'xenode-code-cache-'));
  const was = process.env['XENODE_CODE_CACHE_DIR'];
  process.env['XENODE_CODE_CACHE_DIR'] = cacheDir;
  t.after(async () => {
    if (was === undefined) delete process.env['XENODE_CODE_CACHE_DIR'];
    else process.env['XENODE_CODE_CACHE_DIR'] = was;
    await rm(cacheDir, { recursive: true, force: true });
  });
  return { cacheDir, made: () => readdirSync(cacheDir).filter((f) => /^guest\.runtime-[0-9a-f]+-[0-9a-f]+\.cache$/.test(f)) };
}

test("a vCPU thread starts whatever its runtime's code cache holds (garbage, a cut one) and makes a whole one", { timeout: 120_000 }, async (t) => {
  const { cacheDir, made } = await ownCacheDir(t);
  const { host, api } = await coldHost(t);
  // The first thread finds none and makes it (named by the runtime's digest and node's flags).
  const first = await api.call('create', { file: KERNEL, text: `name = "first"\nkernel = "${KERNEL}"\nmemory = 32\n` });
  assert.ok(await waitFor(() => made().length === 1, 30_000), `no cache made in ${cacheDir}: ${readdirSync(cacheDir).join(', ')}`);
  await host.destroy(first.domid);
  const cache = join(cacheDir, made()[0]!);
  const read = () => readFileSync(cache, { flag: 'r' });
  const cut = async (bad: Buffer, name: string) => {
    writeFileSync(cache, bad);
    const { domid } = await api.call('create', { file: KERNEL, text: `name = "${name}"\nkernel = "${KERNEL}"\nmemory = 32\n` });
    // V8 refused it, the thread compiled the runtime, and at its main() wrote a cache of its own.
    assert.ok(await waitFor(() => !read().equals(bad), 30_000), `${name}: the cache was not made anew`);
    await host.destroy(domid);
  };
  await cut(randomBytes(4096), 'garbage');
  const whole = read();
  await cut(whole.subarray(0, whole.length >> 1), 'cut');
  assert.ok(read().length > whole.length >> 1);
});

test("the start's code cache is made at a boot's main(), not by a pool thread that only warmed up", { timeout: 120_000 }, async (t) => {
  const { made } = await ownCacheDir(t);
  const pool = new VcpuPool({ size: 1, image: GUEST_IMAGE });
  t.after(() => pool.close());
  const heap = { heapMb: memorySplit(32).heapMb };
  pool.warm(heap);
  const idle = pool.take(heap);
  t.after(() => idle.worker.terminate());
  await idle.ready;
  // Its warm-up is done, and more than a second has passed since its start: it made none.
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(made(), [], 'a thread that booted nothing made no start cache');
  const { host, api } = await coldHost(t);
  const { domid } = await api.call('create', { file: KERNEL, text: `name = "booted"\nkernel = "${KERNEL}"\nmemory = 32\n` });
  assert.ok(await waitFor(() => made().length === 1, 30_000), 'made once its guest booted');
  await host.destroy(domid);
});

test("a cold create's thread loads neither perf_hooks nor node:url before main(), and its boot's marks are on dom0's clock", { timeout: 120_000 }, async (t) => {
  const { host } = await coldHost(t);
  const kernel = join(FIXTURES, 'builtins.ts');
  let text = '';
  host.consoled.on('output', (_domid: number, data: Uint8Array) => void (text += Buffer.from(data).toString()));
  const wall = () => performance.timeOrigin + performance.now();
  const before = wall();
  const built = await host.create(parseDomainConfig(`name = "builtins"\nkernel = "${kernel}"\nmemory = 32\n`, kernel).config);
  const marks = await built.vcpu.mainCalled;
  const after = wall();
  // The thread's marks against dom0's reads around them: in order, and within them.
  assert.ok(marks?.linked !== undefined && marks.named !== undefined, 'a boot reports its marks');
  assert.ok(before <= marks.booted && marks.booted <= marks.named && marks.named <= marks.linked && marks.linked <= after,
    `marks ${JSON.stringify(marks)} between ${before} and ${after}`);
  // Its whole line: the console's output comes in pieces.
  const line = /builtins (\[.*\])\n/;
  assert.ok(await waitFor(() => line.test(text), 30_000), 'the guest printed its modules');
  const loaded = JSON.parse(line.exec(text)![1]!) as string[];
  assert.ok(loaded.includes('vm'), `the list is the thread's own (${loaded.length} modules)`);
  assert.ok(!loaded.includes('perf_hooks'), 'perf_hooks is loaded at the first use of `performance`');
  assert.ok(!loaded.includes('url'), 'node:url is loaded at its first use');
});

test("a cold create's kernel runs at its weight's priority from its top level on", { timeout: 120_000 }, async (t) => {
  if (getPriority() >= GUEST_NICE) {
    t.skip(`this runner's nice is ${getPriority()}: a guest's could not be told from it`);
    return;
  }
  const { host } = await coldHost(t);
  const kernel = join(FIXTURES, 'priority.ts');
  let text = '';
  host.consoled.on('output', (_domid: number, data: Uint8Array) => void (text += Buffer.from(data).toString()));
  await host.create(parseDomainConfig(`name = "priority"\nkernel = "${kernel}"\nmemory = 32\n`, kernel).config);
  assert.ok(await waitFor(() => /priority top=.*\n/.test(text), 30_000), 'the guest printed its priorities');
  assert.match(text, new RegExp(`priority top=${GUEST_NICE} main=${GUEST_NICE}\n`));
});
