// A cold create (no pooled thread) starts its vCPU thread as soon as the domain's memory is
// granted, so that the runtime loads while dom0 builds the domain (toolstack/builder.ts). A
// build that fails after that point must end the thread: a thread left waiting for a boot
// message would hold its memory and keep the host's process alive.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isXenError } from '../../../src/errors.js';
import { ToolstackApi } from '../../../src/toolstack/api.js';
import { Host } from '../../../src/toolstack/host.js';
import { HostLog } from '../../../src/toolstack/hostlog.js';
import { FIXTURES } from '../../support/cli.js';

const KERNEL = join(FIXTURES, 'whoami.ts');
const threads = () => readdirSync('/proc/self/task').length;

/** Resolves once `ok()` holds, polling; rejects after `ms` (a bound, not a timing assertion). */
async function until(ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a cold create whose disk is refused ends the vCPU thread it started; the next create is served', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'xenode-cold-'));
  const host = await Host.start({ poolSize: 0 });
  t.after(async () => {
    await host.close();
    await rm(dir, { recursive: true, force: true });
  });
  const api = new ToolstackApi(host, { log: new HostLog() });
  // A directory as the disk's target: blkback refuses it after the domain is built.
  const refused = (name: string) => api.call('create', {
    file: KERNEL, text: `name = "${name}"\nkernel = "${KERNEL}"\nmemory = 32\ndisk = [ 'vdev=xvda, target=${dir}' ]\n`,
  });
  // The first one also starts what a host starts once (libuv's pool, the scrubber).
  await assert.rejects(refused('r0'), (e) => isXenError(e, 'ENODEV'));
  await until(() => host.domains().every((d) => d.domid === 0), 30_000);
  const before = threads();
  for (let i = 1; i <= 4; i++) await assert.rejects(refused(`r${i}`), (e) => isXenError(e, 'ENODEV'));
  assert.deepEqual(host.domains().map((d) => d.domid), [0]);
  // Four threads left running would never end: wait for the count to come back.
  await until(() => threads() <= before, 30_000);
  const { domid } = await api.call('create', { file: KERNEL, text: `name = "ok"\nkernel = "${KERNEL}"\nmemory = 32\n` });
  assert.ok(domid > 0);
  await host.destroy(domid);
});
