// A shared-pool create whose domain is destroyed while its realm is being placed (xl destroy
// during the create, or a host's close past its wait): the create fails with ESRCH, and the
// realm is evicted and its pCPU slot freed (before, it stayed resident for a dying domain).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { isXenError } from '../../../src/errors.js';
import { GNTTAB_RESERVED_CONSOLE } from '../../../src/hypervisor/layout.js';
import { parseDomainConfig } from '../../../src/toolstack/domconfig.js';
import { Host } from '../../../src/toolstack/host.js';
import { FIXTURES } from '../../support/cli.js';
import { waitFor } from '../../support/gateway.js';
import { scratchStateDir } from '../../support/state-dir.js';

scratchStateDir('cpupool-destroy');

const KERNEL = join(FIXTURES, 'whoami.ts');

test('a domain destroyed while its realm is placed on a shared pCPU fails its create, and its realm leaves the pCPU', { timeout: 120_000 }, async (t) => {
  const host = await Host.start();
  t.after(() => host.close());
  const pool = await host.createCpupool('dense', 1, 'credit');
  const config = parseDomainConfig(`name = "doomed"\nkernel = "${KERNEL}"\nmemory = 32\npool = "dense"\n`, KERNEL).config;
  let unmap: (() => void) | undefined;
  let doomed: number | undefined;
  // The pCPU's answer to the place message comes in a later task: the domain is destroyed in
  // between, with one of its pages still mapped by dom0 so that it stays in the table, dying.
  const post = Worker.prototype.postMessage;
  t.after(() => void (Worker.prototype.postMessage = post));
  Worker.prototype.postMessage = function (this: Worker, m: { type?: string; domid?: number }, transfer?: Parameters<typeof post>[1]) {
    post.call(this, m, transfer);
    if (m?.type !== 'place' || doomed !== undefined) return;
    doomed = m.domid!;
    const mapped = host.hv.dom0Hypercalls.grantMap(doomed, GNTTAB_RESERVED_CONSOLE, true);
    unmap = () => host.hv.dom0Hypercalls.grantUnmap(mapped.handle);
    void host.destroy(doomed);
  };
  await assert.rejects(host.create(config), (e) => isXenError(e, 'ESRCH'));
  Worker.prototype.postMessage = post;
  assert.ok(doomed !== undefined && unmap, 'the domain was destroyed in the window');
  // 30 s: a bound, not a timing.
  assert.ok(await waitFor(() => !pool.hosts(doomed!), 30_000), 'its realm left the pCPU');
  unmap!();
  assert.deepEqual(host.domains().map((d) => d.domid), [0], 'reaped once unmapped');
  // The pool still serves a create.
  const ok = await host.create(parseDomainConfig(`name = "ok"\nkernel = "${KERNEL}"\nmemory = 32\npool = "dense"\n`, KERNEL).config);
  await ok.vcpu.mainCalled;
  await host.destroy(ok.domain.domid);
});
