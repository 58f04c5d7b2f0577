// xl save and xl restore of a 32 MiB unikernel (memory=32: 8 MiB of I/O memory, 6 MiB of it
// filled by the guest, ~24 MiB of JS heap, which does not travel), each against the same-run
// limit: writing the same number of bytes to a file of the same directory, and reading them
// back. Save: from the request to the file written, synced and the domain destroyed. Restore:
// from the request to the restored guest's main(os) being called. Two hosts in this process,
// their samples alternating: one keeps `--shells=N` pre-built domains (as `xenode host
// --shells N`) and restores into one, the other builds the domain from a warm vCPU pool.
//
//   npm run bench -- saverestore [--samples=20] [--mb=6] [--shells=1]
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { restoreFile } from '../src/migration/restore.js';
import { saveDomain } from '../src/migration/save.js';
import { memorySplit, type BuiltDomain } from '../src/toolstack/builder.js';
import { parseDomainConfig } from '../src/toolstack/domconfig.js';
import { Host } from '../src/toolstack/host.js';
import { emit, numberOptions, summarize } from './support/harness.js';

const opts = numberOptions({ samples: 20, mb: 6, shells: 1 });
const KERNEL = fileURLToPath(new URL('../../bench/guests/ckpt.ts', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'xenode-bench-sr-'));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const config = parseDomainConfig(`name = "ckpt"\nkernel = "${KERNEL}"\nmemory = 32\nextra = "mb=${opts.mb}"\n`, KERNEL).config;

const PARTS = ['suspend', 'image', 'sync', 'destroy', 'read', 'build', 'boot'] as const;

class Lane {
  readonly save: number[] = [];
  readonly restore: number[] = [];
  readonly parts = Object.fromEntries(PARTS.map((k) => [k, [] as number[]])) as Record<(typeof PARTS)[number], number[]>;
  intoShell = 0;
  built!: BuiltDomain;

  private constructor(readonly host: Host, readonly name: string) {}

  static async start(name: string, shells: number): Promise<Lane> {
    const host = await Host.start({ poolSize: 2, ...(shells > 0 && { shells: { count: shells, memory: 32 } }) });
    // Pre-started vCPU threads for the guest's heap size, as the host daemon keeps them.
    host.pool.warm({ heapMb: memorySplit(32).heapMb });
    const lane = new Lane(host, name);
    lane.built = await host.create(config);
    await host.xs.wait(`/local/domain/${lane.built.domain.domid}/data/ckpt`, (v) => v === 'filled', { timeout: 30_000 });
    return lane;
  }

  /** One save and restore; the file is left for the limit's read. */
  async cycle(file: string, keep: boolean): Promise<number> {
    const { host } = this;
    const t0 = performance.now();
    const saved = await saveDomain(host, this.built.domain.domid, file);
    const t1 = performance.now();
    const r = await restoreFile(host, file);
    await r.vcpu.mainCalled;
    const t2 = performance.now();
    const ok = await host.xs.wait(`/local/domain/${r.domain.domid}/data/ckpt`, (v) => v === 'intact' || v === 'corrupt', { timeout: 30_000 });
    if (ok !== 'intact') throw new Error(`${this.name}: restored guest's memory is ${ok}`);
    this.built = r;
    if (keep) {
      this.save.push(t1 - t0);
      this.restore.push(t2 - t1);
      if (r.postedAt !== undefined) this.intoShell++;
      const { parts: p } = this;
      p.suspend.push(saved.ms.suspend);
      p.image.push(saved.ms.image);
      p.sync.push(saved.ms.sync);
      p.destroy.push(t1 - t0 - saved.ms.suspend - saved.ms.image - saved.ms.sync);
      p.read.push(r.ms.read);
      p.build.push(r.ms.build);
      p.boot.push(t2 - t1 - r.ms.read - r.ms.build);
    }
    return saved.bytes;
  }

  result(): Record<string, unknown> {
    const s = summarize(this.save);
    const r = summarize(this.restore);
    return {
      save_ms: { median: s.median, p99: s.p99 },
      restore_to_main_ms: { median: r.median, p99: r.p99 },
      restores_into_a_shell: this.intoShell,
      breakdown_median_ms: Object.fromEntries(PARTS.map((k) => [k, summarize(this.parts[k]).median])),
    };
  }
}

const shell = await Lane.start('shell', opts.shells);
const plain = await Lane.start('no shell', 0);
const writeMs: number[] = [];
const readMs: number[] = [];
let bytes = 0;
for (let i = 0; i < opts.samples + 2; i++) {
  const keep = i >= 2; // the first two warm the JIT and caches
  for (const lane of [shell, plain]) {
    const file = join(dir, `ckpt-${i}.save`);
    await sleep(200); // the shell pool refills between restores, as on a host not restoring back to back
    bytes = await lane.cycle(file, keep);
    // The same-run limit: the same bytes through the same file system.
    const data = await readFile(file);
    const limit = join(dir, `limit-${i}`);
    const t3 = performance.now();
    await writeFile(limit, data);
    const t4 = performance.now();
    await readFile(limit);
    const t5 = performance.now();
    await rm(file);
    await rm(limit);
    if (keep) {
      writeMs.push(t4 - t3);
      readMs.push(t5 - t4);
    }
  }
}
await shell.host.close();
await plain.host.close();
await rm(dir, { recursive: true, force: true });

const w = summarize(writeMs);
const rd = summarize(readMs);
const into = shell.result();
emit({
  bench: 'saverestore',
  samples: opts.samples,
  guest_memory_mib: 32,
  image_mib: bytes / 2 ** 20,
  ...into,
  no_shell: plain.result(),
  limit_write_same_bytes_ms: { median: w.median },
  limit_read_same_bytes_ms: { median: rd.median },
  save_over_write: summarize(shell.save).median / w.median,
  restore_over_read: summarize(shell.restore).median / rd.median,
  goals_ms: { save: 30, restore: 20 },
});
