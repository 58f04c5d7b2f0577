// xl save / xl restore end to end on an in-process host: the kv-store unikernel hands over its
// state (onSuspend) and answers from it after a restore, with its disk and vif (MAC) as they
// were; a checkpoint leaves it running; a second restore of one file meets xl's name clash; a
// guest without a handler starts again from main with its disk as it was; a destroy during the
// save's write to a FIFO sends no frame after it; a save to a FIFO restores, the FIFO left in place.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import { chown, open, readFile, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { get } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isXenError } from '../../src/errors.js';
import { PAGE_SIZE } from '../../src/abi/xen.js';
import type { Domain } from '../../src/hypervisor/hypervisor.js';
import { CB_RAM_HWM, firstRamPfn } from '../../src/hypervisor/layout.js';
import { readImage } from '../../src/migration/image.js';
import { restoreFile } from '../../src/migration/restore.js';
import { saveDomain } from '../../src/migration/save.js';
import { ByteSource } from '../../src/migration/source.js';
import { listDisks } from '../../src/toolstack/devices.js';
import { parseDomainConfig } from '../../src/toolstack/domconfig.js';
import { Host } from '../../src/toolstack/host.js';
import { listVifs } from '../../src/toolstack/vifs.js';
import { askKv } from '../support/kv.js';
import { freePort } from '../support/ports.js';
import { cancelOnceTaken } from '../support/suspend-cancel.js';
import { hostForTests } from '../support/local-host.js';
import { waitFor } from '../support/wait.js';
import { scratchStateDir } from '../support/state-dir.js';

scratchStateDir('saverestore');

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/guests/', import.meta.url));
const MAC = '00:16:3e:5a:7e:01';
const T = { timeout: 120_000 };
let host: Host;
let dir: string;
hostForTests('saverestore', (h, d) => {
  host = h;
  dir = d;
});

function kvConfig(name: string, image: string) {
  const kernel = join(EXAMPLES, 'kv-store/kv.ts');
  return parseDomainConfig(`name = "${name}"\nkernel = "${kernel}"\nmemory = 32\ndisk = [ 'vdev=xvda, target=${image}' ]\n`
    + `vif = [ 'mac=${MAC},bridge=xenbr-sr' ]\nextra = "serve"\n`, kernel).config;
}

const ask = (domid: number, req: string): Promise<string> => askKv(host, domid, req);

function consoleText(domid: number): string {
  return Buffer.from(host.consoled.log(domid)).toString();
}

/** Wait (bounded) until d`domid`'s console matches `re`: the console daemon reads what the guest wrote a little later. */
async function consoleMatch(domid: number, re: RegExp): Promise<void> {
  await waitFor(() => re.test(consoleText(domid)), 20_000, 20);
  assert.match(consoleText(domid), re);
}

test('kv-store keeps its state across save and restore; its disk and vif are as they were', T, async () => {
  const image = join(dir, 'kv.img');
  await writeFile(image, new Uint8Array(4 << 20));
  const { domain } = await host.create(kvConfig('kv-sr', image));
  assert.equal(await ask(domain.domid, 'set colour blue'), 'ok');
  assert.equal(await ask(domain.domid, 'get boots'), 'ok 1');
  const file = join(dir, 'kv.save');
  const saved = await saveDomain(host, domain.domid, file);
  assert.equal(host.hv.findDomain(domain.domid), undefined, 'xl save destroys the domain');
  const bytes = await readFile(file);
  assert.equal(bytes.subarray(0, 32).toString('latin1'), 'Xen saved domain, xl format\n \0 \r');
  assert.equal(saved.bytes, bytes.length);
  assert.deepEqual(saved.info.slice(0, 2), [3, 0]);

  const r = await restoreFile(host, file);
  assert.notEqual(r.domain.domid, domain.domid);
  assert.equal(r.domain.name, 'kv-sr');
  assert.equal(await ask(r.domain.domid, 'get colour'), 'ok blue');
  assert.equal(await ask(r.domain.domid, 'get boots'), 'ok 1', 'resumed from its state: no boot counted, no replay');
  assert.match(consoleText(r.domain.domid), /kv-store resumed on xvda: 2 keys/);
  assert.equal(await ask(r.domain.domid, 'set shape round'), 'ok');
  const [disk] = await listDisks(host.devices, r.domain.domid);
  assert.equal(disk?.vdev, 'xvda');
  const [vif] = await listVifs(host.devices, r.domain.domid);
  assert.equal(vif?.mac, MAC);

  // A second restore of the same file while the first runs: xl's name clash, nothing created.
  const before = host.hv.domains().length;
  await assert.rejects(restoreFile(host, file), (e: Error) => isXenError(e, 'EEXIST') && /Domain with name "kv-sr" already exists\./.test(e.message));
  assert.equal(host.hv.domains().length, before);

  // A checkpoint: saved, and still running and answering.
  const cp = join(dir, 'kv-cp.save');
  await saveDomain(host, r.domain.domid, cp, { checkpoint: true });
  assert.equal(r.domain.shutdownReason, null);
  assert.equal(await ask(r.domain.domid, 'get shape'), 'ok round');
  // Puts wait while a suspend holds the store's state; resumed in place (onResume) they go on.
  assert.equal(await ask(r.domain.domid, 'set size small'), 'ok');
  assert.equal(await ask(r.domain.domid, 'get size'), 'ok small');
  await host.destroy(r.domain.domid);

  // The checkpoint restores once the name is free again, as another new domain.
  const again = await restoreFile(host, cp);
  assert.ok(again.domain.domid !== r.domain.domid && again.domain.domid !== domain.domid);
  assert.equal(await ask(again.domain.domid, 'get shape'), 'ok round');
  await host.destroy(again.domain.domid);
});

