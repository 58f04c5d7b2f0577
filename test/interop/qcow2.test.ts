// qcow2 interchange with Debian's qemu-utils: images xenode writes pass `qemu-img check` and
// read the same through `qemu-img convert/compare/map/info`; images qemu-img makes (plain,
// compressed, with zero clusters, over raw and qcow2 backing files) are read and written by
// xenode, and still pass `qemu-img check` afterwards.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { createQcow2 } from '../../src/storage/qcow2/create.js';
import { Qcow2Disk } from '../../src/storage/qcow2/qcow2.js';
import { onFdatasync } from '../support/fdatasync.js';
import { rng } from '../support/random.js';

const run = promisify(execFile);
const missing = ['qemu-img', 'qemu-io'].filter((t) => !existsSync(`/usr/bin/${t}`));
const skip = missing.length > 0 ? `qemu-utils not installed (apt-get install qemu-utils): missing ${missing.join(', ')}` : false;
if (skip) console.log(`# skipping: ${skip}`);

async function qemu(tool: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(`/usr/bin/${tool}`, args, { timeout: 30_000 });
  return stdout;
}

/** `qemu-img check`'s verdict: 0 clean, 3 leaked clusters only; anything else is corruption. */
async function check(path: string): Promise<number> {
  try {
    await qemu('qemu-img', 'check', '-f', 'qcow2', path);
    return 0;
  } catch (e) {
    const err = e as { code: number; stdout: string };
    assert.equal(err.code, 3, `qemu-img check ${path}:\n${err.stdout}`);
    return 3;
  }
}

