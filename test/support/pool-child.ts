// The frame of a child process that runs a hostile guest in a shared pool of one pCPU, next to a
// ticking pool mate, apart from the test runner: for guests whose failure mode is the whole
// process (an abort, or a throw on dom0's thread). The body runs the guest and prints what the
// test checks; then the child prints whether the mate still ticks, and cleans up.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDomainConfig } from '../../src/toolstack/domconfig.js';
import { Host } from '../../src/toolstack/host.js';
import { FIXTURES } from './cli.js';
import { scratchStateDir } from './state-dir.js';

export interface PoolChild {
  readonly host: Host;
  readonly dir: string;
  /** A domain's console so far. */
  text(domid: number): string;
  /** A config for `kernel` (a path, or a name under test/fixtures/guests) in the pool; `extra` replaces the pool line. */
  config(name: string, kernel: string, extra?: string): ReturnType<typeof parseDomainConfig>['config'];
}

export async function poolChild(pool: string, body: (c: PoolChild) => Promise<void>): Promise<void> {
  scratchStateDir(pool);
  const dir = await mkdtemp(join(tmpdir(), `xenode-${pool}-`));
  const host = await Host.start({ log: () => {} });
  const output = new Map<number, string>();
  host.consoled.on('output', (domid, data) => output.set(domid, (output.get(domid) ?? '') + Buffer.from(data).toString('utf8')));
  const text = (domid: number) => output.get(domid) ?? '';
  const config = (name: string, kernel: string, extra = `pool = "${pool}"\n`) =>
    parseDomainConfig(`name = "${name}"\nkernel = "${kernel.includes('/') ? kernel : join(FIXTURES, kernel)}"\nmemory = 16\n${extra}`, join(dir, `${name}.cfg`)).config;
  try {
    await host.createCpupool(pool, 1);
    const mate = await host.create(config(`${pool}-mate`, 'ticker.ts'));
    const ticks = () => (text(mate.domain.domid).match(/tick/g) ?? []).length;
    await body({ host, dir, text, config });
    // The mate ticks every 50 ms: two more within 10 s, or it stopped.
    const before = ticks();
    for (let i = 0; i < 200 && ticks() < before + 2; i++) await sleep(50);
    process.stdout.write(`MATE ${String(mate.domain.shutdownReason)} ${ticks() >= before + 2 ? 'ticks on' : 'stopped'}\n`);
  } finally {
    await host.close();
    await rm(dir, { recursive: true, force: true });
  }
}