test('a guest without an onSuspend handler starts again from main after a restore', T, async () => {
  const kernel = join(FIXTURES, 'ticker.ts');
  const { domain } = await host.create(parseDomainConfig(`name = "tick-sr"\nkernel = "${kernel}"\nmemory = 32\n`, kernel).config);
  await host.xs.wait(`/local/domain/${domain.domid}/control/feature-poweroff`, (v) => v === '1');
  const file = join(dir, 'tick.save');
  await saveDomain(host, domain.domid, file, { paused: true });
  assert.match(domain.stateString, /^--p---$/, 'xl save -p leaves it paused');
  await host.destroy(domain.domid);
  const r = await restoreFile(host, file);
  await host.xs.wait(`/local/domain/${r.domain.domid}/control/feature-poweroff`, (v) => v === '1');
  assert.equal(r.domain.shutdownReason, null);
  await host.destroy(r.domain.domid);
});

test("a save file is its owner's only whatever the umask, also one saved over that others could read", T, async () => {
  const kernel = join(FIXTURES, 'ticker.ts');
  const { domain } = await host.create(parseDomainConfig(`name = "private-sr"\nkernel = "${kernel}"\nmemory = 32\n`, kernel).config);
  await host.xs.wait(`/local/domain/${domain.domid}/control/feature-poweroff`, (v) => v === '1');
  const fresh = join(dir, 'private.save');
  const over = join(dir, 'over.save');
  const umask = process.umask(0);
  try {
    await writeFile(over, 'an older save, world-readable', { mode: 0o644 });
    assert.equal((await stat(over)).mode & 0o777, 0o644);
    await saveDomain(host, domain.domid, fresh, { checkpoint: true });
    await saveDomain(host, domain.domid, over, { checkpoint: true });
  } finally {
    process.umask(umask);
  }
  assert.equal((await stat(fresh)).mode & 0o777, 0o600, 'created 0600');
  assert.equal((await stat(over)).mode & 0o777, 0o600, 'an existing file made 0600');
  assert.equal((await readFile(over)).subarray(0, 32).toString('latin1'), 'Xen saved domain, xl format\n \0 \r', 'the save replaced it');
  await host.destroy(domain.domid);
});

test("a save to a file or a FIFO another user owns is refused, and that file is left as it was", T, async (t) => {
  if (process.geteuid?.() !== 0) {
    t.skip('needs root: only root can give a file to another user');
    console.log('# skipped: not root, so no file of another user can be made');
    return;
  }
  const kernel = join(FIXTURES, 'ticker.ts');
  const { domain } = await host.create(parseDomainConfig(`name = "foreign-sr"\nkernel = "${kernel}"\nmemory = 32\n`, kernel).config);
  const planted = join(dir, 'planted.save');
  await writeFile(planted, 'planted by another user', { mode: 0o644 });
  await chown(planted, 65534, 65534);
  await assert.rejects(saveDomain(host, domain.domid, planted, { checkpoint: true }), (e: Error) => isXenError(e, 'EACCES') && /owned by another user/.test(e.message));
  assert.equal(await readFile(planted, 'utf8'), 'planted by another user', 'not truncated');
  const st = await stat(planted);
  assert.equal(st.uid, 65534);
  assert.equal(st.mode & 0o777, 0o644, 'not chmodded');
  // A FIFO of another user's, with a reader (its own, who would read the guest's memory).
  const fifo = join(dir, 'planted.fifo');
  execFileSync('mkfifo', [fifo]);
  await chown(fifo, 65534, 65534);
  const reader = await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    await assert.rejects(saveDomain(host, domain.domid, fifo, { checkpoint: true }), (e: Error) => isXenError(e, 'EACCES') && /owned by another user \(uid 65534\)/.test(e.message));
    assert.equal((await reader.read(Buffer.alloc(16), 0, 16)).bytesRead, 0, 'nothing was written to it');
  } finally {
    await reader.close();
  }
  assert.equal(host.hv.domain(domain.domid).paused, false);
  await host.destroy(domain.domid);
});