async function tmp(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'xenode-qcow2-interop-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Seeded writes of 1..40 sectors, some across cluster boundaries, to the image and to a reference buffer. */
async function scribble(d: Qcow2Disk, ref: Uint8Array, seed: number, count = 60): Promise<void> {
  const rand = rng(seed);
  for (let i = 0; i < count; i++) {
    const n = 1 + Math.floor(rand() * 40);
    const sector = Math.floor(rand() * (d.sectors - n));
    const buf = new Uint8Array(n * 512);
    for (let b = 0; b < buf.byteLength; b += 64) buf[b] = 1 + Math.floor(rand() * 255);
    await d.write(sector, [buf]);
    ref.set(buf, sector * 512);
    if (i % 16 === 0) await d.flush();
  }
}

test('an image xenode writes (with 64 KiB and 4 KiB clusters) is clean and reads the same through qemu-img', { skip }, async (t) => {
  const dir = await tmp(t);
  for (const clusterBits of [16, 12]) {
    const path = join(dir, `x${clusterBits}.qcow2`);
    await createQcow2(path, { size: 8 << 20, clusterBits });
    const ref = new Uint8Array(8 << 20);
    const d = await Qcow2Disk.open(path, { readOnly: false });
    await scribble(d, ref, clusterBits);
    await d.close();
    await writeFile(join(dir, 'ref.raw'), ref);
    assert.equal(await check(path), 0);
    await qemu('qemu-img', 'compare', '-f', 'qcow2', '-F', 'raw', path, join(dir, 'ref.raw'));
    await qemu('qemu-img', 'convert', '-f', 'qcow2', '-O', 'raw', path, join(dir, 'out.raw'));
    assert.deepEqual(await readFile(join(dir, 'out.raw')), Buffer.from(ref));
    const info = JSON.parse(await qemu('qemu-img', 'info', '--output=json', path)) as Record<string, unknown>;
    assert.equal(info['format'], 'qcow2');
    assert.equal(info['virtual-size'], 8 << 20);
    assert.equal(info['cluster-size'], 2 ** clusterBits);
    // The map's data extents cover exactly the clusters written.
    const map = JSON.parse(await qemu('qemu-img', 'map', '--output=json', path)) as { start: number; length: number; data: boolean }[];
    const cs = 2 ** clusterBits;
    for (let c = 0; c < (8 << 20) / cs; c++) {
      const written = ref.subarray(c * cs, (c + 1) * cs).some((x) => x !== 0);
      const mapped = map.some((e) => e.data && e.start <= c * cs && c * cs < e.start + e.length);
      if (written) assert.ok(mapped, `cluster ${c} is mapped`);
    }
  }
});

test('an image xenode creates over a raw and a qcow2 backing file: qemu-img reads the chain the same', { skip }, async (t) => {
  const dir = await tmp(t);
  const base = new Uint8Array(4 << 20);
  for (let i = 0; i < base.byteLength; i += 4096) base[i] = (i >> 12) & 0xff;
  await writeFile(join(dir, 'base.raw'), base);
  await qemu('qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', join(dir, 'base.raw'), join(dir, 'base.qcow2'));
  for (const [file, format] of [['base.raw', 'raw'], ['base.qcow2', 'qcow2']] as const) {
    const path = join(dir, `top-${format}.qcow2`);
    await createQcow2(path, { backing: { file, format } });
    const ref = base.slice();
    const d = await Qcow2Disk.open(path, { readOnly: false });
    await scribble(d, ref, 7);
    await d.close();
    assert.equal(await check(path), 0);
    const info = JSON.parse(await qemu('qemu-img', 'info', '--output=json', path)) as Record<string, unknown>;
    assert.equal(info['backing-filename'], file);
    assert.equal(info['backing-filename-format'], format);
    await writeFile(join(dir, 'ref.raw'), ref);
    await qemu('qemu-img', 'compare', '-f', 'qcow2', '-F', 'raw', path, join(dir, 'ref.raw'));
  }
});

test('images qemu-img makes: plain, compressed, zero clusters, over raw and qcow2 backing files; xenode reads and writes them', { skip }, async (t) => {
  const dir = await tmp(t);
  const data = new Uint8Array(4 << 20);
  const rand = rng(99);
  for (let i = 0; i < data.byteLength; i += 16) data[i] = Math.floor(rand() * 256);
  data.fill(0, 1 << 20, 2 << 20); // a hole
  await writeFile(join(dir, 'data.raw'), data);
  await qemu('qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', join(dir, 'data.raw'), join(dir, 'plain.qcow2'));
  await qemu('qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', join(dir, 'data.raw'), join(dir, 'backing.qcow2'));
  await qemu('qemu-img', 'convert', '-c', '-f', 'raw', '-O', 'qcow2', join(dir, 'data.raw'), join(dir, 'comp.qcow2'));
  await qemu('qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', '-o', 'compat=0.10', join(dir, 'data.raw'), join(dir, 'v2.qcow2'));
  // Backing files of their own: the images above them are written below, the backing files never.
  await writeFile(join(dir, 'backing.raw'), data);
  await qemu('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', 'backing.raw', '-F', 'raw', join(dir, 'over-raw.qcow2'));
  await qemu('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', 'backing.qcow2', '-F', 'qcow2', join(dir, 'over-qcow2.qcow2'));
  // Zero clusters over the backing file (the v3 zero flag), one of them preallocated.
  await qemu('qemu-io', '-f', 'qcow2', '-c', 'write -z 0 128k', '-c', 'write 3m 64k', '-c', 'write -z 3m 64k', join(dir, 'over-qcow2.qcow2'));
  const zeroed = data.slice();
  zeroed.fill(0, 0, 128 << 10);
  zeroed.fill(0, 3 << 20, (3 << 20) + (64 << 10));
  const images: [string, Uint8Array][] = [['plain', data], ['comp', data], ['v2', data], ['over-raw', data], ['over-qcow2', zeroed]];
  for (const [name, want] of images) {
    const path = join(dir, `${name}.qcow2`);
    const r = await Qcow2Disk.open(path, { readOnly: true });
    const got = new Uint8Array(want.byteLength);
    await r.read(0, [got]);
    await r.close();
    assert.ok(Buffer.from(got).equals(Buffer.from(want)), `${name}: xenode reads what qemu-img wrote`);
    // Partial writes everywhere: into allocated, compressed, zero and unallocated clusters.
    const ref = want.slice();
    const d = await Qcow2Disk.open(path, { readOnly: false });
    await scribble(d, ref, name.length, 80);
    await d.close();
    assert.equal(await check(path), 0, `${name}: qemu-img check after xenode's writes`);
    await writeFile(join(dir, 'ref.raw'), ref);
    await qemu('qemu-img', 'compare', '-f', 'qcow2', '-F', 'raw', path, join(dir, 'ref.raw'));
  }
});

test('clusters a write replaced are released durably by the flush: the image as last synced before a close has no leaks', { skip }, async (t) => {
  const dir = await tmp(t);
  const data = new Uint8Array(1 << 20);
  const rand = rng(5);
  for (let i = 0; i < data.byteLength; i += 16) data[i] = Math.floor(rand() * 256);
  await writeFile(join(dir, 'data.raw'), data);
  const path = join(dir, 'comp.qcow2');
  // Compressed clusters: a write into one allocates a new cluster and releases the old one.
  await qemu('qemu-img', 'convert', '-c', '-f', 'raw', '-O', 'qcow2', join(dir, 'data.raw'), path);
  const durable = join(dir, 'durable.qcow2');
  const d = await Qcow2Disk.open(path, { readOnly: false });
  // What a power loss would keep at the least: the file as it was when its last sync returned.
  await onFdatasync(() => copyFileSync(path, durable), async () => {
    for (let c = 0; c < 4; c++) await d.write(c * 128 + 8, [new Uint8Array(4096).fill(c + 1)]);
    await d.flush();
    // Nothing changed since the flush: the close writes and syncs nothing more.
    await d.close();
  });
  assert.equal(await check(path), 0, 'the image as closed');
  assert.equal(await check(durable), 0, 'the image as last synced: every release in it');
});