/**
 * A save to `fifo` begun while it has a reader (so that its open waits for none), and the read end the test reads from, once the save has opened its write end. A
 * save that fails before that is the error; the read end's open, which would hold a libuv thread
 * until a writer came, is let through by one that writes nothing.
 */
async function savingToFifo<T>(fifo: string, save: () => Promise<T>): Promise<{ saving: Promise<T>; rd: FileHandle }> {
  // A reader that never waits, held until the test's own read end is open.
  const holder = await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const saving = save();
  saving.catch(() => {}); // awaited by the caller
  const opening = open(fifo, 'r');
  try {
    return { saving, rd: await Promise.race([opening, saving.then(() => assert.fail('the save ended before its FIFO was opened'))]) };
  } catch (e) {
    await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).then((w) => w.close(), () => {});
    await opening.then((rd) => rd.close(), () => {});
    throw e;
  } finally {
    await holder.close();
  }
}

/** What is left to read from `rd`, to its end. */
async function readToEnd(rd: FileHandle): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (;;) {
    const { bytesRead, buffer } = await rd.read(Buffer.alloc(1 << 20), 0, 1 << 20);
    if (bytesRead === 0) return Buffer.concat(parts);
    parts.push(buffer.subarray(0, bytesRead));
  }
}

/** The domain of that name, if one is left: a test that failed half-way leaves no domain to the next. */
async function destroyNamed(name: string): Promise<void> {
  const d = host.hv.liveDomainNamed(name);
  if (d) await host.destroy(d.domid).catch(() => {});
}

test('a save to a FIFO: the image is read from it, restores, and the FIFO is left as it was', T, async () => {
  const kernel = join(FIXTURES, 'ticker.ts');
  const { domain } = await host.create(parseDomainConfig(`name = "fifo-sr"
kernel = "${kernel}"
memory = 32
`, kernel).config);
  const fifo = join(dir, 'save.fifo');
  execFileSync('mkfifo', [fifo]);
  try {
    await host.xs.wait(`/local/domain/${domain.domid}/control/feature-poweroff`, (v) => v === '1');
    const { saving, rd } = await savingToFifo(fifo, () => saveDomain(host, domain.domid, fifo));
    const bytes = await readToEnd(rd).finally(() => rd.close());
    const saved = await saving;
    assert.equal(saved.bytes, bytes.length);
    assert.ok((await stat(fifo)).isFIFO(), 'the FIFO is left in place');
    const file = join(dir, 'from-fifo.save');
    await writeFile(file, bytes);
    const r = await restoreFile(host, file);
    await host.xs.wait(`/local/domain/${r.domain.domid}/control/feature-poweroff`, (v) => v === '1');
    await host.destroy(r.domain.domid);
  } finally {
    await destroyNamed('fifo-sr');
  }
});

/** What `p` settled to within `ms` ('pending' if it had not): a bound on the wait, not on the speed. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | Error | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)));
  try {
    return await Promise.race([p.catch((e: Error) => e), bound]);
  } finally {
    clearTimeout(timer);
  }
}

test('a save to a FIFO with no reader fails (ENXIO) once its wait for one is up, holding no I/O thread, and one to a character device is refused before it is opened (EINVAL); the guest runs on', T, async () => {
  const kernel = join(FIXTURES, 'ticker.ts');
  const { domain } = await host.create(parseDomainConfig(`name = "noreader-sr"\nkernel = "${kernel}"\nmemory = 32\n`, kernel).config);
  const fifo = join(dir, 'noreader.fifo');
  execFileSync('mkfifo', [fifo]);
  try {
    const outcome = await within(saveDomain(host, domain.domid, fifo, { checkpoint: true, timeoutMs: 500 }), 20_000);
    // Before, the open waited for a reader: one that opens and goes lets it (and the test) end.
    if (outcome === 'pending') await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK).then((rd) => rd.close());
    assert.ok(outcome instanceof Error && isXenError(outcome, 'ENXIO') && /a FIFO with no reader/.test(outcome.message), `the save's outcome: ${outcome instanceof Error ? outcome.message : String(outcome)}`);
    assert.ok((await stat(fifo)).isFIFO(), 'the FIFO is left in place');
    // Before, /dev/null was written (and a tty or a device whose write blocks would have held an I/O thread).
    await assert.rejects(saveDomain(host, domain.domid, '/dev/null', { checkpoint: true }), (e: Error) => isXenError(e, 'EINVAL') && /character device; it must be a regular file or a FIFO$/.test(e.message));
    assert.equal(host.hv.domain(domain.domid).paused, false);
    assert.equal(domain.shutdownReason, null);
  } finally {
    await destroyNamed('noreader-sr');
  }
});

test("saves to FIFOs whose readers stopped reading, as many as libuv's I/O threads: the host's file I/O goes on, and a destroy fails each at once (ESRCH)", T, async () => {
  const kernel = join(FIXTURES, 'filler.ts');
  // libuv's pool: 4 threads unless the environment says otherwise.
  const threads = Number(process.env['UV_THREADPOOL_SIZE'] ?? 4);
  const holders: FileHandle[] = [];
  const names = Array.from({ length: threads }, (_, i) => `stalled-sr${i}`);
  try {
    const saves: { domain: Domain; saving: Promise<unknown> }[] = [];
    for (const name of names) {
      // 1 MiB of its RAM filled: far more than a pipe holds.
      const { domain } = await host.create(parseDomainConfig(`name = "${name}"\nkernel = "${kernel}"\nmemory = 32\nextra = "mb=1"\n`, kernel).config);
      await host.xs.wait(`/local/domain/${domain.domid}/data/filler`, (v) => v === 'filled');
      const fifo = join(dir, `${name}.fifo`);
      execFileSync('mkfifo', [fifo]);
      // A reader that never reads: the image stalls in its frames.
      holders.push(await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK));
      const saving = saveDomain(host, domain.domid, fifo);
      saving.catch(() => {}); // awaited below
      saves.push({ domain, saving });
    }
    assert.ok(await waitFor(() => saves.every(({ domain }) => domain.suspendRecord !== null), 20_000), 'every guest is suspended');
    // Time for each save to write its headers and stall in its frames (a pipe takes 64 KiB).
    await new Promise((r) => setTimeout(r, 1000));
    // Before, each stalled write held one of libuv's threads: a stat then waited for a reader to read.
    const statted = await within(stat(dir), 20_000);
    assert.ok(!(statted === 'pending' || statted instanceof Error), `the host's file I/O: ${String(statted)}`);
    for (const { domain, saving } of saves) {
      await host.destroy(domain.domid);
      const outcome = await within(saving, 20_000);
      assert.ok(outcome instanceof Error && isXenError(outcome, 'ESRCH'), `the save's outcome: ${outcome instanceof Error ? outcome.message : String(outcome)}`);
    }
  } finally {
    // Before, the stalled writes end only once their readers go (EPIPE).
    for (const h of holders) await h.close();
    for (const name of names) await destroyNamed(name);
  }
});

test('a save image of more than 64 MiB restores, its frames intact (the bound on an image was computed in 32 bits and came out at 59 MiB)', T, async () => {
  const kernel = join(FIXTURES, 'filler.ts');
  const { domain } = await host.create(parseDomainConfig(`name = "big-sr"\nkernel = "${kernel}"\nmemory = 512\nextra = "mb=80"\n`, kernel).config);
  try {
    await host.xs.wait(`/local/domain/${domain.domid}/data/filler`, (v) => v === 'filled', { timeout: 60_000 });
    const file = join(dir, 'big.save');
    await saveDomain(host, domain.domid, file);
    assert.ok((await stat(file)).size > 80 << 20);
    const r = await restoreFile(host, file);
    assert.equal(await host.xs.wait(`/local/domain/${r.domain.domid}/data/filler`, (v) => v === 'resumed' || v === 'corrupt', { timeout: 60_000 }), 'resumed');
    await host.destroy(r.domain.domid);
  } finally {
    await destroyNamed('big-sr');
  }
});

test("a destroy during a save's write to a FIFO whose reader stopped reading: it frees the guest's memory at once, the save fails (ESRCH), and no frame goes out after the destroy, so none of the next domain's", T, async () => {
  // 4 MiB of its RAM filled with a pattern: far more than a pipe holds.
  const kernel = join(FIXTURES, 'filler.ts');
  const { domain } = await host.create(parseDomainConfig(`name = "race-sr"\nkernel = "${kernel}"\nmemory = 32\nextra = "mb=4"\n`, kernel).config);
  const { domid } = domain;
  const fifo = join(dir, 'race.fifo');
  execFileSync('mkfifo', [fifo]);
  try {
    await host.xs.wait(`/local/domain/${domid}/data/filler`, (v) => v === 'filled');
    // A FIFO read only when the test says: the save's write stalls past the pipe's 64 KiB.
    const { saving, rd } = await savingToFifo(fifo, () => saveDomain(host, domid, fifo));
    try {
      // Past the image's headers, into its frames: the piece then in flight holds frames.
      const head = Buffer.alloc(256 << 10);
      let bytesRead = 0;
      for (let n = -1; n !== 0 && bytesRead < head.length;) bytesRead += (n = (await rd.read(head, bytesRead, head.length - bytesRead)).bytesRead);
      assert.equal(bytesRead, head.length, 'the write went on into the frames');
      const first = firstRamPfn(domain.view.geometry);
      const hwm = Atomics.load(domain.view.ctl, CB_RAM_HWM);
      assert.ok((hwm - first) * PAGE_SIZE >= 4 << 20, `${hwm - first} frames populated`);
      const inHeap = () => { const { freeBytes, scrubbingBytes } = host.hv.heap.stats(); return freeBytes + scrubbingBytes; };
      const before = inHeap();

      // Destroyed while the write stalls: the destroy, and the save's failure, wait for no reader.
      await host.destroy(domid);
      assert.equal(host.hv.findDomain(domid), undefined, 'reaped');
      await assert.rejects(saving, (e: Error) => {
        assert.ok(isXenError(e, 'ESRCH'), e.message);
        assert.match(e.message, /destroyed while it was being saved/);
        return true;
      });
      assert.ok(await waitFor(() => inHeap() - before === domain.view.buffers.memory.byteLength, 20_000), 'its memory went back to the domheap, the write still stalled');
      assert.ok(await waitFor(() => host.hv.heap.stats().scrubbingBytes === 0, 20_000), 'the scrubber is done');
      // A domain of its size comes next and writes its RAM: the piece still in flight is a copy.
      const { ramFrames, maxGrantFrames } = domain.view.geometry;
      const next = host.hv.createDomain({ name: 'race-next', ramFrames, maxGrantFrames });
      try {
        new Uint8Array(next.view.buffers.memory, first * PAGE_SIZE).fill(0xa5);
        const bytes = Buffer.concat([head.subarray(0, bytesRead), await readToEnd(rd)]);
        const pages = new Map<number, Uint8Array>();
        const read = await readImage(new ByteSource(Readable.from([bytes]), { stallMs: 5000 }), () => pages)
          .then((img) => `hwm ${img.hwm}`, (e: Error) => e.message);
        assert.notEqual(read, `hwm ${hwm}`, 'the image stops where the save did');
        // The write end closed at the destroy, the piece then pending with it (before, an I/O
        // thread went on writing that piece, a copy, for as long as the reader took).
        assert.equal(pages.size, 0, 'no frame went out after the destroy');
      } finally {
        await host.hv.destroyDomain(next.domid);
      }
      assert.ok((await stat(fifo)).isFIFO(), 'the FIFO is left in place');
    } finally {
      await rd.close();
    }
  } finally {
    await destroyNamed('race-sr');
  }
});

for (const [fixture, why] of [['stubborn.ts', 'a guest that never yields'], ['unclonable.ts', 'a state that cannot be cloned']] as const) {
  test(`a save times out on ${why}; the guest runs on and the file is gone`, T, async () => {
    const kernel = join(FIXTURES, fixture);
    const built = await host.create(parseDomainConfig(`name = "stuck-sr"\nkernel = "${kernel}"\nmemory = 32\n`, kernel).config);
    await built.vcpu.mainCalled;
    if (fixture === 'unclonable.ts') await host.xs.wait(`/local/domain/${built.domain.domid}/data/ready`, (v) => v === '1');
    const file = join(dir, `${fixture}.save`);
    // The stubborn guest never takes the request: its cancel is not held.
    const release = fixture === 'unclonable.ts' ? cancelOnceTaken(host, built.domain.domid) : () => {};
    try {
      await assert.rejects(saveDomain(host, built.domain.domid, file, { timeoutMs: 500 }),
        (e: Error) => isXenError(e, 'ETIMEDOUT') && /guest did not suspend/.test(e.message));
    } finally {
      release();
    }
    assert.equal(built.domain.shutdownReason, null);
    await assert.rejects(readFile(file), { code: 'ENOENT' });
    if (fixture === 'unclonable.ts') await consoleMatch(built.domain.domid, /suspend refused: .*could not be cloned/);
    await host.destroy(built.domain.domid);
  });
}

test('a restore goes into a pre-built shell: kv-store resumes there with its disk and vif', T, async () => {
  const shellHost = await Host.start({ poolSize: 1, shells: { count: 1, memory: 32 } });
  try {
    const shellReady = async () => {
      for (let i = 0; i < 600 && shellHost.shells.ready < 1; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(shellHost.shells.ready, 1, 'the shell pool filled');
    };
    await shellReady();
    // A parked shell runs (unpaused): its physmap is not the toolstack's to restore.
    const shell = shellHost.hv.domains().find((d) => d.name.startsWith('shell/'))!;
    assert.throws(() => shellHost.hv.restorePhysmap(shell.domid, 0), (e: Error) => isXenError(e, 'EBUSY'));
    const image = join(dir, 'kv-shell.img');
    await writeFile(image, new Uint8Array(4 << 20));
    const built = await shellHost.create(kvConfig('kv-shell', image));
    assert.equal(await askKv(shellHost, built.domain.domid, 'set colour green'), 'ok');
    await shellReady();
    const file = join(dir, 'kv-shell.save');
    await saveDomain(shellHost, built.domain.domid, file);
    await shellReady();
    const shellDomid = shellHost.hv.domains().find((d) => d.name.startsWith('shell/'))!.domid;
    const r = await restoreFile(shellHost, file);
    assert.equal(r.domain.domid, shellDomid, 'the restored domain is the shell that waited');
    assert.equal(r.domain.name, 'kv-shell');
    assert.equal(await askKv(shellHost, r.domain.domid, 'get colour'), 'ok green');
    assert.equal(await askKv(shellHost, r.domain.domid, 'get boots'), 'ok 1', 'resumed from its state in the shell');
    const [disk] = await listDisks(shellHost.devices, r.domain.domid);
    assert.equal(disk?.vdev, 'xvda');
    const [vif] = await listVifs(shellHost.devices, r.domain.domid);
    assert.equal(vif?.mac, MAC);
    await shellHost.destroy(r.domain.domid);
  } finally {
    await shellHost.close();
  }
});

/** www's /api/status through its forward, once it answers (bounded). */
async function wwwStatus(port: number): Promise<{ requests: number; uptime_s: number }> {
  const once = () => new Promise<string>((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/api/status', timeout: 5000 }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (c: string) => (body += c));
      r.on('end', () => resolve(body));
    }).on('error', reject).on('timeout', function (this: { destroy(): void }) {
      this.destroy();
    });
  });
  let last: unknown;
  for (let i = 0; i < 150; i++) {
    try {
      return JSON.parse(await once()) as { requests: number; uptime_s: number };
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`www never answered on ${port}: ${(last as Error)?.message}`);
}

test('examples/www carries its counters and uptime across save and restore', T, async () => {
  const kernel = join(EXAMPLES, 'www/www.ts');
  const port = await freePort();
  const { domain } = await host.create(parseDomainConfig(`name = "www-sr"
kernel = "${kernel}"
memory = 64
vif = [ 'bridge=xenbr-www-sr' ]
`
    + `forward = [ 'tcp:${port}:80' ]
extra = "port=80"
`, kernel).config);
  await wwwStatus(port);
  await wwwStatus(port);
  const before = await wwwStatus(port);
  assert.ok(before.requests >= 3);
  const file = join(dir, 'www.save');
  await saveDomain(host, domain.domid, file);
  const r = await restoreFile(host, file);
  const after = await wwwStatus(port);
  assert.equal(after.requests, before.requests + 1, 'the count went on from where it was');
  assert.ok(after.uptime_s >= before.uptime_s, `uptime ${after.uptime_s} s after ${before.uptime_s} s`);
  assert.match(consoleText(r.domain.domid), new RegExp(`www: resumed after ${before.requests} requests`));
  await host.destroy(r.domain.domid);
});
